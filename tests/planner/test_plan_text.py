"""The compact plan language and its grammar: every expected plan can be written, parsed back and
decoded under the grammar; numbers outside announced ranges cannot."""

from __future__ import annotations

import re

import pytest

from edgeward.runtime.catalog import Catalog, Entity
from edgeward.runtime.constrained import compile_lark
from edgeward.runtime.errors import GrammarError
from edgeward.runtime.local_model import LocalModel
from edgeward.runtime.plan import Plan, PlannedCall, When
from edgeward.runtime.plan_rules import plan_key
from edgeward.runtime.planner import (
    PlanTextError,
    int_range_regex,
    plan_grammar,
    plan_to_text,
    prompt_entities,
    prompt_parts,
    reference_token_ids,
    text_to_plan,
)
from edgeward.runtime.requests_data import generate
from edgeward.runtime.services import climate_services, light_services, lock_services


def _examples(n: int) -> list:
    out = []
    for example in generate("test", n * 2, seed=3):
        if len(example.home) <= 64:
            out.append(example)
        if len(out) == n:
            break
    return out


@pytest.mark.parametrize(("lo", "hi"), [(0, 100), (7, 35), (2000, 6500), (153, 500), (5, 5)])
def test_int_range_regex_matches_exactly_the_range(lo: int, hi: int) -> None:
    pattern = re.compile(f"^(?:{int_range_regex(lo, hi)})$")
    wrong = [x for x in range(0, 7000) if bool(pattern.match(str(x))) != (lo <= x <= hi)]
    assert wrong == []
    assert not pattern.match(f"0{lo}")


def test_every_generated_plan_round_trips_through_the_text() -> None:
    for example in _examples(150):
        entities = prompt_entities(example.home, example.text, example.area)
        parts = prompt_parts(example.home, example.text, example.area, entities)
        text = plan_to_text(example.plan, parts.index_of(), example.state, example.home)
        back = text_to_plan(text, parts.entities, example.home, example.state)
        assert plan_key(back) == plan_key(example.plan), text


def test_grammar_accepts_every_generated_plan(shipped_model: LocalModel) -> None:
    info = shipped_model.tokenizer_info
    for example in _examples(60):
        entities = prompt_entities(example.home, example.text, example.area)
        parts = prompt_parts(example.home, example.text, example.area, entities)
        text = plan_to_text(example.plan, parts.index_of(), example.state, example.home)
        state = compile_lark(
            info, plan_grammar(entities, reference_token_ids(shipped_model))
        ).state()
        state.consume(shipped_model.encode(text))
        assert state.accepting, text


def _home() -> Catalog:
    return Catalog(
        [
            Entity("light.desk", "Desk", "office", services=light_services(brightness=True)),
            Entity("lock.front", "Front door", "hall", services=lock_services()),
            Entity(
                "climate.hall", "Hall", "hall", services=climate_services(min_temp=7, max_temp=30)
            ),
        ]
    )


def test_grammar_rejects_out_of_range_values_and_unknown_services(
    shipped_model: LocalModel,
) -> None:
    home = _home()
    entities = sorted(home.entities.values(), key=lambda e: e.entity_id)
    grammar = compile_lark(
        shipped_model.tokenizer_info, plan_grammar(entities, reference_token_ids(shipped_model))
    )
    index = {e.entity_id: i for i, e in enumerate(entities)}
    light, lock = f"<e{index['light.desk']}>", f"<e{index['lock.front']}>"
    for good in (f"act {light} turn_on brightness_pct 100", f"act {lock} lock", "no out_of_domain"):
        state = grammar.state()
        state.consume(shipped_model.encode(good))
        assert state.accepting, good
    for bad in (
        f"act {light} turn_on brightness_pct 101",
        f"act {lock} turn_on",
        f"act {light} lock",
        "act <e9> turn_on",
    ):
        with pytest.raises(GrammarError):
            grammar.state().consume(shipped_model.encode(bad))


def test_relative_values_need_the_current_state() -> None:
    home = _home()
    entities = sorted(home.entities.values(), key=lambda e: e.entity_id)
    index = {e.entity_id: i for i, e in enumerate(entities)}
    text = f"act <e{index['climate.hall']}> set_temperature temperature up"
    plan = text_to_plan(text, entities, home, {"climate.hall": {"temperature": 30}})
    assert plan.calls[0].args["temperature"] == 30  # clamped at the announced maximum
    plan = text_to_plan(text, entities, home, {"climate.hall": {"temperature": 20.0}})
    assert plan.calls[0].args["temperature"] == 21
    with pytest.raises(PlanTextError, match="current value"):
        text_to_plan(text, entities, home)


def test_timing_is_written_in_the_largest_whole_unit() -> None:
    home = _home()
    entities = sorted(home.entities.values(), key=lambda e: e.entity_id)
    index = {e.entity_id: i for i, e in enumerate(entities)}
    plan = Plan(
        "act",
        (
            PlannedCall("light.turn_off", {"entity_id": "light.desk"}, When(delay_s=600)),
            PlannedCall("lock.lock", {"entity_id": "lock.front"}, When(cron="30 6 * * 1-5")),
        ),
    )
    text = plan_to_text(plan, index)
    assert "@in 10 min" in text and "@cron 30 6 * * 1-5" in text
    assert plan_key(text_to_plan(text, entities, home)) == plan_key(plan)
