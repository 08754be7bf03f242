"""The cascade's second local rung: a bring-your-own backup model, asked only when the first
planner is unsure or answers unsupported, before the upstream.

Both planners are real ONNX models with random weights (``runtime/random_model.py``) answering
under the catalog's JSON schema. What they say is fixed by their weights, so each test first asks
a copy of the same model directly for the plan it will give, and then checks what the running
gateway does with it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edgeward.daemon.doctor import check_backup_model
from edgeward.daemon.planning import (
    Planned,
    PlannerThread,
    load_backup_planner,
    load_planner,
    needs_backup,
)
from edgeward.daemon.settings import ModelSettings, load_settings
from edgeward.runtime.catalog import Catalog
from edgeward.runtime.plan import Plan
from edgeward.runtime.random_model import TINY, train_tokenizer, write_onnx_model
from tests.daemon.harness import GW, client_for, running_service, settings_for, simulated_home
from tests.mosquitto import Mosquitto
from tests.policies.policy_builders import make_keys, root_envelope, signed_policy, valid_now
from tests.upstream.fake_llm import FakeLLM, text_reply

# A context long enough for the simulated home's prompt and a JSON answer.
SHAPE = dataclasses.replace(TINY, max_position_embeddings=4096)
REQUESTS = (
    "turn on the kitchen light",
    "switch off the hallway light",
    "open the garage door",
    "set the living room to 21 degrees",
    "is the front door locked?",
    "turn on the office desk plug",
)


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The first planner's model and the backup's: two random chat models (not the embedded
    plan language, so both are schema planners)."""
    root = tmp_path_factory.mktemp("planners")
    tokenizer = train_tokenizer(SHAPE.vocab_size)
    first = write_onnx_model(root / "first", SHAPE, seed=2, tokenizer=tokenizer)
    backup = write_onnx_model(root / "backup", SHAPE, seed=1, tokenizer=tokenizer)
    return first, backup


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def _policy(tmp_path: Path, llm: FakeLLM | None) -> dict[str, str]:
    """A signed policy that lets every tool run and, with ``llm``, names it as the upstream."""
    keys = make_keys(1)
    root, policy = tmp_path / "root.json", tmp_path / "policy.json"
    root.write_bytes(root_envelope(keys, threshold=1))
    upstreams = [{"name": "test-llm", "url": llm.base_url, "region": "local"}] if llm else []
    policy.write_bytes(
        signed_policy(
            keys,
            version=1,
            gateways=[GW],
            **valid_now(),
            default_effect="allow",
            rules=[],
            upstreams=upstreams,
            residency={"free_text": "allow", "device_id": "allow"},
        )
    )
    return {"trust_root": str(root), "path": str(policy)}


def _settings(broker: Mosquitto, tmp_path: Path, model: dict[str, Any], policy: dict[str, str]):
    return settings_for(
        broker,
        tmp_path / "state",
        model=model,
        policy=policy,
        upstream={"max_retries": 0, "timeout_s": 5},
    )


def _plan_of(folder: Path, catalog: Catalog, text: str) -> Plan:
    """What a model on ``folder`` plans for ``text``, asked directly (the daemon's own loader)."""
    loaded = load_backup_planner(ModelSettings(backup_path=folder))
    assert loaded is not None
    return loaded[0].plan(catalog, text, None, None, {})


def _audit(tmp_path: Path, request: str) -> list[dict[str, Any]]:
    lines = (tmp_path / "state" / "audit.jsonl").read_text().splitlines()
    return [e for e in (json.loads(line)["event"] for line in lines) if e["request"] == request]


def test_the_backup_rung_acts_when_the_first_planner_is_unsure(
    broker: Mosquitto, tmp_path: Path, llm: FakeLLM, models: tuple[Path, Path]
) -> None:
    first, backup = models
    model = {
        "path": str(first),
        "backup_path": str(backup),
        "min_confidence": 1.0,  # the first planner is never sure enough
        "backup_min_confidence": 0.0,  # the backup's plan acts whatever its confidence
    }
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, model, _policy(tmp_path, llm))) as service,
        client_for(broker, timeout=30) as client,
    ):
        text, backup_plan = _act_request(service.catalog, backup, first)
        reply = client.ask("backup-1", text)
    expected = [c.to_json() for c in backup_plan.calls]
    assert reply["route"] == "local_backup", reply
    assert reply["status"] == "done", reply
    assert reply["plan"] == expected
    assert home.received, "the backup's plan moved nothing"
    assert llm.connections == 0  # the upstream was never asked
    gates = [e for e in _audit(tmp_path, "backup-1") if e["kind"] == "gate"]
    assert gates and all(
        (e["source"], e["route"]) == ("ask_local", "local_backup") for e in gates
    ), gates
    assert [e["tool"] for e in gates] == [c["tool"] for c in expected]


def test_without_a_first_planner_the_backup_is_the_local_rung(
    broker: Mosquitto, tmp_path: Path, models: tuple[Path, Path]
) -> None:
    _, backup = models
    model = {
        "path": str(tmp_path / "no-such-model"),
        "backup_path": str(backup),
        "backup_min_confidence": 0.0,
    }
    with (
        simulated_home(broker),
        running_service(_settings(broker, tmp_path, model, _policy(tmp_path, None))) as service,
        client_for(broker, timeout=30) as client,
    ):
        assert service.planner is not None and service.planner.planner is None
        text, backup_plan = _act_request(service.catalog, backup)
        reply = client.ask("backup-5", text)
    assert (reply["route"], reply["status"]) == ("local_backup", "done"), reply
    assert reply["plan"] == [c.to_json() for c in backup_plan.calls]


def _act_request(catalog: Catalog, backup: Path, first: Path | None = None) -> tuple[str, Plan]:
    """A request the backup model answers with calls (and the first, if any, does not answer
    with a question: an ``ambiguous`` plan is an answer that never reaches the backup)."""
    for text in REQUESTS:
        plan = _plan_of(backup, catalog, text)
        if plan.kind != "act" or not plan.calls:
            continue
        if first is None or _plan_of(first, catalog, text).kind != "ambiguous":
            return text, plan
    raise AssertionError("the backup model gave no act plan for any request")


def test_when_the_backup_is_unsure_too_the_request_goes_upstream(
    broker: Mosquitto, tmp_path: Path, llm: FakeLLM, models: tuple[Path, Path]
) -> None:
    first, backup = models
    model = {
        "path": str(first),
        "backup_path": str(backup),
        "min_confidence": 1.0,
        "backup_min_confidence": 1.0,  # nor is the backup
    }
    llm.script(text_reply("I can't do that from here."))
    with (
        simulated_home(broker),
        running_service(_settings(broker, tmp_path, model, _policy(tmp_path, llm))),
        client_for(broker, timeout=30) as client,
    ):
        reply = client.ask("backup-2", "plan the heating for next week around my appointments")
    assert reply["route"] == "upstream" and reply["status"] == "done", reply
    assert reply["say"] == "I can't do that from here."
    assert len(llm.received) == 1
    assert not [e for e in _audit(tmp_path, "backup-2") if e.get("source") == "ask_local"]


def test_without_an_allowed_upstream_both_rungs_are_named_in_the_refusal(
    broker: Mosquitto, tmp_path: Path, models: tuple[Path, Path]
) -> None:
    first, backup = models
    model = {
        "path": str(first),
        "backup_path": str(backup),
        "min_confidence": 1.0,
        "backup_min_confidence": 1.0,
    }
    with (
        running_service(_settings(broker, tmp_path, model, _policy(tmp_path, None))),
        client_for(broker, timeout=30) as client,
    ):
        reply = client.ask("backup-3", "plan the heating for next week")
    assert reply["status"] == "unsupported" and reply["route"] == "none", reply
    reason = reply["reason"]
    assert "the local planner" in reason and "the backup model" in reason, reason
    assert "not escalated" in reason and reply["say"]


def test_a_backup_that_does_not_load_leaves_the_daemon_running(
    broker: Mosquitto,
    tmp_path: Path,
    models: tuple[Path, Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    first, _ = models
    missing = tmp_path / "no-such-model"
    model = {"path": str(first), "backup_path": str(missing), "min_confidence": 0.0}
    settings = _settings(broker, tmp_path, model, {})
    with (
        caplog.at_level(logging.ERROR, logger="edgeward.daemon.service"),
        simulated_home(broker),
        running_service(settings) as service,
        client_for(broker, timeout=30) as client,
    ):
        reply = client.ask("backup-4", "turn on the kitchen light")
        assert service.planner is not None and service.planner.backup is None
        assert str(missing) in service.backup_problem
    # the first planner still answers (min_confidence 0: whatever it plans is its own answer)
    assert reply["route"] in {"local", "none"} and reply["route"] != "local_backup", reply
    lines = [r.getMessage() for r in caplog.records if "backup" in r.getMessage()]
    assert len(lines) == 1 and "[model] backup_path" in lines[0], lines
    check = check_backup_model(settings)
    assert not check.ok and str(missing) in check.detail and "backup_path" in check.detail


def test_doctor_reports_a_backup_that_loads(tmp_path: Path, models: tuple[Path, Path]) -> None:
    _, backup = models
    settings = load_settings(None, state_dir=str(tmp_path), model={"backup_path": str(backup)})
    check = check_backup_model(settings)
    assert check.ok and str(backup) in check.detail
    unset = load_settings(None, state_dir=str(tmp_path))
    assert check_backup_model(unset).detail.startswith("no backup model")


def test_both_rungs_run_on_the_planner_thread(models: tuple[Path, Path]) -> None:
    first, backup = models
    settings = ModelSettings(path=first, backup_path=backup, min_confidence=1.0)
    backup_loaded = load_backup_planner(settings)
    assert backup_loaded is not None
    thread = PlannerThread(load_planner(settings), backup_loaded, min_confidence=1.0)
    catalog = _home_catalog()
    seen: list[tuple[Planned, str]] = []
    done = threading.Event()

    def collect(planned: Planned) -> None:
        seen.append((planned, threading.current_thread().name))
        done.set()

    try:
        thread.submit(catalog, {"text": "turn on the kitchen light"}, {}, collect)
        assert done.wait(30)
    finally:
        thread.stop()
    planned, where = seen[0]
    assert where == "edgeward-planner"
    assert isinstance(planned.first, Plan)
    # min_confidence 1.0: the first plan is unsure (unless it asks which device), so the
    # backup was asked on the same thread
    assert (planned.backup is not None) == needs_backup(planned.first, 1.0)


def _home_catalog() -> Catalog:
    from edgeward.runtime.eval_set import load_eval_home

    return load_eval_home()


def test_which_answers_send_a_request_to_the_next_rung() -> None:
    sure = Plan("act", confidence=0.9)
    assert not needs_backup(sure, 0.8)
    assert needs_backup(dataclasses.replace(sure, confidence=0.5), 0.8)
    assert needs_backup(Plan("unsupported", reason="out_of_domain", confidence=1.0), 0.8)
    assert not needs_backup(Plan("ambiguous", confidence=0.1), 0.8)
    assert needs_backup(None, 0.8) and needs_backup(RuntimeError("boom"), 0.8)


def test_a_backup_must_be_another_model(tmp_path: Path) -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=r"backup_path .* is the model of path"):
        ModelSettings(path=tmp_path, backup_path=tmp_path)
    assert ModelSettings(min_confidence=0.7).backup_threshold == 0.7
    assert ModelSettings(backup_min_confidence=0.3).backup_threshold == 0.3


def test_the_embedded_model_runs_on_one_thread_unless_told_otherwise(
    models: tuple[Path, Path],
) -> None:
    def threads(loaded: Any) -> int:
        planner, _ = loaded
        options = planner.model._decoder.backend.session.get_session_options()
        return int(options.intra_op_num_threads)

    assert threads(load_planner(ModelSettings(backend="onnx"))) == 1
    assert threads(load_planner(ModelSettings(backend="onnx", threads=2))) == 2
    # a model of one's own runs on every core unless told otherwise (0: ONNX Runtime's default)
    first, _ = models
    assert threads(load_planner(ModelSettings(path=first))) == 0


def test_an_unsure_plan_is_said_unsure_in_figures_that_show_it() -> None:
    from edgeward.daemon.service import Service

    just_under = Plan("act", confidence=0.8999)
    why = Service._unsure(just_under, 0.9, "the local planner")
    assert why == "the local planner's confidence 0.899 is below model.min_confidence 0.9"
    assert Service._unsure(Plan("unsupported", reason="no_such_device"), 0.9, "the backup") == (
        "the backup says no_such_device"
    )
