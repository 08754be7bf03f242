"""Deterministic ``say`` texts in four languages, state answers, and the evaluation arithmetic."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import pytest

from edgeward.runtime.catalog import Catalog, Entity
from edgeward.runtime.evaluation import evaluate, format_report
from edgeward.runtime.plan import Plan, PlannedCall, When
from edgeward.runtime.planner import LANGUAGES, describe_state, say_for
from edgeward.runtime.requests_data import Example
from edgeward.runtime.services import cover_services, lock_services


def _home() -> Catalog:
    return Catalog(
        [
            Entity("lock.front", "Front door", "hall", services=lock_services()),
            Entity("lock.back", "Back door", "garden", services=lock_services()),
            Entity("cover.garage", "Garage door", "garage", device_class="garage",
                   services=cover_services()),
        ]
    )  # fmt: skip


@pytest.mark.parametrize("language", LANGUAGES)
def test_say_texts_exist_in_every_language(language: str) -> None:
    home = _home()
    ambiguous = say_for(Plan("ambiguous", candidates=("lock.back", "lock.front")), home, language)
    assert ambiguous is not None and "Back door" in ambiguous and "Front door" in ambiguous
    refusals = {
        say_for(Plan("unsupported", reason=reason), home, language)
        for reason in ("no_such_device", "out_of_domain")
    }
    assert len(refusals) == 2 and all(refusals)
    act = Plan(
        "act",
        (PlannedCall("cover.close", {"entity_id": "cover.garage"}, When(delay_s=600)),),
    )
    done = say_for(act, home, language)
    assert done is not None and "Garage door" in done and "10" in done
    assert say_for(Plan("query", (PlannedCall("state.get", {"entity_id": "lock.front"}),)), home,
                   language) is None  # fmt: skip
    others = [x for x in LANGUAGES if x != language]
    assert all(say_for(act, home, other) != done for other in others)


def test_describe_state_answers_a_question() -> None:
    garage = _home().entities["cover.garage"]
    assert describe_state(garage, "open") == "Garage door is open."
    assert describe_state(garage, "open", language="fr") == "Garage door : ouvert."
    assert describe_state(garage, "21.5", {"unit_of_measurement": "°C"}, "de") == (
        "Garage door: 21.5 °C."
    )


def test_a_thermostat_answer_gives_its_reading_and_its_setting() -> None:
    thermostat = Entity("climate.bedroom", "Bedroom radiator", area="bedroom")
    heating = {"current_temperature": 19.5, "temperature": 21.0, "hvac_modes": ["heat", "off"]}
    assert describe_state(thermostat, "heat", heating) == (
        "Bedroom radiator is heating, 19.5° now, set to 21°."
    )
    assert describe_state(thermostat, "heat", heating, "fr") == (
        "Bedroom radiator : en chauffe, 19,5° en ce moment, réglé sur 21°."
    )
    # off, with no setpoint: the reading alone; no reading at all: the mode alone
    assert describe_state(thermostat, "off", {"current_temperature": 18}, "de") == (
        "Bedroom radiator: aus, jetzt 18°."
    )
    assert describe_state(thermostat, "off", {"current_temperature": None}) == (
        "Bedroom radiator is off."
    )


class _Answers:
    """A planner that answers from a fixed table: the evaluation arithmetic under test."""

    def __init__(self, answers: Mapping[str, Plan]) -> None:
        self.answers = answers

    def plan(
        self,
        catalog: Catalog,
        text: str,
        area: str | None = None,
        language: str | None = None,
        state: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Plan:
        return self.answers[text]


def test_evaluation_counts_matches_and_must_not_act() -> None:
    home = _home()
    lock_front = Plan("act", (PlannedCall("lock.lock", {"entity_id": "lock.front"}),))
    lock_both = Plan(
        "act",
        (
            PlannedCall("lock.lock", {"entity_id": "lock.back"}),
            PlannedCall("lock.lock", {"entity_id": "lock.front"}),
        ),
    )
    which = Plan("ambiguous", candidates=("lock.back", "lock.front"))
    examples = [
        Example(home, None, "lock the front door", "en", "single", "g", lock_front),
        Example(home, None, "lock everything", "en", "multi", "g", lock_both),
        Example(home, None, "unlock the door", "fr", "ambiguous", "g", which),
        Example(home, None, "what's the weather", "de", "out_of_domain", "g",
                Plan("unsupported", reason="out_of_domain")),
    ]  # fmt: skip
    reversed_both = Plan("act", tuple(reversed(lock_both.calls)))
    answers = {
        "lock the front door": lock_front,  # right
        "lock everything": reversed_both,  # same graph, other order: not exact
        "unlock the door": Plan("act", (PlannedCall("lock.unlock", {"entity_id": "lock.back"}),)),
        "what's the weather": Plan("unsupported", reason="out_of_domain"),
    }
    report = evaluate(examples, _Answers(answers))
    overall = report.overall
    assert overall["exact_match"] == 0.5
    assert overall["tool_accuracy"] == 1.0
    assert overall["graph_success"] == 1.0
    assert overall["must_not_act_held"] == 0.5
    assert overall["ambiguity_recall"] == 0.0
    assert overall["refusal_precision"] == 1.0 and overall["refusal_recall"] == 1.0
    assert report.by_language["fr"]["exact_match"] == 0.0
    assert report.by_kind["multi"]["graph_success"] == 1.0
    assert len(report.failures) == 2
    table = format_report(report)
    assert "lang de" in table and "kind multi" in table and "missed" not in table
    listed = format_report(report, misses=1)
    assert listed.count("missed [") == 1
    assert "missed [en multi, confidence 1.00] lock everything" in listed
    assert '"lock.back"' in listed.split("missed [", 1)[1]
    # every plan has confidence 1: each threshold keeps them all; 3 acted, 2 wrongly (the
    # reordered sweep and the unlock), 1 of them on a request that must not act
    assert report.thresholds[-1] == {
        "threshold": 0.9,
        "kept": 4,
        "kept_exact": 2,
        "acted": 3,
        "acted_wrongly": 2,
        "acted_on_must_not_act": 1,
    }
    unsure = {text: replace(plan, confidence=0.6) for text, plan in answers.items()}
    unsure["lock the front door"] = lock_front
    rows = {r["threshold"]: r for r in evaluate(examples, _Answers(unsure)).thresholds}
    assert rows[0.5]["acted"] == 3 and rows[0.8]["acted"] == 1
    assert rows[0.8]["acted_wrongly"] == 0 and rows[0.8]["kept_exact"] == 1
    assert "min confidence" in table
