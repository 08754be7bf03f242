"""The words that say which of two opposite actions a request asks for."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from edgeward.runtime.action_words import (
    OPPOSITES,
    SIDES,
    asks,
    asks_what_is_on,
    commands,
    contradicts,
    only_checks,
    raises_or_lowers,
    said_action,
    says_a_degree,
    says_an_action,
    says_colour,
    says_open_or_close,
    says_the_other_way,
    says_which_action,
    without_on_off,
)


@pytest.mark.parametrize(
    ("action", "text"),
    [
        ("off", "power on the kitchen lights"),
        ("open", "pull down the blinds in the bathroom"),
        ("on", "quita la luz del pasillo"),
        ("off", "Allume la lumière du salon"),
        ("off", "Éclairer les pièces en haut"),
        ("on", "deactivate all the lights in the workshop"),
        ("off", "Activer les lampes du rez-de-chaussée"),
        ("on", "cambia el extractor"),  # a word for toggling, and no side
        ("close", "bascule le volet"),
        ("on", "deactivate all the lights in the workshop"),
        ("off", "Activer les lampes du rez-de-chaussée"),
        ("close", "mach die Rollläden im Schlafzimmer auf"),
        ("on", "baja la persiana"),  # a blind that "on" would open
        ("unlock", "verriegle die Haustür"),
        ("on", "arrête les lumières de la cuisine"),  # stopping a light is turning it off
        ("off", "démarre toutes les lampes du rez-de-chaussée"),
        ("lock", "quita el candado de la puerta lateral"),  # "quita" unlocks a lock
        ("lock", "quite candado las puerta lateral"),  # and its subjunctive, "quite"
        ("toggle", "arrete le Dressing VMC"),  # one side, and no word for toggling
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
        ("stop", "arrête le volet"),
        ("on", "enciende la luz para leer"),  # "para" is "for" too: no word of a side
        ("lock", "power on the lights"),  # other pair: nothing said of it
        ("on", "turn on the light and close the blinds"),  # both sides: two clauses, perhaps
        ("on", "cambia y enciende la luz"),  # toggling said with a side
        ("toggle", "cambia la luz"),
        ("toggle", "bascule et allume la lampe"),  # toggling said with a side
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
    assert contradicts("on", "run lights off", ())
    assert not contradicts("on", "run lights off", ("lights off",))


def test_every_action_with_an_opposite_has_words_on_both_sides() -> None:
    for pair, side in OPPOSITES.values():
        assert side in set(SIDES[pair].values())
        assert -side in set(SIDES[pair].values())


_ACTION, _OPEN_CLOSE, _DEGREE = says_an_action, says_open_or_close, says_a_degree


@pytest.mark.parametrize(
    ("test", "text", "says"),
    [
        # a part of a request says an action or takes one from the part it is said with
        (_ACTION, "turn off the tv backlight", True),
        (_ACTION, "the floor lamp", False),
        (_ACTION, "et le lampadaire", False),
        (_ACTION, "bascule le sapin", True),
        (_ACTION, "die Stehlampe aus", True),
        (_ACTION, "lance bonne nuit", True),
        (_ACTION, "y la lámpara de pie", False),
        # "the garage" is its door only with a word for opening or closing
        (_OPEN_CLOSE, "close the garage, I'm leaving", True),
        (_OPEN_CLOSE, "ferme le garage", True),
        (_OPEN_CLOSE, "mach die Garage zu", True),
        (_OPEN_CLOSE, "abre el garaje", True),
        (_OPEN_CLOSE, "turn on the garage", False),
        (_OPEN_CLOSE, "allume le garage", False),
        (_OPEN_CLOSE, "enciende el garaje", False),
        # more or less of something is a level, not a switch
        (_DEGREE, "turn the heating down a notch", True),
        (_DEGREE, "baisse un peu le chauffage", True),
        (_DEGREE, "mach die Schreibtischlampe etwas heller", True),
        (_DEGREE, "sube un poco la lámpara del escritorio", True),
        (_DEGREE, "suaviza la lámpara de pie", True),
        (_DEGREE, "soften the floor lamp", True),
        (_DEGREE, "abre las persianas del dormitorio a la mitad", True),  # a level: half
        (_DEGREE, "more light from the floor lamp", True),  # a level, not "on"
        (_DEGREE, "un poco menos luz en el salón", True),
        (_DEGREE, "mach das Licht um halb acht an", False),  # half past seven
        (_DEGREE, "turn off the heating", False),
        (_DEGREE, "éteins le chauffage", False),
        # raising or lowering, with no word for on or off: of a light, a level
        (raises_or_lowers, "sube la lámpara de lectura", True),
        (raises_or_lowers, "dreh das Licht runter", True),
        (raises_or_lowers, "enciende y sube la luz", False),
        (raises_or_lowers, "allume la lampe du haut", False),
        # a request to check something, with no action, is a question
        (only_checks, "prüf die wohnzimmer steckdose", True),
        (only_checks, "vérifie la porte d'entrée", True),
        (only_checks, "comprueba la luz del pasillo", True),
        (only_checks, "read the zuroplel temperature thanks", True),
        (only_checks, "lies die Temperatur im Bad", True),
        (only_checks, "check the garage door", True),
        (only_checks, "check the door and lock it", False),
        (only_checks, "turn on the shelf light", False),
        # a verb that only carries an action does not say which
        (says_which_action, "put the hallway roller blind", False),
        (says_which_action, "schalte die TV-Beleuchtung", False),
        (says_which_action, "mets en route le ventilateur", True),
        (says_which_action, "turn off the tv", True),
        # a request that opens with the verb of a command acts, whatever else it says
        (commands, "baja las persianas del salón", True),
        (commands, "hey mach mal wohnzimmer vorhang auf", True),
        (commands, "bitte aktiviere heizkörper", True),
        (commands, "a ver pon la lámpara en rojo", True),
        (commands, "dime si la luz está encendida", False),
        (commands, "planta baja luces apagadas", False),  # a floor, not "baja"
        (commands, "kitchen light off", False),
        (commands, "fermer le store du salon", True),
        (commands, "und das gasventil schließen", True),
        (commands, "bitte das Licht ausschalten bitte", True),
        (commands, "kannst du das Licht ausschalten?", False),  # asked: the model's to read
        # a question opens with a word of one and has its mark; a polite command is none
        (asks, "¿está encendida la luz del garaje?", True),
        (asks, "is the garage door open?", True),
        (asks, "qu'est-ce qui est allumé ?", True),
        (asks, "ok, ist die Haustür zu?", True),
        (asks, "Es ist stickig?", False),  # said, not asked
        (asks, "est-ce que tu peux allumer la lampe ?", False),
        (asks, "can you turn on the lamp?", False),
        (asks, "is the garage door open", False),  # no mark: perhaps a command after all
        # asking what is on somewhere asks about its lights
        (asks_what_is_on, "what's on in the kitchen", True),
        (asks_what_is_on, "c'est allumé dans le salon ?", True),
        (asks_what_is_on, "brennt oben noch was", True),
        (asks_what_is_on, "qué está encendido en la cocina", True),
        (asks_what_is_on, "turn on the kitchen light", False),
        (asks_what_is_on, "What's on my calendar todyy", False),
        (asks_what_is_on, "what is on tv tonight", False),
        (asks_what_is_on, "whats on upstairs", True),
        # a colour is said in any of its forms, in any of the four languages
        (lambda text: says_colour("purple", text), "mets les lumières en violette", True),
        (lambda text: says_colour("red", text), "pon las luces rojas", True),
        (lambda text: says_colour("warm_white", text), "lampe en blanc chaud", True),
        (lambda text: says_colour("yellow", text), "cambia la lámpara", False),
        (lambda text: says_colour("warm_white", text), "lampe en blanc", False),
    ],
)
def test_what_a_request_says_by_its_words(
    test: Callable[[str], bool], text: str, says: bool
) -> None:
    assert test(text) is says


def test_words_for_on_off_open_and_close_and_fillers_are_taken_out_and_nothing_else() -> None:
    assert without_on_off("Cierra el garaje que me voy") == "el garaje que me voy"
    assert without_on_off("vale cambia la Cafetera salón") == "cambia la cafetera salon"  # no valve
    assert without_on_off("schließ die Garage zu") == "die garage"
    assert without_on_off("cierra con llave la puerta") == "con llave la puerta"


@pytest.mark.parametrize(
    ("way", "text", "other"),
    [
        ("down", "un poco más de luz en el flexo", True),
        ("down", "le lampadaire un peu plus fort", True),
        ("up", "dreh das Deckenlicht etwas runter", True),
        ("up", "un poco más fresco", True),
        ("down", "un poco más fresco", False),
        # a feeling, read when the request says no word of a way
        ("up", "mir ist heiß im Büro", True),
        ("down", "hace fresco en el salón", True),
        ("down", "il fait un peu frais ici", True),
        ("down", "il fait trop chaud", False),
        ("up", "sube y baja", False),  # both ways: never contradicted
        ("brightness", "un poco más de luz", False),  # not a way
    ],
)
def test_a_request_that_says_the_other_way_of_a_relative_change(
    way: str, text: str, other: bool
) -> None:
    assert says_the_other_way(way, text) is other


def test_names_are_not_words_of_a_way() -> None:
    assert not says_the_other_way("up", "dim the up light")  # both ways, as far as words go
    assert says_the_other_way("up", "dim the up light", ("up light",))


@pytest.mark.parametrize(
    ("domain", "text", "action"),
    [
        ("light", "quita la lámpara de pie", "off"),
        ("lock", "quita el candado de la puerta", "unlock"),
        ("cover", "baja la persiana del salón", "close"),
        ("valve", "mach das Wasserventil auf", "open"),
        ("climate", "bitte aktiviere heizkörper", "on"),
        ("light", "cambia la luz del techo", "toggle"),
        ("lock", "cambia la cerradura", None),  # a lock is not toggled
        ("light", "turn off the light on the porch", None),  # both sides: not said
        ("light", "set the lamp to 40 percent", None),
        ("scene", "activate movie night", None),
    ],
)
def test_the_action_a_request_says_for_a_kind_of_device(
    domain: str, text: str, action: str | None
) -> None:
    assert said_action(domain, text) == action
