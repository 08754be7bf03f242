"""Random homes: reproducible, realistic, every domain, lossless documents, clear errors."""

from __future__ import annotations

import json

import pytest

from edgeward.runtime.eval_set import load_eval_home
from edgeward.runtime.homes import (
    LANGUAGES,
    NAME_MODIFIERS,
    SPOKEN_AREAS,
    HomeError,
    area_key,
    device_words_in,
    domains,
    floor_key,
    fold,
    home_from_json,
    home_to_json,
    random_home,
    spoken_name,
    translations,
    with_home_places,
    with_spoken_names,
)


def test_same_seed_same_home_and_other_seed_other_home() -> None:
    assert random_home(7, 40, "fr").version == random_home(7, 40, "fr").version
    assert random_home(7, 40, "fr").version != random_home(8, 40, "fr").version
    assert random_home(7, 40, "fr").version != random_home(7, 40, "de").version


@pytest.mark.parametrize("size", [3, 30, 500])
@pytest.mark.parametrize("language", LANGUAGES)
def test_size_and_domains(size: int, language: str) -> None:
    home = random_home(size, size, language)
    assert len(home) == size
    if size >= 30:
        assert {e.domain for e in home.entities.values()} == set(domains())
    for entity in home.entities.values():
        assert entity.area is None or entity.area in home.areas
        assert entity.entity_id.split(".")[0] == entity.domain


def test_names_are_in_the_home_language() -> None:
    home = random_home(1, 60, "de")
    keys = {area_key(a) for a in home.areas}
    assert None not in keys
    assert any(a in home.areas for a in ("Küche", "Wohnzimmer", "Schlafzimmer"))
    floors = {e.floor for e in home.entities.values() if e.floor}
    assert floors and all(floor_key(f) is not None for f in floors)


def test_document_round_trip_is_lossless() -> None:
    home = random_home(11, 120, "es")
    doc = json.loads(json.dumps(home_to_json(home)))
    again = home_from_json(doc)
    assert again.version == home.version
    assert again.entities == home.entities


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "must be a JSON object"),
        ({"entities": []}, "at least one entity"),
        ({"entities": [{"entity_id": "Light Kitchen", "name": "x"}]}, "entity_id must look like"),
        ({"entities": [{"entity_id": "toaster.a", "name": "x"}]}, "unknown domain 'toaster'"),
        (
            {"entities": [{"entity_id": "light.a", "name": "x", "features": {"dim": True}}]},
            "bad features",
        ),
        ({"entities": [{"entity_id": "light.a", "name": "x", "colour": 1}]}, "unknown keys"),
        ({"areas": [{"floor": "x"}], "entities": []}, "areas[0] needs a string 'name'"),
    ],
)
def test_bad_documents_name_the_problem(doc: object, message: str) -> None:
    with pytest.raises(HomeError, match=message.replace("[", r"\[").replace("]", r"\]")):
        home_from_json(doc, "home.json")


def test_bad_size_and_language() -> None:
    with pytest.raises(HomeError, match=r"size must be 3\.\.500, got 501"):
        random_home(1, 501)
    with pytest.raises(HomeError, match="language must be one of"):
        random_home(1, 10, "it")


def test_folding_and_cross_language_words() -> None:
    assert fold("Salle à Manger!") == "salle a manger"
    assert fold("Straße") == "strasse"
    assert area_key("cuisine") == area_key("Küche") == area_key("Kitchen 2") == "kitchen"
    assert floor_key("en bas") == floor_key("downstairs") == "ground"
    assert "Filmabend" in translations("Movie night")
    assert "Christmas tree" in translations("Sapin de Noël")


def test_a_device_named_in_another_language_gets_its_word_in_the_speakers() -> None:
    assert spoken_name("Floor lamp", "light", "fr") == "lampadaire"
    assert spoken_name("Kitchen ceiling light", "light", "de") == "Deckenlampe"
    assert spoken_name("Movie night", "scene", "es") == "noche de cine"
    assert spoken_name("Lampadaire salon", "light", "fr") is None  # already in French
    assert spoken_name("Hallway light", "light", "fr") is None  # too plain to translate
    assert spoken_name("TV backlight", "light", "fr") is None  # "TV" is a switch's word
    assert spoken_name("Zork", "light", "fr") is None
    # a modifier goes along, where each language puts it
    assert spoken_name("Left bedside lamp", "light", "fr") == "lampe de chevet gauche"
    assert spoken_name("Stehlampe links", "light", "en") == "left floor lamp"
    assert spoken_name("Lampadaire du canapé", "light", "de") == "Stehlampe Sofa"
    assert spoken_name("Wall light", "light", "fr") == "applique"  # a kind's word, not a modifier


def test_some_names_tell_two_devices_of_a_kind_apart() -> None:
    names = [e.name for s in range(12) for e in random_home(s, 60, "en").entities.values()]
    modified = [n for n in names if any(f"{m} " in n for m in NAME_MODIFIERS["en"])]
    assert 0.03 < len(modified) / len(names) < 0.3


def test_a_name_with_words_of_its_own_is_said_as_it_is() -> None:
    # a person's or a made-up word stays: no speaker says "Emma's lamp" as "lampe"
    assert spoken_name("Emma's lamp", "light", "fr") is None
    assert spoken_name("Vostrin floor lamp", "light", "de") is None
    # places, modifiers, numbers and vocabulary words are not words of its own
    assert spoken_name("Kitchen floor lamp 2", "light", "fr") == "lampadaire"
    assert spoken_name("Main water valve", "valve", "fr") == "vanne d'eau"
    names = [e.name for s in range(12) for e in random_home(s, 60, "en").entities.values()]
    invented = [n for n in names if spoken_name(n, "light", "fr") is None and "'s " in n]
    assert invented  # some devices are a person's
    assert device_words_in("Left bedside lamp") == {"Bedside lamp", "Lamp"}
    assert device_words_in("Left bedside light") == set()  # a plain word is the kind's


def test_spoken_names_become_aliases_once() -> None:
    home = load_eval_home()
    french = with_spoken_names(home, "fr")
    assert french.entities["light.floor_lamp"].aliases == ("lampadaire",)
    assert french.entities["light.living_room_ceiling"].aliases[-1] == "plafonnier"
    # an alias is said in the speaker's words too ("heating": "chauffage"), once
    assert french.entities["climate.thermostat"].aliases == ("heating", "chauffage")
    assert with_spoken_names(french, "fr") is french
    assert (
        with_spoken_names(random_home(3, 20, "de"), "de").version
        == random_home(3, 20, "de").version
    )


def test_eval_home_is_what_the_set_needs() -> None:
    home = load_eval_home()
    assert 30 <= len(home) <= 50
    by_domain = {e.domain for e in home.entities.values()}
    assert by_domain >= {
        "light",
        "switch",
        "fan",
        "cover",
        "valve",
        "lock",
        "climate",
        "scene",
        "button",
        "sensor",
        "binary_sensor",
    }
    assert len({a.floor for a in home.areas.values() if a.floor}) == 2
    assert {"lock.front_door", "lock.back_door", "cover.garage_door"} <= set(home.entities)
    lights = [e for e in home.entities.values() if e.domain == "light"]
    assert any("brightness_pct" in e.services["turn_on"] for e in lights)
    assert any(not e.services["turn_on"] for e in lights)
    assert any("color_name" in e.services["turn_on"] for e in lights)


def test_a_word_for_an_area_random_homes_never_have_is_written_as_the_home_names_it() -> None:
    landing = ["Kitchen", "Landing"]
    assert with_home_places("coupe la lumière du palier", landing) == (
        "coupe la lumière du landing"
    )
    assert with_home_places("Licht auf dem Treppenabsatz aus", landing) == (
        "Licht auf dem landing aus"
    )
    # only for an area the home has, and only the whole word
    assert with_home_places("apaga la luz del rellano", ["Kitchen"]) == "apaga la luz del rellano"
    assert with_home_places("les paliers", landing) == "les paliers"
    # random homes never have them: the generator's vocabulary does not know their words
    for key, by_language in SPOKEN_AREAS.items():
        assert all(area_key(w) is None for words in by_language.values() for w in words), key
