"""The frame language the embedded model writes: every generated request's frame resolves to its
expected plan, reads back from its text and is accepted by the home's grammar; the grammar and
the resolver refuse what the home cannot do."""

from __future__ import annotations

import math
import re

import pytest

from edgeward.runtime import frames as fr
from edgeward.runtime.catalog import Area, Catalog, Entity
from edgeward.runtime.constrained import compile_lark
from edgeward.runtime.doubts import (
    actions_said,
    asks_about_lights,
    can_do,
    doubtful_clause,
    grounded,
    in_said_order,
    kind_of_said,
    leaves_out_a_part,
    longer_name_said,
    made_up_name,
    made_up_repeated,
    name_said,
    named_in_sweep,
    names_a_missing_device,
    names_a_missing_place,
    outdoor_reading,
    said_here,
    said_in_place,
    said_whole,
    says_a_device_word,
    says_a_kind_it_has,
    says_all,
    time_said,
)
from edgeward.runtime.errors import GrammarError
from edgeward.runtime.generate import Generation
from edgeward.runtime.local_model import LocalModel
from edgeward.runtime.plan import When
from edgeward.runtime.plan_rules import plan_key
from edgeward.runtime.planner import _choices, _resumed
from edgeward.runtime.requests_data import generate
from edgeward.runtime.retrieval import is_said, place_named, place_said
from edgeward.runtime.services import (
    button_services,
    climate_services,
    cover_services,
    fan_services,
    light_services,
    lock_services,
    switch_services,
    valve_services,
)


@pytest.mark.parametrize("split", ["train", "test"])
def test_every_generated_frame_resolves_to_the_expected_plan(split: str) -> None:
    seen = 0
    for example in generate(split, 600, seed=5):
        assert example.frame is not None
        text = fr.frame_text(example.frame)
        assert fr.frame_text(fr.parse_frame(text)) == text
        plan = fr.resolve(example.frame, example.home, example.area, example.state, "en")
        assert plan_key(plan) == plan_key(example.plan), (example.text, text)
        seen += 1
    assert seen == 600


def test_grammar_accepts_every_generated_frame(shipped_model: LocalModel) -> None:
    info = shipped_model.tokenizer_info
    for example in generate("test", 80, seed=3):
        assert example.frame is not None
        text = fr.frame_text(example.frame)
        state = compile_lark(info, fr.frame_grammar(example.home)).state()
        state.consume(shipped_model.encode(text))
        assert state.accepting, text


def _home() -> Catalog:
    return Catalog(
        [
            Entity(
                "light.desk", "Desk", "Office", "Upstairs", services=light_services(brightness=True)
            ),
            Entity("light.shelf", "Shelf", "Office", "Upstairs", services=light_services()),
            Entity("light.lamp_a", "Lamp", "Hall", services=light_services()),
            Entity("light.lamp_b", "Lamp", "Office", "Upstairs", services=light_services()),
            Entity("lock.front", "Front door", "Hall", services=lock_services()),
            Entity("lock.back", "Back door", "Hall", services=lock_services()),
            Entity(
                "cover.garage",
                "Garage door",
                "Hall",
                device_class="garage",
                services=cover_services(position=False),
            ),
            Entity(
                "climate.hall",
                "Hall heater",
                "Hall",
                services=climate_services(min_temp=7, max_temp=30),
            ),
        ],
        areas=[Area("Office", "Upstairs"), Area("Hall", "Ground floor", ("entrance",))],
    )


def _plan(text: str, speaker: str | None = None, state: fr.States | None = None) -> dict:
    return plan_key(fr.resolve(fr.parse_frame(text), _home(), speaker, state))


def test_names_areas_and_sweeps_resolve_by_the_rules() -> None:
    assert _plan("act name [ desk ] brightness 40")["calls"] == [
        {"tool": "light.turn_on", "args": {"entity_id": "light.desk", "brightness_pct": 40}}
    ]
    # a shared name asks back, unless the area settles it
    assert _plan("act name [ lamp ] on")["candidates"] == ["light.lamp_a", "light.lamp_b"]
    assert _plan("act name [ lamp ] @ [ office ] on")["calls"][0]["args"] == {
        "entity_id": "light.lamp_b"
    }
    office = [c["args"]["entity_id"] for c in _plan("act all light @ [ office ] off")["calls"]]
    assert office == ["light.desk", "light.lamp_b", "light.shelf"]
    assert (
        _plan("act all light here off", speaker="Office")["calls"]
        == _plan("act all light @ [ office ] off")["calls"]
    )
    # an alias of an area, and a floor
    assert len(_plan("act all lock @ [ entrance ] lock")["calls"]) == 2
    assert len(_plan("act all light ^ [ upstairs ] off")["calls"]) == 3
    # "the lights" said from no area: ask which rather than sweep the home
    assert _plan("act all light here off")["kind"] == "ambiguous"


def test_the_temperature_of_a_room_without_a_thermometer_is_its_thermostats() -> None:
    assert _plan("query all sensor:temperature @ [ hall ]")["calls"] == [
        {"tool": "state.get", "args": {"entity_id": "climate.hall"}}
    ]
    assert _plan("query all sensor:temperature @ [ office ]")["reason"] == "no_such_device"
    # not another kind of sensor
    assert _plan("query all sensor:humidity @ [ hall ]")["reason"] == "no_such_device"


def test_a_device_word_names_the_devices_that_have_it() -> None:
    home = Catalog(
        [
            Entity("light.left", "Left bedside lamp", "Bedroom", services=light_services()),
            Entity("light.right", "Right bedside lamp", "Bedroom", services=light_services()),
            Entity("light.desk", "Desk lamp", "Office", services=light_services()),
            Entity("light.ceiling", "Ceiling light", "Office", services=light_services()),
            Entity("light.lamp", "Lamp", "Hall", services=light_services()),
        ],
        areas=[Area("Bedroom"), Area("Office"), Area("Hall")],
    )

    def plan(text: str) -> dict:
        return plan_key(fr.resolve(fr.parse_frame(text), home))

    assert plan("act name [ bedside lamp ] on")["candidates"] == ["light.left", "light.right"]
    assert plan("act name [ bedside lamp ] @ [ bedroom ] on")["kind"] == "ambiguous"
    assert plan("act name [ desk lamp ] on")["calls"][0]["args"]["entity_id"] == "light.desk"
    # a whole name wins over the names that contain it
    assert plan("act name [ lamp ] on")["calls"][0]["args"]["entity_id"] == "light.lamp"
    # the grammar offers the device words of the home's names, not the kind's plain word
    assert {"bedside lamp", "lamp", "desk lamp"} <= fr.partial_names(home)
    assert "light" not in fr.partial_names(home)
    # the word said in another language finds the names that have it ("lampe": every lamp)
    lamps = ["light.desk", "light.lamp", "light.left", "light.right"]
    assert plan("act name [ lampe ] on")["candidates"] == lamps
    assert plan("act name [ lámpara de noche ] on")["candidates"] == ["light.left", "light.right"]


def test_what_must_not_act_does_not() -> None:
    # opening every lock at once, the only-one rule with two locks
    assert _plan("act all lock unlock")["kind"] == "ambiguous"
    assert _plan("act one lock unlock")["candidates"] == ["lock.back", "lock.front"]
    # what the home lacks
    assert _plan("act name [ desk ] lock")["reason"] == "no_such_device"
    assert _plan("act all light @ [ garden ] off")["reason"] == "no_such_device"
    assert _plan("no out_of_domain")["reason"] == "out_of_domain"
    # one clause that cannot act stops the whole request
    assert _plan("act name [ desk ] off ; act name [ lamp ] on")["kind"] == "ambiguous"


def test_relative_values_need_the_current_state() -> None:
    text = "act thermostat temperature up"
    assert (
        _plan(text, "Hall", {"climate.hall": {"temperature": 30}})["calls"][0]["args"][
            "temperature"
        ]
        == 30
    )  # clamped at the announced maximum
    assert (
        _plan(text, "Hall", {"climate.hall": {"temperature": 20.0}})["calls"][0]["args"][
            "temperature"
        ]
        == 21
    )
    with pytest.raises(fr.FrameError, match="current value"):
        _plan(text, "Hall")


def test_the_thermostat_is_the_areas_else_the_only_one_else_the_one_named_so() -> None:
    def climate(entity_id: str, name: str, area: str) -> Entity:
        return Entity(entity_id, name, area, services=climate_services(min_temp=7, max_temp=30))

    areas = [Area("Hall"), Area("Bedroom")]
    text = "act thermostat temperature 21"
    two = Catalog(
        [climate("climate.a", "Radiator", "Bedroom"), climate("climate.b", "Heater", "Hall")],
        areas=areas,
    )
    assert plan_key(fr.resolve(fr.parse_frame(text), two))["kind"] == "ambiguous"
    assert (
        plan_key(fr.resolve(fr.parse_frame(text), two, "Hall"))["calls"][0]["args"]["entity_id"]
        == "climate.b"
    )
    # of several, the one named "Thermostat" (or "Termostato"...) is "the thermostat"
    for name in ("Thermostat", "termostato"):
        named = Catalog(
            [climate("climate.a", "Radiator", "Bedroom"), climate("climate.b", name, "Hall")],
            areas=areas,
        )
        (call,) = plan_key(fr.resolve(fr.parse_frame(text), named))["calls"]
        assert call["args"] == {"entity_id": "climate.b", "temperature": 21}
        # the speaker's room still comes first
        (call,) = plan_key(fr.resolve(fr.parse_frame(text), named, "Bedroom"))["calls"]
        assert call["args"]["entity_id"] == "climate.a"


def test_values_outside_the_entity_range_are_refused() -> None:
    with pytest.raises(fr.FrameError):
        _plan("act name [ hall heater ] temperature 45")


def test_timing_is_written_in_the_largest_whole_unit() -> None:
    frame = fr.joined(
        [
            fr.act(fr.named("Desk"), "off", when=When(delay_s=600)),
            fr.act(fr.named("Front door"), "lock", when=When(cron="30 6 * * 1-5")),
        ]
    )
    text = fr.frame_text(frame)
    assert (
        text == "act name [ desk ] off @in 10 min ; act name [ front door ] lock @cron 30 6 * * 1-5"
    )
    calls = _plan(text)["calls"]
    assert calls[0]["when"] == {"delay_s": 600} and calls[1]["when"] == {"cron": "30 6 * * 1-5"}


@pytest.mark.parametrize(
    "text",
    ["act name desk off", "act name [ desk ] fly", "maybe", "no reason", "query all light off"],
)
def test_malformed_frames_are_refused_with_a_reason(text: str) -> None:
    with pytest.raises(fr.FrameError):
        fr.parse_frame(text)


def test_grammar_allows_only_the_home(shipped_model: LocalModel) -> None:
    grammar = compile_lark(shipped_model.tokenizer_info, fr.frame_grammar(_home()))
    for good in (
        "act name [ desk ] brightness 100",
        "act all light @ [ office ] off ; act name [ front door ] lock @in 5 min",
        "act thermostat temperature 21.5",
        "query name [ garage door ]",
        "no out_of_domain",
        "act name [ desk ] off @cron 30 6 * * 1-5",
        "act name [ desk ] off @cron 0 23 * * *",
    ):
        state = grammar.state()
        state.consume(shipped_model.encode(good))
        assert state.accepting, good
    for bad in (
        "act name [ desk ] brightness 101",  # out of range
        "act name [ kitchen ] on",  # no such name
        "act all fan @ [ office ] on",  # no fans
        "act all light @ [ garden ] off",  # no such area
        "act name [ desk ] color red",  # no light has colours
        "act name [ desk ] off @cron 0 40 * * *",  # no such hour
        "act name [ desk ] off @cron 75 6 * * *",  # no such minute
    ):
        with pytest.raises(GrammarError):
            grammar.state().consume(shipped_model.encode(bad))


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("Kitchen ceiling", "turn off the kitchn ceiling light", True),  # a typo
        ("Lichtleiste Küche", "mach die lichtleiste kuche an", True),  # accents aside
        ("Licht", "schalte das küchenlicht ein", True),  # inside a compound
        ("Desk lamp", "mets la lampe de bureau à 40 %", False),  # a translation
        ("Bedroom ceiling light", "good night, and turn off the bedroom fan too", False),
        ("Deckenventilator", "mach den Ventilator im Schlafzimmer aus", True),  # part of one
        ("Deckenventilator", "mach das Licht aus", False),  # too short a part: not looked for
    ],
)
def test_a_name_is_said_when_most_of_its_words_are(name: str, text: str, said: bool) -> None:
    assert is_said(name, text) is said


def test_a_place_is_named_when_every_word_of_one_of_its_names_is_said() -> None:
    gym = Catalog([], areas=[Area("Gym"), Area("Bathroom"), Area("Hall", aliases=("entrance",))])
    assert place_named(gym, "gym", "area", "allume les lumières de la salle de sport")
    assert not place_named(gym, "bathroom", "area", "allume les lumières de la salle de sport")
    assert place_named(gym, "bathroom", "area", "allume la salle de bain")
    assert place_named(gym, "hall", "area", "lights off at the entrance")
    assert not place_named(gym, "hall", "area", "lights off in the kitchen")
    # "étage" is a word of every French floor's name, and also the whole name of one
    floors = Catalog([], areas=[Area("Chambre", floor="Étage"), Area("Cave", floor="Sous-sol")])
    said = "allume toutes les lumières à l'étage"
    assert place_named(floors, "étage", "floor", said)
    assert place_said(floors, "étage", "floor", said)
    assert not place_said(floors, "sous-sol", "floor", said)
    # "room" is in many rooms' names: it does not say the living room
    rooms = Catalog(
        [],
        areas=[
            Area("Living room"),
            Area("Dining room"),
            Area("Salle de bain"),
            Area("Kids room", aliases=("children's room",)),
        ],
    )
    assert not place_said(rooms, "living room", "area", "shut off the dining room lights")
    assert not place_said(rooms, "kids room", "area", "shut off the dining room lights")
    assert place_said(rooms, "dining room", "area", "shut off the dining room lights")
    assert not place_said(rooms, "salle de bain", "area", "allume la salle à manger")


def test_a_plan_naming_a_device_the_request_does_not_say_is_not_grounded() -> None:
    home = _home()
    frame = fr.parse_frame("act name [ hall heater ] temperature 21")
    assert grounded(frame, home, "set the hall heater to 21")
    assert not grounded(frame, home, "chauffe le salon à 21")
    # an area or floor must be said too, in any of the four languages
    office = fr.parse_frame("act all light @ [ office ] off")
    assert grounded(office, home, "éteins les lumières du bureau")
    assert not grounded(office, home, "turn off the lights in the attic")
    # a name said in other words of the same meaning
    outdoor = Catalog([Entity("sensor.out", "Outdoor temperature", device_class="temperature")])
    reading = fr.parse_frame("query name [ outdoor temperature ]")
    assert grounded(reading, outdoor, "what's the temperature outside")
    assert grounded(reading, outdoor, "quelle température fait-il dehors")
    assert not grounded(reading, outdoor, "what's the temperature in the cellar")
    upstairs = fr.parse_frame("act all light ^ [ upstairs ] off")
    assert grounded(upstairs, home, "mach oben das licht aus")
    assert not grounded(upstairs, home, "turn off the lights on the ground floor")
    # sweeps of "here" and "the only one" name no place and no device: nothing to ground
    assert grounded(fr.parse_frame("act all light here off"), home, "lights off")


def test_a_frame_that_says_one_clause_twice_is_doubtful() -> None:
    home, said = _home(), "turn off the desk, then on again"
    twice = fr.parse_frame("act name [ desk ] off ; act name [ desk ] off")
    assert doubtful_clause(twice, home, said) == (1, "repeat")
    # the same device twice, at another time or with another action, is two requests
    later = "turn off the desk, then off again in 5 minutes"
    for second, text in (("on", said), ("off @in 5 min", later)):
        frame = fr.parse_frame(f"act name [ desk ] off ; act name [ desk ] {second}")
        assert doubtful_clause(frame, home, text) is None
    assert doubtful_clause(fr.parse_frame("no out_of_domain"), home, said) is None
    # a delay the request says, and the frame none: it would act now
    assert doubtful_clause(twice, home, later) == (0, "time")


def test_an_appliance_the_home_lacks_is_no_such_device_unless_the_frame_names_what_is_said() -> (
    None
):
    home = _home()
    lamp = fr.parse_frame("act name [ lamp ] on")
    assert names_a_missing_device(lamp, home, "turn on the hot tub", "en")
    assert names_a_missing_device(lamp, home, "préchauffe le four à 180", "fr")
    assert names_a_missing_device(
        fr.parse_frame("act all light on"), home, "enciende la tele", "es"
    )
    # a word of another language is not its appliance: "four" lights in English
    assert not names_a_missing_device(lamp, home, "turn on the four lamps", "en")
    # the frame names a device the request says: "the desk by the tv"
    desk = fr.parse_frame("act name [ desk ] on")
    assert not names_a_missing_device(desk, home, "turn on the desk by the tv", "en")
    # a home with a device called so, even inside a longer word, has the appliance
    oven = Catalog([*home.entities.values(), Entity("switch.ofen", "Backofenlicht")])
    assert not names_a_missing_device(lamp, oven, "mach den Backofen an", "de")
    assert not names_a_missing_device(lamp, oven, "mach den Ofen an", "de")


def test_a_device_asked_about_is_the_one_whose_whole_name_the_request_says() -> None:
    home = Catalog(
        [
            Entity("switch.kettle", "Glylamam Wasserkocher", services=switch_services()),
            Entity("switch.attic_kettle", "Dachboden Wasserkocher", services=switch_services()),
            Entity("cover.blinds", "Blinds", "Bath", services=cover_services(position=False)),
            Entity("cover.blind", "Blind", "Hall", services=cover_services(position=False)),
            Entity("lock.door_lock", "Door lock", services=lock_services()),
            Entity("lock.hall_door_lock", "Hall door lock", services=lock_services()),
        ]
    )
    kettle = fr.parse_frame("act name [ wasserkocher ] off")
    text = "kannst du den glylamam wasserkocher ausschalten"
    assert fr.resolve(kettle, home).kind == "ambiguous"
    mended = said_whole(kettle, home, text)
    assert mended is not None
    assert [c.args["entity_id"] for c in fr.resolve(mended, home).calls] == ["switch.kettle"]
    # no whole name said, or a name that is only the plain name of a kind: still ask which
    assert said_whole(kettle, home, "schalte den wasserkocher aus") is None
    blinds = fr.parse_frame("act one cover open")
    assert fr.resolve(blinds, home).kind == "ambiguous"
    assert said_whole(blinds, home, "put the blinds up") is None
    # a whole name of plain words that is more than one word says its device
    lock = fr.parse_frame("act one lock unlock")
    mended = said_whole(lock, home, "unlock the door lock")
    assert mended is not None
    assert [c.args["entity_id"] for c in fr.resolve(mended, home).calls] == ["lock.door_lock"]


def test_a_device_asked_about_is_the_one_in_the_place_the_request_names() -> None:
    home = Catalog(
        [
            Entity("light.sofa", "Lámpara del sofá", "Cuarto del bebé", services=light_services()),
            Entity("light.sofa_2", "Lámpara del sofá", "Salón", services=light_services()),
            Entity("switch.plug", "Steckdose", "Esszimmer", aliases=("das Ding",)),
            Entity("light.bed", "Nachttischlampe", "Schlafzimmer", aliases=("das Ding",)),
        ],
        areas=[Area("Cuarto del bebé"), Area("Salón"), Area("Esszimmer"), Area("Schlafzimmer")],
    )
    sofa = fr.parse_frame("act name [ lámpara del sofá ] on")
    mended = said_in_place(sofa, home, "enciende la lámpara del sofá del salón")
    assert mended is not None
    assert [c.args["entity_id"] for c in fr.resolve(mended, home).calls] == ["light.sofa_2"]
    assert said_in_place(sofa, home, "enciende la lámpara del sofá") is None
    # a place said only with a typo is not said here: "ding" is not "dining" (room)
    thing = fr.parse_frame("act name [ das ding ] toggle")
    assert said_in_place(thing, home, "das ding umschalten") is None


def test_a_kind_said_in_a_room_by_its_plain_word_is_the_rooms() -> None:
    home = Catalog(
        [
            Entity("fan.hall", "Ventilador pasillo", "Hall", services=fan_services()),
            Entity("fan.hall_ceiling", "Techo pasillo", "Hall", services=fan_services()),
            Entity("fan.bath", "Ventilador baño", "Bathroom", services=fan_services()),
            Entity("valve.gas", "Vanne de gaz", "Hall", services=valve_services()),
            Entity("valve.gas_2", "Vanne de gaz cuisine", "Bathroom", services=valve_services()),
        ],
        areas=[Area("Hall"), Area("Bathroom")],
    )
    fan = fr.parse_frame("act name [ ventilador ] off")
    assert fr.resolve(fan, home, "Hall").kind == "ambiguous"
    mended = said_here(fan, home, "quita el ventilador", "Hall")
    assert mended is not None
    calls = fr.resolve(mended, home, "Hall").calls
    assert sorted(c.args["entity_id"] for c in calls) == ["fan.hall", "fan.hall_ceiling"]
    # said from no room, or naming one, or of a valve: still ask which
    assert said_here(fan, home, "quita el ventilador", None) is None
    assert said_here(fan, home, "quita el ventilador del baño", "Hall") is None
    gas = fr.parse_frame("act name [ vanne de gaz ] open")
    assert said_here(gas, home, "ouvre la vanne de gaz", "Hall") is None


def test_a_sweep_of_a_place_is_the_one_device_whose_name_the_request_says() -> None:
    home = Catalog(
        [
            Entity("light.gym_lamp", "Gym lamp", "Gym", services=light_services()),
            Entity("light.gym_floor", "Gym floor lamp", "Gym", services=light_services()),
            Entity("light.hall", "Lumière couloir", "Couloir", services=light_services()),
            Entity("light.hall_spots", "Spots couloir", "Couloir", services=light_services()),
        ],
        areas=[Area("Gym"), Area("Couloir")],
    )
    gym = fr.parse_frame("act all light @ [ gym ] off")
    mended = named_in_sweep(gym, home, "shut off the gym lamp we're going out")
    assert mended is not None
    assert [c.args["entity_id"] for c in fr.resolve(mended, home).calls] == ["light.gym_lamp"]
    # "all", a name said in other words, or a name of only its kind's and place's words
    assert named_in_sweep(gym, home, "shut off all the gym lamp") is None
    assert named_in_sweep(gym, home, "shut off the lamp in the gym") is None
    hall = fr.parse_frame("act all light @ [ couloir ] off")
    assert named_in_sweep(hall, home, "arrête la lumière du couloir") is None
    assert named_in_sweep(hall, home, "arrête la lumière couloir") is None


def test_clauses_come_in_the_order_the_request_says_them() -> None:
    home = _home()
    frame = fr.parse_frame("act name [ lamp ] on ; act name [ desk ] on ; act name [ shelf ] on")
    said = "turn on the desk, the shelf and the lamp"
    ordered = in_said_order(frame, home, said)
    assert [c.target.name for c in ordered.clauses] == ["desk", "shelf", "lamp"]
    # a word for "before" may say them in another order than they are done
    assert in_said_order(frame, home, "turn on the desk and the shelf before the lamp") == frame
    # a device the request does not say whole: the model's order stays
    assert in_said_order(frame, home, "turn on the desk, the shelf and that light") == frame
    # a longer name is found before a shorter one inside it
    doors = fr.parse_frame("act name [ back door ] lock ; act name [ front door ] lock")
    assert in_said_order(doors, home, "lock the front door and the back door").clauses == (
        doors.clauses[1],
        doors.clauses[0],
    )


def test_a_frame_that_leaves_out_a_part_of_the_request_that_names_a_device() -> None:
    home = _home()
    parts = ["turn off the desk at 9", "turn on the shelf"]
    assert leaves_out_a_part(fr.parse_frame("act name [ desk ] off"), home, parts)
    both = fr.parse_frame("act name [ desk ] off ; act name [ shelf ] on")
    assert not leaves_out_a_part(both, home, parts)
    # a part that names no device ("every morning") leaves nothing out
    every = ["turn off the desk", "every morning"]
    assert not leaves_out_a_part(fr.parse_frame("act name [ desk ] off"), home, every)


def test_a_made_up_name_the_frame_leaves_out_makes_a_sweep_doubtful() -> None:
    home = Catalog(
        [
            *_home().entities.values(),
            Entity("light.seisteis", "Seisteis", "Hall", services=light_services()),
            Entity("cover.beizisai", "Beizisai", "Hall", services=cover_services(position=False)),
        ],
        areas=list(_home().areas.values()),
    )
    sweep = fr.parse_frame("act all light here on")
    said = "bitte kannst du den seisteis einschalten"
    assert made_up_name(sweep, home, said) == "seisteis"
    assert doubtful_clause(sweep, home, said, "Hall") == (0, "sweep")
    named = fr.parse_frame("act name [ seisteis ] on")
    assert made_up_name(named, home, said) is None
    assert doubtful_clause(named, home, said) is None
    # nor is the thermostat what it names: "Dreh Touglota etwas runter"
    heating = fr.parse_frame("act thermostat temperature down")
    assert doubtful_clause(heating, home, "dreh seisteis etwas runter") == (0, "sweep")
    # a name of words of the vocabulary is no made-up name; two made-up names, no one name
    assert made_up_name(sweep, home, "turn on the desk") is None
    assert made_up_name(sweep, home, "seisteis und beizisai") is None
    # a verb is no kind's name: "cerrar" does not say a lock ("cierre")
    shut = fr.parse_frame("act name [ beizisai ] close")
    assert doubtful_clause(shut, home, "cerrar beizisai por favor") is None
    # a clause written twice where the request says the made-up name no clause names
    said = "toggle the desk, the seisteis and the shelf"
    twice = fr.parse_frame(
        "act name [ desk ] toggle ; act name [ shelf ] toggle ; act name [ shelf ] toggle"
    )
    mended = made_up_repeated(twice, home, said)
    assert mended is not None
    assert [c.target.name for c in mended.clauses] == ["desk", "shelf", "seisteis"]
    assert made_up_repeated(twice, home, "toggle the desk and the shelf") is None
    # not when the made-up device cannot do what the repeated clause does
    assert made_up_repeated(twice, home, "toggle the desk, beizisai and the shelf") is None


def test_a_sweep_of_a_kind_none_of_whose_devices_can_do_the_action_is_doubtful() -> None:
    home = _home()
    said = "toggle the garage"
    # "quita el ventilador" written as the one fan unlocked: an action no device of it has
    garage = fr.parse_frame("act one cover:garage toggle")
    assert not can_do(garage.clauses[0], home)
    assert doubtful_clause(garage, home, said) == (0, "action")
    assert can_do(fr.parse_frame("act one cover:garage open").clauses[0], home)
    assert can_do(fr.parse_frame("act all lock unlock").clauses[0], home)


def test_a_longer_name_said_in_other_words_makes_a_shorter_one_doubtful() -> None:
    home = Catalog(
        [
            Entity("sensor.t", "Temperatura", "Salón", device_class="temperature"),
            Entity("sensor.out", "Temperatura exterior", device_class="temperature"),
            Entity("light.lamp", "Lamp", "Library", services=light_services()),
            Entity("light.library_lamp", "Library lamp", "Hall", services=light_services()),
        ],
        areas=[Area("Salón"), Area("Library"), Area("Hall")],
    )
    short = fr.parse_frame("query name [ temperatura ]")
    said = "qué temperatura hace afuera"
    assert longer_name_said(short, 0, home, said) == "temperatura exterior"
    assert doubtful_clause(short, home, said) == (0, "unsaid")
    assert longer_name_said(short, 0, home, "qué temperatura hace en el salón") is None
    # the longer name's other words are the place the clause writes: not said of it
    lamp = fr.parse_frame("act name [ lamp ] @ [ library ] off")
    assert longer_name_said(lamp, 0, home, "lamp across library off") is None


def test_a_request_that_says_a_kind_the_home_has() -> None:
    home = _home()
    assert says_a_kind_it_has(home, "is the back door locked?")  # "door" names a lock
    assert says_a_kind_it_has(home, "kannst du das Licht einschalten")
    assert not says_a_kind_it_has(home, "kannst du den Ventilator einschalten")  # no fan here
    assert not says_a_kind_it_has(home, "turn on the hot tub")
    # the word for a device's kind in the request's language, of a name in another
    heater = Catalog([Entity("switch.estufa", "Estufa Plyshy", services=switch_services())])
    assert says_a_device_word(heater, "put the heater on", "en")
    assert not says_a_device_word(heater, "put the kettle on", "en")
    assert not says_a_device_word(heater, "enciende la estufa", "es")  # the name's own word


def test_a_place_the_home_lacks_is_no_such_device_when_the_frame_put_it_elsewhere() -> None:
    home = _home()
    office = fr.parse_frame("act all light @ [ office ] off")
    # "the attic" is no area or floor of this home, and the frame swept the office instead,
    # or the whole home
    assert names_a_missing_place(office, home, "turn off the lights in the attic")
    assert names_a_missing_place(office, home, "éteins la lumière du grenier")
    everywhere = fr.parse_frame("act all light off")
    assert names_a_missing_place(everywhere, home, "turn off the lights in the attic")
    assert not names_a_missing_place(everywhere, home, "turn off all the lights")
    # the office said in French, or a place the home has (its alias, its floor's word)
    assert not names_a_missing_place(office, home, "éteins les lumières du bureau")
    hall = fr.parse_frame("act all light @ [ hall ] off")
    assert not names_a_missing_place(hall, home, "lights off at the entrance")
    # a frame that names a device, not a place, is left to the device's own checks
    desk = fr.parse_frame("act name [ desk ] off")
    assert not names_a_missing_place(desk, home, "turn off the desk in the attic")
    # a word that is a place the home has under one reading ("Keller": cellar or basement)
    cellar = Catalog(list(home.entities.values()), [Area("Keller"), *home.areas.values()])
    keller = fr.parse_frame("act all light @ [ keller ] off")
    assert not names_a_missing_place(keller, cellar, "Licht im Keller aus")
    # a place word inside a device name the request says ("garage" of "Garage door") is the name
    assert not names_a_missing_place(office, home, "close the garage door in ten minutes")
    assert names_a_missing_place(office, home, "close the door of the garage")


def _decoded(model: LocalModel, text: str) -> tuple[list[int], Generation]:
    """``text``'s token ids, and a generation of them in which the model chose every token."""
    ids = model.encode(text)
    return ids, Generation(text, tuple(ids), (-0.5,) * len(ids), "grammar", 1, 1, 0, 0)


def test_a_repeated_clause_is_retried_where_its_target_was_chosen(
    shipped_model: LocalModel,
) -> None:
    text = "act name [ desk ] off ; act name [ desk ] off"
    ids, generation = _decoded(shipped_model, text)
    choices = _choices(shipped_model, generation, (1, "repeat"))
    assert choices
    second = text.index(" ; ")
    for k, token in choices:
        assert ids[k] == token
        before = shipped_model.tokenizer.decode(list(ids[:k]))
        assert len(before) > text.index("[", second)
        assert len(before) < text.index("]", second)
    # a target without a name has nothing to bar: no retry
    plain = "act one lock lock ; act one lock lock"
    ids, generation = _decoded(shipped_model, plain)
    assert _choices(shipped_model, generation, (1, "repeat")) == []


def test_a_clause_is_doubtful_for_a_repeat_an_unsaid_device_or_an_action_it_lacks() -> None:
    home = _home()
    said = "turn off the desk and lock the front door"
    fine = fr.parse_frame("act name [ desk ] off ; act name [ front door ] lock")
    assert doubtful_clause(fine, home, said) is None
    twice = fr.parse_frame("act name [ desk ] off ; act name [ desk ] off")
    assert doubtful_clause(twice, home, said) == (1, "repeat")
    unsaid = fr.parse_frame("act name [ desk ] off ; act name [ back door ] lock")
    assert doubtful_clause(unsaid, home, said) == (1, "unsaid")
    # the same action on the same device by another of its names is a repeat too
    again = fr.parse_frame(
        "act name [ hall heater ] temperature 20 ; act name [ heater ] temperature 20"
    )
    said = "set the hall heater to 20 and the heater to 20"
    assert doubtful_clause(again, home, said) == (1, "repeat")
    other = fr.parse_frame(
        "act name [ hall heater ] temperature 20 ; act name [ heater ] temperature 20 @in 1 h"
    )
    assert doubtful_clause(other, home, said + " in 1 hour") is None
    # the first doubtful clause, whatever its doubt: what comes after it depends on it
    both = fr.parse_frame("act name [ back door ] lock ; act name [ back door ] lock")
    assert doubtful_clause(both, home, said) == (0, "unsaid")
    # the request says no office: the place is doubtful
    office = fr.parse_frame("act all light @ [ office ] off @in 10 min")
    assert doubtful_clause(office, home, "turn off the porch light in 10 minutes") == (0, "place")
    assert doubtful_clause(office, home, "turn off the office lights in 10 minutes") is None
    # a sweep of a place where no device of its kind can do its action: the place
    hall = fr.parse_frame("act all light @ [ hall ] brightness 40")
    assert doubtful_clause(hall, home, "set the hall lights to 40 percent") == (0, "place")
    office = fr.parse_frame("act all light @ [ office ] brightness 40")
    assert doubtful_clause(office, home, "set the office lights to 40 percent") is None
    # the Shelf light has no brightness, the Desk light has: the action is what is doubtful
    dim = fr.parse_frame("act name [ shelf ] brightness 40")
    assert doubtful_clause(dim, home, "shelf to 40 percent") == (0, "action")
    assert (
        doubtful_clause(fr.parse_frame("act name [ desk ] brightness 40"), home, "desk 40") is None
    )
    # a sweep of a class of devices none of which is where it sweeps: the hall has a garage
    # door, no gate (said from the hall, or of the hall)
    gates = fr.parse_frame("act all cover:gate here close")
    assert doubtful_clause(gates, home, "close the gate", "Hall") == (0, "class")
    garage = fr.parse_frame("act all cover:garage @ [ hall ] close")
    assert doubtful_clause(garage, home, "close the garage door in the hall") is None
    # a retry that sweeps another class is kept only when the request says that class: the
    # garage door for "la porte de garage", not for "the gate"
    assert kind_of_said(garage, 0, home, "ferme la porte de garage")
    assert not kind_of_said(garage, 0, home, "close the gate")
    # the request says only words of the other side of an action that has one
    on = fr.parse_frame("act name [ desk ] off")
    assert doubtful_clause(on, home, "power on the desk") == (0, "action")
    assert doubtful_clause(on, home, "turn off the desk") is None
    # more or less of something is a level, not a switch: "turn the desk down a bit" as off
    assert doubtful_clause(on, home, "turn the desk down a bit") == (0, "action")
    dimmer = fr.parse_frame("act name [ desk ] brightness down")
    assert doubtful_clause(dimmer, home, "turn the desk down a bit") is None
    # the blinds are a kind of device, the desk a light: "the blinds" do not say the desk
    assert doubtful_clause(on, home, "desk blinds down") == (0, "unsaid")
    assert doubtful_clause(on, home, "desk light down") is None
    # "close the gate" read as the garage door: the request says another class
    assert doubtful_clause(garage, home, "close the gate in the hall") == (0, "class")
    # a sweep of lights when the request says the garage door's class and no light: its kind;
    # a sweep of covers when it names the Desk light and no cover: the sweep
    lights = fr.parse_frame("act all light @ [ hall ] on")
    assert doubtful_clause(lights, home, "open the garage door in the hall") == (0, "class")
    covers = fr.parse_frame("act all cover @ [ office ] close")
    assert doubtful_clause(covers, home, "turn off the desk in the office") == (0, "sweep")
    # a number the request does not say: "desk to 40 percent" written as 50
    fifty = fr.parse_frame("act name [ desk ] brightness 50")
    assert doubtful_clause(fifty, home, "desk to 40 percent") == (0, "value")
    assert doubtful_clause(fifty, home, "desk to fifty percent") is None
    # a time of day the request does not say, or on the other side of noon
    at = fr.parse_frame("act name [ desk ] off @at 15:00")
    assert doubtful_clause(at, home, "turn off the desk at 5 pm") == (0, "time")
    assert doubtful_clause(at, home, "turn off the desk at 3 pm") is None
    assert doubtful_clause(at, home, "éteins le bureau à quinze heures") is None
    assert doubtful_clause(at, home, "apaga el escritorio a las 3 de la mañana") == (0, "time")
    # minutes other than those said for that hour, an hour after noon with no afternoon said
    quarter = fr.parse_frame("act name [ desk ] off @cron 0 18 * * 1-5")
    assert doubtful_clause(quarter, home, "turn off the desk at 6:15 pm on weekdays") == (0, "time")
    assert doubtful_clause(quarter, home, "turn off the desk at 6 pm on weekdays") is None
    evening = fr.parse_frame("act name [ desk ] off @at 20:15")
    assert doubtful_clause(evening, home, "apaga el escritorio a las 8:15") == (0, "time")
    assert doubtful_clause(evening, home, "apaga el escritorio a las 8:15 de la tarde") is None
    assert doubtful_clause(evening, home, "turn off the desk at 8:15 tonight") is None
    early = fr.parse_frame("act name [ desk ] off @at 03:00")
    assert doubtful_clause(early, home, "turn off the desk at 3 p.m.") == (0, "time")
    assert doubtful_clause(early, home, "éteins le bureau à 3h cet après-midi") == (0, "time")
    # a light switched on by a word that raises it: a level, not a switch
    assert doubtful_clause(fr.parse_frame("act name [ desk ] on"), home, "sube el desk") == (
        0,
        "action",
    )
    # a time the request says, and a frame that would act now
    now = fr.parse_frame("act name [ desk ] off")
    assert doubtful_clause(now, home, "éteins le bureau à 21h") == (0, "time")
    assert doubtful_clause(now, home, "éteins le bureau à 21 degrés") is None
    assert doubtful_clause(now, home, "apaga el escritorio en 45 segundos") == (0, "time")
    # a temperature is no hour, and an hour's delay needs some word of a length
    warm = fr.parse_frame("act name [ hall heater ] temperature 19.5 @at 19:00")
    assert doubtful_clause(warm, home, "hall heater à 19,5 degrés") == (0, "time")
    assert doubtful_clause(warm, home, "hall heater à 19,5 degrés à 19h") is None
    hour = fr.parse_frame("act name [ desk ] off @in 1 h")
    assert doubtful_clause(hour, home, "desk 2 am arbeitszimmer deaktiviere") == (0, "time")
    assert doubtful_clause(hour, home, "desk in einer Stunde deaktivieren") is None
    half = fr.parse_frame("act name [ desk ] off @cron 30 21 * * 1-5")
    said = "apaga el escritorio entre semana a las nueve y media de la noche"
    assert doubtful_clause(half, home, said) is None
    assert doubtful_clause(half, home, said.replace(" y media", "")) == (0, "time")
    assert doubtful_clause(half, home, said.replace(" de la noche", "")) == (0, "time")
    # days of a schedule the request does not say, or a schedule where it says none, or once
    # where it says days: "at 7 pm" as every weekday, "los viernes" as this once
    assert doubtful_clause(half, home, said.replace("entre semana", "los viernes")) == (0, "days")
    assert doubtful_clause(half, home, said.replace("entre semana ", "")) == (0, "days")
    daily = fr.parse_frame("act name [ desk ] off @cron 0 19 * * *")
    assert doubtful_clause(daily, home, "turn off the desk every night at 7 pm") is None
    assert doubtful_clause(daily, home, "turn off the desk at 7 pm") == (0, "days")
    assert doubtful_clause(daily, home, "turn off the desk on weekends at 7 pm") == (0, "days")
    once = fr.parse_frame("act name [ desk ] off @at 19:00")
    assert doubtful_clause(once, home, "turn off the desk at 7 pm") is None
    assert doubtful_clause(once, home, "turn off the desk every friday at 7 pm") == (0, "days")
    # a schedule at no time of day: "sur 40 pourcent" as 40 o'clock
    assert doubtful_clause(
        fr.parse_frame("act name [ desk ] off @cron 0 40 * * *"),
        home,
        ("éteins le bureau tous les jours à 40"),
    ) == (0, "time")
    # a delay the request does not say ("2 am arbeitszimmer" as in 20 minutes), and one said
    later = fr.parse_frame("act name [ desk ] off @in 20 min")
    assert doubtful_clause(later, home, "desk 2 am arbeitszimmer aus") == (0, "time")
    assert doubtful_clause(later, home, "turn off the desk in twenty minutes") is None
    # a time of day is no length: "à 22h" written as in 22 minutes; "dans 4 heures" is one
    assert doubtful_clause(
        fr.parse_frame("act name [ desk ] off @in 22 min"), home, "éteins le bureau à 22h"
    ) == (0, "time")
    assert (
        doubtful_clause(
            fr.parse_frame("act name [ desk ] off @in 4 h"), home, "éteins le bureau dans 4 heures"
        )
        is None
    )
    hour = fr.parse_frame("act name [ desk ] off @in 1 h")
    assert doubtful_clause(hour, home, "éteins le bureau dans une heure") is None
    # a value said only as a time of day: "a las 12:15 ... al 5%" is 5, not 15
    fifteen = fr.parse_frame("act name [ desk ] brightness 15 @at 12:15")
    assert doubtful_clause(fifteen, home, "a las 12:15 el desk al 5%") == (0, "value")
    # the one garage door when the request says a fan, and no cover: its kind
    door = fr.parse_frame("act one cover:garage close")
    assert doubtful_clause(door, home, "quita el ventilador") == (0, "class")
    assert doubtful_clause(door, home, "cierra la puerta del garaje") is None
    assert doubtful_clause(lights, home, "turn on the hall lights and the garage door") is None
    # the garage said with a word for opening or closing is its door, as the training data
    # says it ("ferme le garage"); with one for turning on it is not ("allume le garage" may be
    # its light), not even inside "Garagentor"
    locks = fr.parse_frame("act all lock lock")
    assert doubtful_clause(locks, home, "close the garage, I'm leaving") == (0, "class")
    assert doubtful_clause(locks, home, "mach die Garage zu") == (0, "class")
    assert doubtful_clause(lights, home, "mach die Garage im Hall an") != (0, "class")
    assert doubtful_clause(lights, home, "allume le garage dans le hall") != (0, "class")
    # a verb is no kind's name: "cierra" is not "cierre" (a lock)
    assert doubtful_clause(locks, home, "cierra el garaje que me voy") == (0, "class")
    assert doubtful_clause(locks, home, "cierra la cerradura") is None
    # a door is unlocked only when the request says a lock or door: "quita las luces" (turn
    # off the lights) read as unlocking; locking everything needs no such word
    unlock = fr.parse_frame("act one lock unlock")
    assert doubtful_clause(unlock, home, "quita las luces") == (0, "class")
    assert doubtful_clause(unlock, home, "desbloquea la puerta") is None
    assert doubtful_clause(unlock, home, "unlock it") is None  # "lock" inside "unlock"
    assert doubtful_clause(locks, home, "sperr alles ab") is None
    # a colour the request does not say: "cambia la lámpara" (toggle it) read as yellow
    colours = Catalog([Entity("light.desk", "Desk", services=light_services(color=True))])
    yellow = fr.parse_frame("act name [ desk ] color yellow")
    assert doubtful_clause(yellow, colours, "cambia el desk") == (0, "action")
    assert doubtful_clause(yellow, colours, "pon el desk amarillo") is None
    # the action the words say, for a clause whose action is doubtful
    assert actions_said(on.clauses[0], home, "power on the desk") == ("on",)
    assert actions_said(on.clauses[0], home, "turn off the desk") == ()  # the clause's own
    # a level the shelf lacks may be another level: the model's next choice is free
    assert actions_said(dim.clauses[0], home, "shelf to 40 percent") == ()
    # words of one way only, and a clause of another action: the light's level
    assert actions_said(yellow.clauses[0], colours, "more light from the desk") == ("brightness",)
    assert actions_said(yellow.clauses[0], colours, "un peu plus de lumière sur le desk") == (
        "brightness",
    )
    # a way written where the words say none, and say off: off ("quita", not "dimmer")
    dimmer = fr.parse_frame("act name [ desk ] brightness down")
    assert actions_said(dimmer.clauses[0], colours, "quita el desk") == ("off",)
    assert actions_said(dimmer.clauses[0], colours, "baja el desk") == ()
    # a button cannot be switched on: it is pressed
    button = Catalog([Entity("button.reboot", "Reboot", services=button_services())])
    press = actions_said(fr.parse_frame("act name [ reboot ] on").clauses[0], button, "reboot")
    assert press == ("press",)
    # what is on in a room asks about its lights, not its heater
    heater = fr.parse_frame("query name [ hall heater ]")
    assert asks_about_lights(heater, home, "what's on in the hall")
    assert not asks_about_lights(
        fr.parse_frame("query all light @ [ hall ]"), home, "what's on in the hall"
    )
    assert not asks_about_lights(heater, home, "how warm is it in the hall")
    # how warm it is outside asks the one outdoor temperature sensor, by any of its names
    sensors = Catalog(
        [
            Entity("sensor.out", "Außentemperatur", device_class="temperature"),
            Entity("sensor.hall", "Hall temperature", "Hall", device_class="temperature"),
        ]
    )
    hall = fr.parse_frame("query all sensor:temperature here")
    assert outdoor_reading(hall, sensors, "wie warm ist es draußen") == "Außentemperatur"
    assert outdoor_reading(hall, sensors, "il fait combien dehors") == "Außentemperatur"
    assert outdoor_reading(hall, sensors, "wie warm ist es im Flur") is None
    assert outdoor_reading(hall, sensors, "are the lights on outside") is None
    # a frame that acts is read again when the request says no action, not when it says one
    act = fr.parse_frame("act all light here color_temp 2500")
    assert outdoor_reading(act, sensors, "wie warm ist es außen") == "Außentemperatur"
    assert outdoor_reading(act, sensors, "it's cold outside, turn the lights on") is None
    out = fr.parse_frame("query name [ außentemperatur ]")
    assert outdoor_reading(out, sensors, "wie warm ist es draußen") is None
    # the sensor named, but acted on: "il fait froid dehors ?" as "activate" it
    acted_on = fr.parse_frame("act name [ außentemperatur ] activate")
    assert outdoor_reading(acted_on, sensors, "il fait froid dehors ?") == "Außentemperatur"
    two = Catalog(
        [
            *sensors.entities.values(),
            Entity("sensor.o2", "Outdoor temperature", device_class="temperature"),
        ]
    )
    assert outdoor_reading(hall, two, "how cold is it outside") is None
    # a question answered by acting, a command answered by a question: the verb
    question = fr.parse_frame("query name [ desk ]")
    assert doubtful_clause(on, home, "is the desk off?") == (0, "verb")
    assert doubtful_clause(question, home, "is the desk off?") is None
    assert doubtful_clause(question, home, "turn the desk off") == (0, "verb")
    assert doubtful_clause(question, home, "the desk off?") is None
    # every light of the home turned on, while the request says neither "all" nor the home
    everywhere = fr.parse_frame("act all light on")
    assert doubtful_clause(everywhere, home, "enciende la luz del desván") == (0, "sweep")
    assert doubtful_clause(everywhere, home, "enciende las luces en toda la casa") is None
    assert doubtful_clause(everywhere, home, "von allen Leuchten anschalten") is None
    assert doubtful_clause(fr.parse_frame("query all light"), home, "what lights are on") is None
    # sweeps and refusals name no device
    assert doubtful_clause(fr.parse_frame("act all light here off"), home, "lights off") is None
    assert doubtful_clause(fr.parse_frame("no out_of_domain"), home, "tell a joke") is None


def test_a_doubtful_action_is_retried_where_the_model_chose_it(shipped_model: LocalModel) -> None:
    text = "act name [ desk ] off ; act name [ shelf ] brightness 40"
    ids, generation = _decoded(shipped_model, text)
    ((k, token),) = _choices(shipped_model, generation, (1, "action"))
    assert ids[k] == token
    before = shipped_model.tokenizer.decode(list(ids[:k]))
    assert before.rstrip().endswith("[ shelf ]")


def test_an_action_where_the_request_only_checks_is_retried_at_its_verb_too(
    shipped_model: LocalModel,
) -> None:
    ids, generation = _decoded(shipped_model, "act name [ desk ] toggle")
    (k, token), (verb, act) = _choices(
        shipped_model, generation, (0, "action"), request="check the desk"
    )
    assert ids[k] == token and (verb, act) == (0, ids[0])
    assert len(_choices(shipped_model, generation, (0, "action"), request="toggle the desk")) == 1


def test_a_doubtful_verb_is_retried_where_the_clause_begins(shipped_model: LocalModel) -> None:
    ids, generation = _decoded(shipped_model, "query name [ desk ]")
    assert _choices(shipped_model, generation, (0, "verb")) == [(0, ids[0])]


def test_the_class_of_a_sweep_is_retried_where_the_model_chose_it(
    shipped_model: LocalModel,
) -> None:
    text = "act name [ desk ] off ; act all cover:gate @ [ hall ] close"
    ids, generation = _decoded(shipped_model, text)
    # the class, then the kind, then "all" (a name, perhaps, rather than a sweep)
    (k, token), (i, kind), (j, how) = _choices(shipped_model, generation, (1, "class"))
    assert [ids[k], ids[i], ids[j]] == [token, kind, how]
    assert shipped_model.tokenizer.decode(list(ids[:k])).endswith("cover:")
    assert shipped_model.tokenizer.decode(list(ids[:i])).endswith("off ; act all")
    assert shipped_model.tokenizer.decode(list(ids[:j])).endswith("off ; act")
    # a sweep of a kind with no class: "all" or "one" first, then the kind
    ids, generation = _decoded(shipped_model, "act all lock lock")
    (j, how), (i, kind) = _choices(shipped_model, generation, (0, "class"))
    assert [ids[j], ids[i]] == [how, kind]
    assert shipped_model.tokenizer.decode(list(ids[i:])).startswith(" lock")


def test_a_contradicted_action_of_a_sweep_is_retried_at_the_action(
    shipped_model: LocalModel,
) -> None:
    home = _home()
    text = "act name [ desk ] on ; act all light here off"
    frame = fr.parse_frame(text)
    said = "turn on the desk and power on the lights here"
    assert doubtful_clause(frame, home, said, "Hall") == (1, "action")
    ids, generation = _decoded(shipped_model, text)
    ((k, token),) = _choices(shipped_model, generation, (1, "action"))
    assert ids[k] == token
    assert shipped_model.tokenizer.decode(list(ids[:k])).endswith("act all light here")


def test_an_unsaid_place_is_retried_where_the_model_chose_it_and_its_target(
    shipped_model: LocalModel,
) -> None:
    text = "act all light @ [ office ] off @in 10 min"
    ids, generation = _decoded(shipped_model, text)
    (place, how) = _choices(shipped_model, generation, (0, "place"))
    assert shipped_model.tokenizer.decode(list(ids[: place[0]])).endswith("@ [")
    assert shipped_model.tokenizer.decode(list(ids[: how[0]])) == "act"
    assert [ids[place[0]], ids[how[0]]] == [place[1], how[1]]
    # a request that says "all" may mean no place: the place's marker is a choice too
    (place, marker, how) = _choices(shipped_model, generation, (0, "place"), whole=True)
    assert shipped_model.tokenizer.decode(list(ids[: marker[0]])) == "act all light"
    assert says_all("turn off all the lights") and says_all("éteins toutes les lumières")
    assert not says_all("turn off the lights in the office")
    # a name needs no place: where it was put in one, its marker is a choice too
    ids, generation = _decoded(shipped_model, "act name [ desk ] @ [ office ] off")
    (place, marker, how) = _choices(shipped_model, generation, (0, "place"))
    assert shipped_model.tokenizer.decode(list(ids[: marker[0]])) == "act name [ desk ]"


def test_a_retry_keeps_the_log_probabilities_of_the_tokens_it_began_with() -> None:
    first = Generation("a", (5, 6), (-0.1, math.log(0.6)), "grammar", 1, 1, 0, 0)
    # begun with token 5 (fed, so 0 in the retry) and barred at index 1
    retry = Generation("b", (5, 7), (0.0, math.log(0.75)), "grammar", 1, 1, 0, 0)
    assert _resumed(retry, first, 1).logprobs == (-0.1, math.log(0.75))


@pytest.mark.parametrize(("lo", "hi"), [(0, 100), (7, 35), (2000, 6500), (153, 500), (5, 5)])
def test_int_range_regex_matches_exactly_the_range(lo: int, hi: int) -> None:
    pattern = re.compile(f"^(?:{fr.int_range_regex(lo, hi)})$")
    wrong = [x for x in range(0, 7000) if bool(pattern.match(str(x))) != (lo <= x <= hi)]
    assert wrong == []
    assert not pattern.match(f"0{lo}")


def test_a_shorter_name_than_the_request_says_is_doubtful() -> None:
    """ "Fermer le pishyn wasserventil" written as the "Wasserventil": the request says every
    word of a longer name that holds the written one."""
    home = Catalog(
        [
            Entity("light.lamp", "Lamp", "Office", services=light_services()),
            Entity("light.emma_lamp", "Emma lamp", "Office", services=light_services()),
            Entity("light.office_lamp", "Office lamp", "Hall", services=light_services()),
        ],
        areas=[Area("Office"), Area("Hall")],
    )
    lamp = fr.parse_frame("act name [ lamp ] on")
    assert doubtful_clause(lamp, home, "turn on emma lamp") == (0, "unsaid")
    assert doubtful_clause(lamp, home, "turn on the lamp") is None
    # the longer name's other words are the place the frame writes: not a longer name
    placed = fr.parse_frame("act name [ lamp ] @ [ office ] on")
    assert doubtful_clause(placed, home, "turn on the lamp in the office") is None
    # another clause names the longer one
    both = fr.parse_frame("act name [ lamp ] on ; act name [ emma lamp ] on")
    assert doubtful_clause(both, home, "turn on the lamp and emma lamp") is None


def test_a_name_said_only_in_other_words_that_name_another_device_is_doubtful() -> None:
    lights = [
        Entity("light.deckenlicht_2", "Deckenlicht 2", "Flur", services=light_services()),
        Entity("light.deckenlampe_2", "Deckenlampe 2", "Küche", services=light_services()),
    ]
    home = Catalog(lights, areas=[Area("Flur"), Area("Küche")])
    said = "und deckenlampe 2 abschalten"
    other = fr.parse_frame("act name [ deckenlicht 2 ] off")
    assert doubtful_clause(other, home, said) == (0, "unsaid")
    assert doubtful_clause(fr.parse_frame("act name [ deckenlampe 2 ] off"), home, said) is None
    # with no device of that very name, the other words still say the one there is
    alone = Catalog(lights[:1], areas=[Area("Flur")])
    assert doubtful_clause(other, alone, said) is None


@pytest.mark.parametrize(
    ("text", "time"),
    [
        ("Power on the thermostat at 7 pm", (19, 0)),
        ("à 19h45 ferme le volet", (19, 45)),
        ("every weekday at 6:30", (6, 30)),
        ("um 6 Uhr 30 das Licht an", (6, 30)),
        ("turn on the light at 7 o'clock", (7, 0)),
        ("turn on the light at 7", None),  # a number, perhaps no time
        ("turn on the light in 10 minutes", None),  # a delay, no time of day
        ("set it to 20 at 7 pm", None),  # 20:00 or 19:00: not one
        ("turn on the light", None),
    ],
)
def test_the_one_time_of_day_a_request_says(text: str, time: tuple[int, int] | None) -> None:
    assert time_said(text) == time


def test_a_name_of_a_kind_and_a_place_is_said_by_the_kind_s_word_in_any_language() -> None:
    home = Catalog(
        [
            Entity("valve.sprinklers", "Garden sprinklers", "Garden", services=valve_services()),
            Entity("light.path", "Garden path lights", "Garden", services=light_services()),
            Entity("light.floor", "Floor lamp", "Hall", services=light_services()),
            Entity(
                "climate.hall",
                "Thermostat",
                "Hall",
                services=climate_services(min_temp=7, max_temp=30),
            ),
        ],
        areas=[Area("Garden"), Area("Hall")],
    )
    assert name_said("garden sprinklers", home, "lance l'arrosage du jardin")
    assert name_said("garden sprinklers", home, "bewässerung im garten an")
    assert not name_said("garden sprinklers", home, "lance l'arrosage")  # the place unsaid
    assert not name_said("floor lamp", home, "enciende la lámpara")  # a kind's word alone
    # nor is a thermostat what the word of another kind says
    warmer = fr.parse_frame("act thermostat @ [ garden ] temperature up")
    assert doubtful_clause(warmer, home, "bewässerung im garten an") == (0, "class")
    assert doubtful_clause(warmer, home, "mach die heizung im garten wärmer") is None


def test_a_sweep_here_that_finds_no_device_able_to_do_it_is_doubtful() -> None:
    home = _home()
    dim = fr.parse_frame("act all light here brightness 40")
    # the hall's one lamp cannot be dimmed: "the Light to 40 %" is no light of the hall
    assert doubtful_clause(dim, home, "set the light to 40 percent", "Hall") == (0, "sweep")
    assert doubtful_clause(dim, home, "set the light to 40 percent", "Office") is None
