"""Language detection for requests that do not say their language."""

from __future__ import annotations

from collections import Counter

from edgeward.runtime.language import detect_language
from edgeward.runtime.planner import language_code
from edgeward.runtime.requests_data import Example


def test_plain_requests() -> None:
    assert detect_language("turn off the kitchen lights") == "en"
    assert detect_language("allume le lampadaire du salon") == "fr"
    assert detect_language("enciende la lámpara de pie") == "es"
    assert detect_language("schalte die Stehlampe ein") == "de"
    assert detect_language("Garage zu") == "de"


def test_no_answer_when_the_words_do_not_tell() -> None:
    assert detect_language("") is None
    assert detect_language("xq zzv 0909") is None
    assert detect_language("🙂") is None


def test_a_language_given_wins_and_english_is_the_fallback() -> None:
    assert language_code("de", "turn off the lights") == "de"
    assert language_code(None, "éteins la lumière") == "fr"
    assert language_code("it", "xq zzv") == "en"


def test_generated_requests(test_examples: list[Example]) -> None:
    """Generated requests often name devices in another language than they are said in (a
    French home spoken to in German), the hard case for a word count."""
    outcome: Counter[str] = Counter()
    for example in test_examples:
        found = detect_language(example.text)
        outcome["right" if found == example.language else "none" if found is None else "wrong"] += 1
    total = sum(outcome.values())
    assert outcome["right"] / total >= 0.93
    assert outcome["wrong"] / total <= 0.02
