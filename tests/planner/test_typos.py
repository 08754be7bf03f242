"""Typos in the words of a home's names, mended before the model reads a request."""

from __future__ import annotations

import pytest

from edgeward.runtime.catalog import Area, Catalog, Entity
from edgeward.runtime.eval_set import load_eval_home
from edgeward.runtime.planner import Planner
from edgeward.runtime.typos import home_words, mend_typos

_HOME = Catalog(
    [
        Entity("light.deckenlicht_waschkuche", "Deckenlicht Waschküche", area="Waschküche"),
        Entity("light.table_lamp", "Table lamp", area="Living room"),
        Entity("light.lights", "Garden lights", area="Garden"),
        Entity("cover.store", "Store", area="Salon"),
        Entity("switch.vostrin", "Vostrin", area="Office"),
        Entity("switch.vostran", "Vostran", area="Office"),
        Entity("switch.cable_box", "Cable box", area="Salon"),
    ],
    [Area("Waschküche", "Keller"), Area("Living room"), Area("Garden"), Area("Salon")],
)


def _mend(text: str, known: frozenset[str] = frozenset()) -> str:
    return mend_typos(text, home_words(_HOME), lambda word: word in known)


@pytest.mark.parametrize(
    ("text", "mended"),
    [
        ("bascule deckenlciht waschküche", "bascule deckenlicht waschküche"),  # swapped
        ("bascule deckenlicht waschkühe", "bascule deckenlicht waschküche"),  # dropped, accent kept
        ("turn on the table lammp", "turn on the table lamp"),  # doubled
        ("power on the vostrni.", "power on the vostrin."),  # the last two swapped
        ("toggle the vostirn!", "toggle the vostrin!"),
        ("switch off the cabke box", "switch off the cable box"),  # struck
        ("is the keler dry?", "is the keller dry?"),  # a floor
        ("is the basment dry?", "is the basement dry?"),  # the same floor, in English
        ("apaga las lwces del salon", "apaga las luces del salon"),  # a kind's word
        ("sind die Fesnter zu", "sind die fenster zu"),
        ("le store à quarte vingt dix", "le store à quatre vingt dix"),  # a number's word
        ("Dormitorio brillo cincuinta", "Dormitorio brillo cincuenta"),
        ("ouvirr le store", "ouvrir le store"),  # a command, in a request that says none
        ("tu peux ourvir le store à côté", "tu peux ouvrir le store à côté"),  # "à" is no command
        ("fermr le store, on s'en va", "fermer le store, on s'en va"),  # a long command's typo
        ("set it to 75% and toigle the vostrin", "set it to 75% and toggle the vostrin"),
        ("dreh den Store etwwas runter", "dreh den Store etwas runter"),  # a word for a degree
        ("make the store a bit wafmer", "make the store a bit warmer"),
    ],
)
def test_a_word_one_edit_from_one_word_of_the_home_is_mended(text: str, mended: str) -> None:
    assert _mend(text) == mended


@pytest.mark.parametrize(
    "text",
    [
        "turn on the vostrine",  # another ending: an inflection, or another word
        "turn on the garden light",  # the vocabulary's word
        "turn on the lampe",  # the vocabulary's word, not a typo of "lamp"
        "turn on the gable lamp",  # the first letter differs from "table"
        "stope le salon",  # one edit from "store" and from "stoppe", a word of the commands
        "toggle the vostrn",  # one edit from "vostrin" and from "vostran": which one is not known
        "mets la lampe",  # three letters or fewer, and known words
        "is the vostrin still on",  # one edit from "stell", in a request that says an action
        "habe ich den Store zu",  # short: a word of its own, not "halbe"
        "allume le store chaque matin",  # not "main", a word of "Main light" only
        "cerré la puerta del salon?",  # not "cierre", a word for a lock that is a word too
    ],
)
def test_a_word_that_is_not_surely_a_typo_is_kept(text: str) -> None:
    assert _mend(text) == text


def test_a_typo_of_a_place_s_name_in_two_languages_is_mended_into_one() -> None:
    # "garen" is one edit from "garden" and from "garten", both the home's garden
    assert _mend("the fan at the garen") in ("the fan at the garden", "the fan at the garten")
    assert _mend("the fan at the garen") != "the fan at the garen"


def test_a_word_for_a_level_is_no_typo() -> None:
    hall = home_words(Catalog([], [Area("Hallway")]))
    text = "can you close the office shutter halfway"
    assert mend_typos(text, hall, lambda word: False) == text  # not "hallway"


def test_a_word_the_model_holds_whole_is_kept() -> None:
    assert _mend("apaga el lunes", known=frozenset({"lunes"})) == "apaga el lunes"
    assert _mend("apaga el martes", known=frozenset()) == "apaga el martes"  # nothing one edit away


def test_the_planner_keeps_its_model_s_words_and_numbers(planner: Planner) -> None:
    """A word the tokenizer holds whole ("weiter", one edit from a lamp named "Weiler"), or a
    number said in words ("quinze", one edit from the "Quinne" lamp), is not a typo."""
    home = Catalog([Entity("light.weiler", "Weiler"), Entity("light.quinne", "Quinne")])
    assert planner.mended(home, "mach weiller an", "de") == "mach weiler an"
    assert len(planner.model.encode(" weiter")) == 1
    assert planner.mended(home, "mach weiler weiter an", "de") == "mach weiler weiter an"
    assert planner.mended(home, "allume quinnne", "fr") == "allume quinne"
    said = "allume quinne à quinze heures"
    assert planner.mended(home, said, "fr") == said


def test_a_typo_of_a_name_no_longer_hides_the_device(planner: Planner) -> None:
    """With the typo, the model wrote "is the smoke alram on" as a question about the bedroom's
    lights, and "run movie nigth" as a scene the home lacks; mended, both are the device."""
    home = load_eval_home()
    assert planner.mended(home, "is the smoke alram on", "en") == "is the smoke alarm on"
    plan = planner.plan(home, "is the smoke alram on", None, "en")
    assert [c.args["entity_id"] for c in plan.calls] == ["binary_sensor.smoke_alarm"]
    plan = planner.plan(home, "run movie nigth", None, "en")
    assert [c.tool for c in plan.calls] == ["scene.turn_on"]
    assert plan.confidence >= 0.9
