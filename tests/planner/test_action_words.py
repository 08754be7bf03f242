"""The words that say which of two opposite actions a request asks for."""

from __future__ import annotations

import pytest

from edgeward.runtime.action_words import (
    OPPOSITES,
    SIDES,
    contradicts,
    says_a_degree,
    says_an_action,
    says_open_or_close,
    without_on_off,
)


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ("off", "power on the kitchen lights"),
        ("open", "pull down the blinds in the bathroom"),
        ("on", "quita la luz del pasillo"),
        ("off", "Allume la lumière du salon"),
        ("close", "mach die Rollläden im Schlafzimmer auf"),
        ("on", "baja la persiana"),  # a blind that "on" would open
        ("unlock", "verriegle die Haustür"),
    ],
)
def test_a_request_that_says_only_the_other_side_contradicts_the_action(
    action: str, text: str
) -> None:
    assert contradicts(action, text)


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ("on", "power on the kitchen lights"),
        ("off", "turn off the lights on the first floor"),  # "on" as a preposition, and "off"
        ("off", "mach das Licht an der Veranda aus"),  # "an" as a preposition, and "aus"
        ("off", "kill the porch light"),
        ("brightness", "turn the lights down"),  # no opposite: never contradicted
        ("lock", "power on the lights"),  # other pair: nothing said of it
        ("on", "turn on the light and close the blinds"),  # both sides: two clauses, perhaps
    ],
)
def test_a_request_that_says_the_action_or_both_sides_or_neither_does_not(
    action: str, text: str
) -> None:
    assert not contradicts(action, text)


def test_names_and_floors_are_not_words_of_a_side() -> None:
    # "baja" in "planta baja" (the ground floor) says nothing about closing
    assert not contradicts("open", "abre la llave de paso de la planta baja")
    assert contradicts("open", "baja la persiana")
    # a device named with a word of a side: its name is taken out first
    assert contradicts("on", "activate lights off", ())
    assert not contradicts("on", "activate lights off", ("lights off",))


def test_every_action_with_an_opposite_has_words_on_both_sides() -> None:
    for pair, side in OPPOSITES.values():
        assert side in set(SIDES[pair].values())
        assert -side in set(SIDES[pair].values())


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("turn off the tv backlight", True),
        ("the floor lamp", False),
        ("et le lampadaire", False),
        ("bascule le sapin", True),
        ("die Stehlampe aus", True),
        ("lance bonne nuit", True),
        ("y la lámpara de pie", False),
    ],
)
def test_a_part_of_a_request_says_an_action_or_not(text: str, says: bool) -> None:
    assert says_an_action(text) is says


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("close the garage, I'm leaving", True),
        ("ferme le garage", True),
        ("mach die Garage zu", True),
        ("abre el garaje", True),
        ("turn on the garage", False),
        ("allume le garage", False),
        ("enciende el garaje", False),
    ],
)
def test_a_request_says_to_open_or_close_or_not(text: str, says: bool) -> None:
    assert says_open_or_close(text) is says


def test_words_for_on_off_open_and_close_are_taken_out_and_nothing_else() -> None:
    assert without_on_off("Cierra el garaje que me voy") == "el garaje que me voy"
    assert without_on_off("schließ die Garage zu") == "die garage"
    assert without_on_off("cierra con llave la puerta") == "con llave la puerta"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("turn the heating down a notch", True),
        ("baisse un peu le chauffage", True),
        ("mach die Schreibtischlampe etwas heller", True),
        ("sube un poco la lámpara del escritorio", True),
        ("turn off the heating", False),
        ("éteins le chauffage", False),
    ],
)
def test_a_request_asks_for_more_or_less_of_something_or_not(text: str, says: bool) -> None:
    assert says_a_degree(text) is says
