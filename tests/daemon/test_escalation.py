"""The cascade's upstream rung in the running gateway, against a real HTTP server playing the LLM."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

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
from tests.upstream.fake_llm import FakeLLM, error_reply, text_reply, tool_calls_reply

LIGHT = "light.kitchen_ceiling_light"
NAME = "Émilie Durand"
EMAIL = "emilie.durand@example.org"


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


def _policy_file(
    tmp_path: Path, llm: FakeLLM, triggers: list[dict[str, Any]] | None = None, **residency: Any
) -> tuple[Path, Path]:
    keys = make_keys(1)
    root = tmp_path / "root.json"
    root.write_bytes(root_envelope(keys, threshold=1))
    policy = tmp_path / "policy.json"
    policy.write_bytes(
        signed_policy(
            keys,
            version=1,
            gateways=[GW],
            **valid_now(),
            default_effect="deny",
            rules=[{"id": "lights", "domain": "light", "effect": "allow"}],
            upstreams=[{"name": "test-llm", "url": llm.base_url, "region": "local"}],
            residency={
                "free_text": "allow",
                "device_id": "allow",
                "person_name": "redact",
                "email": "redact",
                "phone": "local_only",
                **residency,
            },
            triggers=triggers or [],
        )
    )
    return root, policy


def _settings(broker: Mosquitto, tmp_path: Path, root: Path | None, policy: Path | None):
    return settings_for(
        broker,
        tmp_path / "state",
        # no local model: every request is for the upstream rung (deterministic for the test)
        model={"path": str(tmp_path / "no-model")},
        policy={"trust_root": str(root), "path": str(policy)} if root else {},
        upstream={"known_names": [NAME], "max_retries": 0, "timeout_s": 5},
    )


def test_redacted_request_goes_up_and_its_calls_are_gated_and_reidentified(
    broker: Mosquitto, tmp_path: Path, llm: FakeLLM
) -> None:
    root, policy = _policy_file(tmp_path, llm)
    llm.script(
        tool_calls_reply(
            [
                ("light__turn_on", {"entity_id": LIGHT}),
                ("switch__turn_on", {"entity_id": "switch.office_desk_plug"}),
            ]
        ),
        text_reply("I told <person_1> by email at < EMAIL_1 >."),
    )
    text = f"my guest {NAME} ({EMAIL}) arrives soon, get the kitchen ready"
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, root, policy)),
        client_for(broker) as client,
    ):
        denied = client.ask("up-1", text)
        answered = client.ask("up-2", f"write to {NAME} at {EMAIL}")
    sent = llm.raw_bytes.decode("utf-8", "replace")
    assert NAME not in sent and "Durand" not in sent and EMAIL not in sent
    body = llm.received[0].json()
    assert "<PERSON_1>" in body["messages"][-1]["content"]
    # the upstream asked for a plug the policy denies: the whole plan is denied, nothing moves
    assert denied["status"] == "denied" and "default is deny" in denied["reason"]
    assert not any("plug" in topic for topic, _ in home.received)
    assert answered["route"] == "upstream" and answered["status"] == "done"
    assert answered["say"] == f"I told {NAME} by email at {EMAIL}."


def test_allowed_upstream_plan_actuates(broker: Mosquitto, tmp_path: Path, llm: FakeLLM) -> None:
    root, policy = _policy_file(tmp_path, llm)
    llm.script(tool_calls_reply([("light__turn_on", {"entity_id": LIGHT, "brightness_pct": 60})]))
    with (
        simulated_home(broker) as home,
        running_service(_settings(broker, tmp_path, root, policy)),
        client_for(broker) as client,
    ):
        reply = client.ask("up-3", "make the kitchen cosy for dinner")
    assert reply["status"] == "done" and reply["route"] == "upstream", reply
    assert reply["plan"] == [
        {"tool": "light.turn_on", "args": {"entity_id": LIGHT, "brightness_pct": 60}}
    ]
    assert any("kitchen" in topic for topic, _ in home.received)
    # the upstream's plan went through the gate and its actuation is in the audit log, as any
    events = [
        json.loads(line)["event"]
        for line in (tmp_path / "state" / "audit.jsonl").read_text().splitlines()
    ]
    assert [(e["kind"], e.get("source")) for e in events if e["request"] == "up-3"] == [
        ("gate", "ask_upstream"),
        ("actuation", None),
    ]


def test_local_only_data_never_leaves(broker: Mosquitto, tmp_path: Path, llm: FakeLLM) -> None:
    root, policy = _policy_file(tmp_path, llm)
    with running_service(_settings(broker, tmp_path, root, policy)), client_for(broker) as client:
        reply = client.ask("up-4", "call me back on +33 6 12 34 56 78 when the heating is done")
    assert reply["status"] == "unsupported" and reply["route"] == "none"
    assert "must stay local" in reply["reason"]
    assert llm.received == [] and llm.connections == 0


def test_without_a_policy_nothing_leaves(broker: Mosquitto, tmp_path: Path, llm: FakeLLM) -> None:
    with running_service(_settings(broker, tmp_path, None, None)), client_for(broker) as client:
        reply = client.ask("up-5", "plan the heating for next week")
    assert reply["status"] == "unsupported"
    assert "no policy" in reply["reason"] and reply["say"]
    assert llm.connections == 0


def test_upstream_failure_is_a_clear_reply(broker: Mosquitto, tmp_path: Path, llm: FakeLLM) -> None:
    root, policy = _policy_file(tmp_path, llm)
    llm.script(error_reply(500))
    with running_service(_settings(broker, tmp_path, root, policy)), client_for(broker) as client:
        reply = client.ask("up-6", "plan the heating for next week")
        again = client.ask("up-7", "is anything else possible")
    assert reply["status"] == "failed" and reply["route"] == "upstream"
    assert "test-llm" in reply["reason"]
    assert again["status"] == "failed"  # the script ran out: the server answers 500 again
    assert json.dumps(reply).count("Bearer") == 0


def test_a_request_that_may_wait_is_queued_redacted_and_answered_later(
    broker: Mosquitto, tmp_path: Path, llm: FakeLLM
) -> None:
    report = {
        "id": "evening-report",
        "topic": "home/report",
        "ask": f"summarise the day for {NAME}",
        "can_wait": True,
    }
    root, policy = _policy_file(tmp_path, llm, triggers=[report])
    llm.script(error_reply(503), text_reply("All quiet today, <PERSON_1>."))
    recorder = Recorder(broker, f"edgeward/{GW}/reply/#")
    try:
        with running_service(_settings(broker, tmp_path, root, policy)) as service:
            recorder.client.publish("home/report", b"{}", qos=1)
            queued = wait_for(
                lambda: [json.loads(p) for t, p, _ in recorder.messages if "evening-report" in t],
                what="the queued reply",
            )[0]
            assert queued["status"] == "failed" and "waits in the outbox" in queued["reason"]
            assert len(service.escalation.outbox) == 1
            service.escalation.drain()  # what the minute timer does
            answered = wait_for(
                lambda: [
                    r
                    for t, p, _ in recorder.messages
                    if "evening-report" in t
                    for r in [json.loads(p)]
                    if r["status"] == "done"
                ],
                what="the answer after the drain",
            )[0]
            assert (
                answered["say"] == f"All quiet today, {NAME}." and answered["route"] == "upstream"
            )
            assert len(service.escalation.outbox) == 0
    finally:
        recorder.close()
    assert NAME not in llm.raw_bytes.decode("utf-8", "replace")
    assert len(llm.received) == 2
    assert llm.received[0].header("Idempotency-Key") == llm.received[1].header("Idempotency-Key")


def test_serials_known_to_the_device_registry_are_redacted(
    broker: Mosquitto, tmp_path: Path, llm: FakeLLM
) -> None:
    """A discovered device's identifier and serial number, which no pattern would catch, leave
    only as placeholders and come back in the answer."""
    serial, identifier = "SN88412K", "AQ2231X7"
    config = {
        "name": "Air quality",
        "state_topic": "home/air",
        "unique_id": "air_quality_sensor",
        "device": {"identifiers": [identifier], "name": "Air sensor", "serial_number": serial},
    }
    root, policy = _policy_file(tmp_path, llm, device_id="redact")
    llm.script(text_reply("<DEVICE_1> has a weak signal; move it nearer to <DEVICE_2>."))
    publisher = Recorder(broker)
    try:
        publisher.client.publish(
            "homeassistant/sensor/air/config", json.dumps(config), qos=1, retain=True
        ).wait_for_publish(5)
        with (
            running_service(_settings(broker, tmp_path, root, policy)) as service,
            client_for(broker) as client,
        ):
            wait_for(
                lambda: any(e.startswith("sensor.air") for e in service.catalog.entities),
                what="the discovered sensor",
            )
            reply = client.ask("up-serial", f"why do {identifier} and {serial} drop off at night?")
    finally:
        publisher.client.publish("homeassistant/sensor/air/config", b"", qos=1, retain=True)
        publisher.close()
    sent = llm.raw_bytes.decode("utf-8", "replace")
    assert identifier not in sent and serial not in sent
    assert (
        "why do <DEVICE_1> and <DEVICE_2> drop off"
        in llm.received[0].json()["messages"][-1]["content"]
    )
    assert reply["route"] == "upstream" and reply["status"] == "done", reply
    assert reply["say"] == f"{identifier} has a weak signal; move it nearer to {serial}."
