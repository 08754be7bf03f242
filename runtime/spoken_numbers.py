"""Whole numbers in words, both ways: for the training data's requests, and as digits for the
planner's model.

"set the thermostat to twenty two degrees" reaches the model as "set the thermostat to 22
degrees". Digits are one token each and the plan copies them; number words in four languages
are one more thing for a model of two million parameters to learn, and it got them wrong
("twenty two" became 20 and a two-minute delay). The words are CLDR's spell-out rules
(unicode-rbnf), the same that say the training data's numbers, from 0 to 100 in every gender
the language has. One is left in words: "un", "una", "ein" are articles too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from unicode_rbnf import RbnfEngine

from edgeward.runtime.homes import fold

_RULESETS = {
    "en": "spellout-cardinal",
    "fr": "spellout-cardinal-masculine",
    "es": "spellout-cardinal-masculine",
    "de": "spellout-cardinal",
}
_LARGEST = 100
_NOT_AFTER = re.compile(r"(?:pour|por)\s+$", re.IGNORECASE)
""""pour cent", "por ciento": a hundred there means percent."""


@lru_cache(maxsize=8)
def _engine(language: str) -> RbnfEngine:
    return RbnfEngine.for_language(language)


def spoken(language: str, number: int) -> str:
    """A whole number in words: twenty-one, vingt et un, veintiuno, einundzwanzig."""
    result = _engine(language).format_number(number)
    text = result.text_by_ruleset.get(_RULESETS[language], result.text)
    return text.replace("-", " ") if language == "fr" else text


@lru_cache(maxsize=8)
def _numbers(language: str) -> tuple[re.Pattern[str], dict[str, int]]:
    """A pattern for every number word of ``language`` (longest first, spaces and hyphens
    alike), and the number each stands for."""
    values: dict[str, int] = {}
    for number in (0, *range(2, _LARGEST + 1)):
        for text in _engine(language).format_number(number).text_by_ruleset.values():
            values.setdefault(_key(text), number)
    words = sorted(values, key=len, reverse=True)
    alternatives = "|".join(r"[\s-]+".join(map(re.escape, w.split())) for w in words)
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])", re.IGNORECASE), values


@lru_cache(maxsize=1)
def number_words() -> frozenset[str]:
    """Every word (folded) of the numbers said in words, in the four languages ("vingt",
    "cincuenta", "zweiundzwanzig")."""
    return frozenset(
        fold(w) for language in _RULESETS for key in _numbers(language)[1] for w in key.split()
    )


def _key(text: str) -> str:
    return " ".join(text.lower().replace("-", " ").split())


def with_digits(text: str, language: str) -> str:
    """``text`` with the numbers said in words written in digits ("vingt-deux" -> "22")."""
    if language not in _RULESETS:
        return text
    pattern, values = _numbers(language)

    def digits(match: re.Match[str]) -> str:
        if _NOT_AFTER.search(text, 0, match.start()):
            return match.group(0)
        return str(values[_key(match.group(0))])

    return pattern.sub(digits, text)


_SAID_NUMBER = re.compile(r"(\d+)(?:\s*(?:[.,]|point|virgule|coma|punto|komma)\s*(\d+))?")
_HALF = re.compile(
    r"\b(?:half|halfway|moitie|mi|demi|demie|mitad|medio|media|medias|halb|halbe|halben|halfte)\b"
)


@lru_cache(maxsize=256)
def numbers_said(text: str) -> frozenset[float]:
    """Every number ``text`` says, in digits or in words of any of the four languages, with a
    decimal part said after a comma or a point ("21 komma 5"), and, when it says a half, each
    number and a half and 50 ("18 y medio": 18 and 18.5; "halb auf": 50)."""
    return _said(text, ())


@lru_cache(maxsize=256)
def values_said(text: str) -> frozenset[float]:
    """The numbers ``text`` says (:func:`numbers_said`) but for those it says as a time of day or
    a delay, and the whole part of a decimal: "a las 12:15 cortina al 5%" says the value 5, not
    12 or 15; "up to 15.5 in 15 minutes" says 15.5."""
    return _said(text, (_HOUR_AND_MINUTES, _TIME_OF_DAY, _DELAY))


@lru_cache(maxsize=256)
def lengths_said(text: str) -> frozenset[float]:
    """The numbers ``text`` says (:func:`numbers_said`) but for those it says as a time of day,
    and those of the delays it says: what a delay may last ("à 22h" says no 22 minutes, "dans 4
    heures" says 4)."""
    delays = {float(n) for delay in _found(_DELAY, text) for n in re.findall(r"\d+", delay.group())}
    return _said(text, (_HOUR_AND_MINUTES, _TIME_OF_DAY)) | delays


def _said(text: str, leave_out: tuple[re.Pattern[str], ...]) -> frozenset[float]:
    """The numbers ``text`` says outside what the ``leave_out`` patterns find; a decimal's whole
    part too, unless they leave something out ("15.5" is then 15.5 alone)."""
    said: set[float] = set()
    for language in _RULESETS:
        spoken_text = with_digits(text, language)
        for pattern in leave_out:
            spoken_text = pattern.sub(" ", spoken_text)
        for match in _SAID_NUMBER.finditer(spoken_text):
            whole, part = match.groups()
            if part is None or not leave_out:  # "15.5" says the value 15.5, not 15
                said.add(float(whole))
            if part is not None:
                said.add(float(f"{whole}.{part}"))
    if _HALF.search(fold(text)):
        said |= {n + 0.5 for n in said} | {50.0}
    return frozenset(said)


_TIME_OF_DAY = re.compile(
    r"\b\d{1,2}(?::\d{2}\b|\s?h\b|\s?h\s?\d{2}\b|\s(?:heures?|uhr|o'?clock)\b|\s?(?:pm|am|p\.m\.|a\.m\.)(?!\w))"
    r"|\ba\s+las?\s+\d{1,2}\b",
    re.IGNORECASE,
)


_DELAY = re.compile(
    r"\b(?:in|dans|en|dentro de)\s+\d+\s*(?:s|sec|secs|seconds?|secondes?|segundos?|sekunden?"
    r"|min|mins|minutes?|minutos?|minuten?|h|hours?|heures?|horas?|stunden?)\b",
    re.IGNORECASE,
)
"""A delay said in digits: "in 15 minutes", "dans 20 min", "en 3 horas", "in 2 Stunden"."""

_HOUR_AND_MINUTES = re.compile(r"\b(\d{1,2})\s?(?::|h|heures?|uhr)\s?(\d{2})\b", re.IGNORECASE)


def _found(pattern: re.Pattern[str], text: str) -> Iterator[re.Match[str]]:
    """Where ``pattern`` matches ``text`` with its numbers said in words written as digits, by
    the spell-out rules of each of the four languages in turn."""
    for language in _RULESETS:
        yield from pattern.finditer(with_digits(text, language))


@lru_cache(maxsize=256)
def times_said(text: str) -> frozenset[tuple[int, int]]:
    """The times of day ``text`` says with their minutes, as (hour, minute): "6:15 pm" (6, 15),
    "à 6 heures 15", "um 23 Uhr 15", "19h45"."""
    return frozenset((int(hm[1]), int(hm[2])) for hm in _found(_HOUR_AND_MINUTES, text))


@lru_cache(maxsize=256)
def says_a_delay(text: str) -> bool:
    """Whether ``text`` says a delay in digits or in words: "in 15 minutes", "dans vingt
    minutes", "en 45 segundos"."""
    return any(_found(_DELAY, text))


@lru_cache(maxsize=256)
def says_a_time(text: str) -> bool:
    """Whether ``text`` says a time of day, in digits or in words: "at 7 pm", "à 21h", "a las
    ocho", "um 18 Uhr", "6:30"."""
    return any(_found(_TIME_OF_DAY, text))
