"""Bring-your-own chat models plan under a JSON schema of the catalog: whatever the weights, every
plan fits the home."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeward.runtime.eval_set import load_eval_home
from edgeward.runtime.generate import Generation
from edgeward.runtime.local_model import load_model
from edgeward.runtime.random_model import TINY, train_tokenizer, write_onnx_model
from edgeward.runtime.schema_planner import SchemaPlanner, _to_plan

REQUESTS = [
    ("turn off the kitchen light", "Kitchen"),
    ("is the garage door open?", None),
    ("lock the door", None),
    ("make it 21 in here", "Living room"),
    ("order a pizza", None),
]


@pytest.fixture(scope="module")
def planner(tmp_path_factory: pytest.TempPathFactory) -> SchemaPlanner:
    folder = write_onnx_model(
        tmp_path_factory.mktemp("byo") / "model", TINY, tokenizer=train_tokenizer(TINY.vocab_size)
    )
    return SchemaPlanner(
        load_model(folder, max_context=TINY.max_position_embeddings), max_new_tokens=96
    )


def test_random_weights_still_give_plans_that_fit_the_home(planner: SchemaPlanner) -> None:
    home = load_eval_home()
    for text, area in REQUESTS:
        plan = planner.plan(home, text, area)
        assert plan.kind in {"act", "query", "ambiguous", "unsupported"}
        assert 0.0 <= plan.confidence <= 1.0
        for call in plan.calls:
            home.validate(call.tool, call.args)  # raises if the grammar let anything else out
        assert set(plan.candidates) <= set(home.entities)


def test_the_home_is_kept_as_a_pinned_prefix_and_a_plan_does_not_depend_on_the_one_before(
    planner: SchemaPlanner,
) -> None:
    home = load_eval_home()
    seen = []
    generate = planner.model.generate

    def recording(*args: object, **kwargs: object) -> Generation:
        generation = generate(*args, **kwargs)  # type: ignore[arg-type]
        seen.append((kwargs.get("pin"), generation.reused_prompt_tokens))
        return generation

    planner.model.generate = recording  # type: ignore[method-assign]
    try:
        alone = planner.plan(home, "lock the door")
        planner.plan(home, "turn off the kitchen light", "Kitchen")
        after = planner.plan(home, "lock the door")
        planner.plan(home, "lock the door")
    finally:
        del planner.model.generate
    assert after == alone
    # every prompt pins its head (this tiny model's context holds only part of the home, picked
    # for each request, so only a request on the same part reuses it)
    assert all(pin is not None for pin, _ in seen)
    assert seen[0][1] == 0
    assert seen[3] == (seen[2][0], seen[2][0])


def _answer(calls: list[dict[str, object]], which: list[str], unsupported: bool) -> str:
    return json.dumps({"calls": calls, "ask_which": which, "unsupported": unsupported})


def test_answers_map_to_plans() -> None:
    home = load_eval_home()
    light = next(e for e in home.entities if e.startswith("light."))
    off = {"tool": "light.turn_off", "args": {"entity_id": light}}
    act = _to_plan(_answer([off], [], False), home)
    assert act.kind == "act" and act.calls[0].args == {"entity_id": light}
    locks = sorted(e for e in home.entities if e.startswith("lock."))
    which = _to_plan(_answer([], locks, False), home)
    assert which.kind == "ambiguous" and which.candidates == tuple(locks)
    assert _to_plan(_answer([], [], True), home).reason == "out_of_domain"
    assert _to_plan("not json", home).reason == "not_understood"
    explode = {"tool": "light.explode", "args": {}}
    assert _to_plan(_answer([explode], [], False), home).kind == "unsupported"


def test_the_daemon_picks_the_schema_planner_for_a_byo_model(tmp_path: Path) -> None:
    from edgeward.daemon.planning import load_planner
    from edgeward.daemon.settings import ModelSettings
    from edgeward.runtime.planner import Planner

    folder = write_onnx_model(tmp_path / "byo", TINY, tokenizer=train_tokenizer(TINY.vocab_size))
    byo, name = load_planner(ModelSettings(path=folder))
    assert isinstance(byo, SchemaPlanner) and name == str(folder)
    embedded, name = load_planner(ModelSettings())
    assert isinstance(embedded, Planner) and name == "edgeward-embedded"
