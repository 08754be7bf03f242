"""The signed policy in the running gateway: delivery, the gate on every path, confirmations,
triggers, and the audit trail."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

import edgeward.daemon.service as service_module
from edgeward.policies import audit
from tests.daemon.harness import (
    GW,
    Recorder,
    client_for,
    running_service,
    settings_for,
    simulated_home,
    wait_for,
)
from tests.mosquitto import Mosquitto
from tests.policies.policy_builders import make_keys, root_envelope, signed_policy, valid_now

LIGHT = "light.kitchen_ceiling_light"
LOCK = "lock.front_door_lock"


def _rules(**extra: Any) -> dict[str, Any]:
    return {
        "gateways": [GW],
        "default_effect": "deny",
        "rules": [
            {"id": "lights", "domain": "light", "effect": "allow"},
            {"id": "reads", "tool": "state.get", "effect": "allow"},
            {
                "id": "thermostat",
                "domain": "climate",
                "effect": "allow",
                "args": {"temperature": {"min": 16, "max": 24}},
            },
            {"id": "locks", "domain": "lock", "effect": "confirm"},
        ],
        **valid_now(),
        **extra,
    }


@pytest.fixture
def signed(tmp_path: Path):
    keys = make_keys(2)
    root = tmp_path / "root.json"
    root.write_bytes(root_envelope(keys, threshold=2))

    def policy(version: int, **extra: Any) -> bytes:
        return signed_policy(keys, version=version, **_rules(**extra))

    return root, policy


def _settings(broker: Mosquitto, tmp_path: Path, root: Path, policy_file: Path | None = None):
    return settings_for(
        broker,
        tmp_path / "state",
        policy={"trust_root": str(root), **({"path": str(policy_file)} if policy_file else {})},
    )


def _call(client, rid: str, tool: str, **args: Any) -> dict[str, Any]:
    return client.call(rid, [{"tool": tool, "args": args}])


def test_policy_file_at_start_governs_every_call(broker: Mosquitto, tmp_path: Path, signed) -> None:
    root, policy = signed
    policy_file = tmp_path / "policy.json"
    policy_file.write_bytes(policy(3))
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, root, policy_file)) as service,
        client_for(broker) as client,
    ):
        assert service.gate.policy is not None and service.gate.policy.version == 3
        assert _call(client, "a", "light.turn_on", entity_id=LIGHT)["status"] == "done"
        denied = _call(client, "b", "switch.turn_on", entity_id="switch.office_desk_plug")
        assert denied["status"] == "denied"
        assert "default is deny" in denied["reason"]
        hot = _call(
            client, "c", "climate.set_temperature", entity_id="climate.thermostat", temperature=28
        )
        assert hot["status"] == "denied" and "thermostat" in hot["reason"]
        assert not any("plug" in t for t, _ in home.received)


def test_confirm_rule_waits_for_approval(broker: Mosquitto, tmp_path: Path, signed) -> None:
    root, policy = signed
    policy_file = tmp_path / "policy.json"
    policy_file.write_bytes(policy(3))
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, root, policy_file)),
        client_for(broker) as client,
    ):
        asked = _call(client, "lock-1", "lock.unlock", entity_id=LOCK)
        assert asked["status"] == "needs_confirmation"
        assert not any("front_door" in t for t, _ in home.received)
        confirmation = asked["confirmation"]["id"]
        done = client.confirm(confirmation, True)
        assert done["status"] == "done", done
        wait_for(lambda: any("front_door" in t for t, _ in home.received), what="unlock")
        again = client.confirm(confirmation, True)  # same id: the same answer, nothing twice
        assert again == done
        assert sum("front_door" in t for t, _ in home.received) == 1
        declined = _call(client, "lock-2", "lock.lock", entity_id=LOCK)
        assert client.confirm(declined["confirmation"]["id"], False)["status"] == "denied"
        assert client.confirm("made-up", True)["status"] == "rejected"


def test_expired_confirmation_does_nothing(
    broker: Mosquitto, tmp_path: Path, signed, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service_module, "CONFIRM_TTL_S", 0.2)
    root, policy = signed
    policy_file = tmp_path / "policy.json"
    policy_file.write_bytes(policy(3))
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, root, policy_file)),
        client_for(broker) as client,
    ):
        asked = _call(client, "lock-3", "lock.unlock", entity_id=LOCK)
        time.sleep(0.4)
        late = client.confirm(asked["confirmation"]["id"], True)
        assert late["status"] == "failed" and "expired" in late["reason"]
        assert not any("front_door" in t for t, _ in home.received)


def test_policy_over_mqtt_accepted_and_bad_ones_rejected_with_reason(
    broker: Mosquitto, tmp_path: Path, signed
) -> None:
    root, policy = signed
    recorder = Recorder(broker, f"edgeward/{GW}/policy/status")
    status_topic = f"edgeward/{GW}/policy/status"
    try:
        with simulated_home(broker), running_service(_settings(broker, tmp_path, root)) as service:
            assert service.gate.policy is None
            recorder.client.publish(f"edgeward/{GW}/policy", policy(4), qos=1, retain=True)
            wait_for(lambda: (s := recorder.last_json(status_topic)) and s["version"] == 4)
            tampered = json.loads(policy(5))
            tampered["payload"] = tampered["payload"][:-4] + "AAAA"
            recorder.client.publish(
                f"edgeward/{GW}/policy", json.dumps(tampered), qos=1, retain=True
            )
            wait_for(
                lambda: recorder.last_json(status_topic)["accepted"] is False, what="rejection"
            )
            status = recorder.last_json(status_topic)
            assert status["version"] == 4 and status["reason"]
            recorder.client.publish(f"edgeward/{GW}/policy", policy(2), qos=1, retain=True)
            wait_for(
                lambda: "older" in recorder.last_json(status_topic).get("reason", ""),
                what="rollback",
            )
            assert service.gate.policy.version == 4
            recorder.client.publish(f"edgeward/{GW}/policy", b"", qos=1, retain=True)
        # a restart keeps v4 (persisted) and refuses the older one that is still retained... none here
        with simulated_home(broker), running_service(_settings(broker, tmp_path, root)) as service:
            assert service.gate.policy is not None and service.gate.policy.version == 4
    finally:
        recorder.close()


def test_policy_ignored_without_trust_root(broker: Mosquitto, tmp_path: Path, signed) -> None:
    _, policy = signed
    recorder = Recorder(broker, f"edgeward/{GW}/policy/status")
    try:
        with running_service(settings_for(broker, tmp_path / "state")) as service:
            recorder.client.publish(f"edgeward/{GW}/policy", policy(4), qos=1)
            status = wait_for(lambda: recorder.last_json(f"edgeward/{GW}/policy/status"))
            assert status["accepted"] is False and "trust root" in status["reason"]
            assert service.gate.policy is None
    finally:
        recorder.close()


def test_trigger_runs_calls_through_the_gate(broker: Mosquitto, tmp_path: Path, signed) -> None:
    root, policy = signed
    trigger = {
        "id": "hall-motion",
        "topic": "sensors/hall/motion",
        "conditions": [{"path": "occupancy", "op": "eq", "value": True}],
        "calls": [{"tool": "light.turn_on", "args": {"entity_id": LIGHT}}],
    }
    forbidden = {
        "id": "plug",
        "topic": "sensors/hall/motion",
        "calls": [{"tool": "switch.turn_on", "args": {"entity_id": "switch.office_desk_plug"}}],
    }
    policy_file = tmp_path / "policy.json"
    policy_file.write_bytes(policy(3, triggers=[trigger, forbidden]))
    recorder = Recorder(broker)
    try:
        with (
            simulated_home(broker) as home,
            running_service(_settings(broker, tmp_path, root, policy_file)),
        ):
            recorder.client.publish("sensors/hall/motion", json.dumps({"occupancy": False}), qos=1)
            time.sleep(0.5)
            assert not any("kitchen" in t.lower() for t, _ in home.received)
            recorder.client.publish("sensors/hall/motion", json.dumps({"occupancy": True}), qos=1)
            wait_for(lambda: any("kitchen" in t.lower() for t, _ in home.received), what="trigger")
            time.sleep(0.3)
            assert not any("plug" in t for t, _ in home.received), "the gate must deny the plug"
    finally:
        recorder.close()


def test_every_actuation_follows_a_recorded_gate_decision(
    broker: Mosquitto, tmp_path: Path, signed
) -> None:
    root, policy = signed
    policy_file = tmp_path / "policy.json"
    policy_file.write_bytes(policy(3))
    with (
        simulated_home(broker),
        running_service(_settings(broker, tmp_path, root, policy_file)),
        client_for(broker) as client,
    ):
        _call(client, "p1", "light.turn_on", entity_id=LIGHT)
        _call(client, "p2", "switch.turn_on", entity_id="switch.office_desk_plug")
        asked = _call(client, "p3", "lock.lock", entity_id=LOCK)
        client.confirm(asked["confirmation"]["id"], True)
    log_path = tmp_path / "state" / "audit.jsonl"
    assert audit.verify(log_path).ok
    records = [json.loads(line)["event"] for line in log_path.read_text().splitlines()]
    decided: dict[str, set[str]] = {}
    for event in records:
        if event["kind"] == "gate":
            decided.setdefault(event["request"], set()).add(event["effect"])
        elif event["kind"] == "actuation":
            ids = {event["request"]} | {
                rid for rid, effects in decided.items() if "confirm" in effects
            }
            assert any(
                "allow" in decided.get(r, set()) or "confirm" in decided.get(r, set()) for r in ids
            )
    assert decided["p2"] == {"deny"}


def test_timed_trigger_is_scheduled_in_the_policy_time_zone_and_gated(
    broker: Mosquitto, tmp_path: Path, signed
) -> None:
    root, policy = signed
    morning = {
        "id": "morning",
        "at": "30 6 * * 1-5",
        "calls": [{"tool": "light.turn_on", "args": {"entity_id": LIGHT}}],
    }
    policy_file = tmp_path / "policy.json"
    policy_file.write_bytes(policy(3, triggers=[morning], timezone="Europe/Paris"))
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, root, policy_file)) as service,
    ):
        job = service.scheduler._aps.get_job("policy-trigger-morning")
        assert job is not None
        due = job.next_run_time
        assert (due.hour, due.minute, due.isoweekday() <= 5) == (6, 30, True)
        assert str(due.tzinfo) == "Europe/Paris"
        job.func()  # what the scheduler does at 06:30: hand the trigger to the worker
        wait_for(lambda: any("kitchen" in t.lower() for t, _ in home.received), what="trigger")
