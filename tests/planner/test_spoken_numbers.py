"""Numbers said in words reach the planner's model as digits."""

from __future__ import annotations

import pytest

from edgeward.runtime.eval_set import load_eval_home
from edgeward.runtime.planner import prompt_parts
from edgeward.runtime.spoken_numbers import (
    numbers_said,
    says_a_time,
    spoken,
    times_said,
    values_said,
    with_digits,
)


@pytest.mark.parametrize(
    ("language", "text", "expected"),
    [
        ("en", "set the thermostat to twenty two degrees", "set the thermostat to 22 degrees"),
        ("en", "Twenty-Two", "22"),
        ("fr", "règle le thermostat sur vingt-deux degrés", "règle le thermostat sur 22 degrés"),
        ("fr", "soixante dix pour cent", "70 pour cent"),
        ("fr", "à cent pour cent", "à 100 pour cent"),  # "pour cent" stays percent
        (
            "es",
            "al veinticinco por ciento en treinta y cinco minutos",
            "al 25 por ciento en 35 minutos",
        ),
        ("de", "auf Zweiundzwanzig Grad in zehn Minuten", "auf 22 Grad in 10 Minuten"),
        # one is also an article; ordinals are not counts; words inside words stay
        ("fr", "allume une lampe au premier étage", "allume une lampe au premier étage"),
        ("en", "turn on the big one", "turn on the big one"),
        ("en", "the network printer", "the network printer"),
        ("de", "die Achterbahn", "die Achterbahn"),
        ("xx", "twenty", "twenty"),
    ],
)
def test_number_words_become_digits(language: str, text: str, expected: str) -> None:
    assert with_digits(text, language) == expected


@pytest.mark.parametrize("language", ["en", "fr", "es", "de"])
def test_every_number_the_training_data_says_comes_back(language: str) -> None:
    for number in (0, *range(2, 101)):
        assert with_digits(f"x {spoken(language, number)} y", language) == f"x {number} y"


def test_the_model_reads_digits() -> None:
    parts = prompt_parts(load_eval_home(), "mets le chauffage à vingt et un", None, [], "fr")
    assert parts.user == "[ - ] mets le chauffage à 21"


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a las 12:15 cortina al cinco %", {12, 15, 5}),
        ("chauffe à 18,5 degrés", {18, 18.5}),
        ("heiz auf einundzwanzig komma fünf", {21, 21.5}),
        ("calienta a dieciocho y medio grados", {18, 18.5, 50}),  # a half: 18.5
        ("Rollo halb auf", {50}),  # halfway: 50
        ("fahr die Markise zur Hälfte aus", {50}),
        ("mets le volet à cent %", {100}),
        ("turn on the lamp", set()),
    ],
)
def test_the_numbers_a_request_says(text: str, said: set[float]) -> None:
    assert numbers_said(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("a las 12:15 cortina al 5%", {5.0}),
        ("pon el aire a 18 a las 21:00 los fines de semana", {18.0}),
        ("à 21h allume les lumières", set()),
        ("set it to 7 at 7 pm", {7.0}),
        ("um 23 Uhr 15 auf 40 Prozent", {40.0}),
        ("turn the radiator up to 15.5 in 15 minutes", {15.5}),  # not the delay, nor 15
        ("pon la calefacción a 21,5 en 3 horas", {21.5}),
    ],
)
def test_the_values_a_request_says_leave_out_its_times_of_day(text: str, said: set[float]) -> None:
    assert values_said(text) == said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("À 13h ouvre les volets", True),
        ("apaga la luz a las ocho", True),
        ("mach das Licht um 18 Uhr aus", True),
        ("turn it off at 7 pm", True),
        ("at 6:30 open the blinds", True),
        ("mets le chauffage à 21 degrés", False),
        ("dreh das Licht um 20 Prozent runter", False),
        ("turn it off in 10 minutes", False),
    ],
)
def test_a_request_that_says_a_time_of_day(text: str, said: bool) -> None:
    assert says_a_time(text) is said


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("run reading from monday to friday at 6:15 pm", {(6, 15)}),
        ("bascule les spots à 6 heures 15", {(6, 15)}),
        ("um 23 Uhr 15 an Werktagen", {(23, 15)}),
        ("à 19h45", {(19, 45)}),
        ("at 7 pm", set()),  # no minutes
        ("a las siete y cuarto", set()),  # a quarter in words: not minutes in digits
    ],
)
def test_the_times_a_request_says_with_their_minutes(text: str, said: set[tuple[int, int]]) -> None:
    assert times_said(text) == said
