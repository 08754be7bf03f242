"""The gateway end to end: a real Mosquitto, the simulated home, the real service."""

from __future__ import annotations

import json
import logging
from pathlib import Path

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

LIGHT = "light.kitchen_ceiling_light"


@pytest.fixture
def gateway(broker: Mosquitto, tmp_path: Path):
    with (
        simulated_home(broker) as home,
        running_service(settings_for(broker, tmp_path / "state")) as service,
    ):
        with client_for(broker) as client:
            yield service, home, client


def test_catalog_is_published_with_devices_areas_and_ranges(broker: Mosquitto, gateway) -> None:
    service, home, _ = gateway
    recorder = Recorder(broker, f"edgeward/{GW}/tools", f"edgeward/{GW}/status")
    try:
        catalog = wait_for(lambda: recorder.last_json(f"edgeward/{GW}/tools"), what="tools")
        status = wait_for(lambda: recorder.last_json(f"edgeward/{GW}/status"), what="status")
    finally:
        recorder.close()
    assert status["state"] == "online"
    entities = {e["entity_id"]: e for e in catalog["entities"]}
    assert len(entities) >= 14
    assert entities[LIGHT]["area"] == "Kitchen"
    assert entities[LIGHT]["floor"] == "Ground floor"
    domains = {eid.split(".")[0] for eid in entities}
    assert {"light", "lock", "cover", "climate", "sensor", "binary_sensor", "scene"} <= domains
    tools = {t["name"]: t for t in catalog["tools"]}
    assert {"light.turn_on", "lock.lock", "cover.set_position", "state.get"} <= set(tools)
    schema = tools["climate.set_temperature"]["parameters"]
    for variant in schema.get("anyOf", [schema]):  # one per group of thermostats alike
        temperature = variant["properties"]["temperature"]
        assert temperature["minimum"] < temperature["maximum"]
        assert variant["additionalProperties"] is False


def test_explicit_call_moves_the_device_and_replies_done(gateway) -> None:
    service, home, client = gateway
    reply = client.call(
        "c1", [{"tool": "light.turn_on", "args": {"entity_id": LIGHT, "brightness_pct": 40}}]
    )
    assert reply["status"] == "done", reply
    assert reply["results"][0]["status"] == "sent"
    assert reply["route"] == "local"
    wait_for(lambda: (s := service.registry.state(LIGHT)) and s.state == "on", what="light on")


def test_repeated_id_is_answered_again_and_never_actuated_twice(gateway) -> None:
    service, home, client = gateway
    call = [{"tool": "lock.lock", "args": {"entity_id": "lock.front_door_lock"}}]
    first = client.call("same-id", call)
    wait_for(lambda: any("front" in t for t, _ in home.received), what="lock command")
    second = client.call("same-id", call)
    assert first == second
    commands = [t for t, _ in home.received if "front_door" in t]
    assert len(commands) == 1, commands


def _one(request_id: str, tool: str, **args: object) -> bytes:
    return json.dumps({"id": request_id, "calls": [{"tool": tool, "args": args}]}).encode()


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"calls": []}', "id must be a string"),
        (b'{"id": 5, "calls": []}', "id must be a string"),
        (b'{"id": "a/b", "calls": []}', "id must be a string"),
        (b'{"id": "x1", "calls": "light.turn_on"}', "calls must be a non-empty list"),
        (b'{"id": "x2", "calls": [{"tool": 3}]}', "calls[0].tool must be a string"),
        (_one("x3", "light.explode", entity_id=LIGHT), "unknown tool 'light.explode'"),
        (_one("x4", "light.turn_on", entity_id="light.nope"), "unknown entity 'light.nope'"),
        (
            _one("x5", "light.turn_on", entity_id=LIGHT, brightness_pct="high"),
            "brightness_pct must be an integer",
        ),
        (
            _one("x6", "light.turn_on", entity_id=LIGHT, brightness_pct=150),
            "out of range 0..100",
        ),
        (_one("x7", "lock.lock", entity_id=LIGHT), "does not support lock.lock"),
        (
            b'{"id": "x8", "calls": [{"tool": "light.turn_on"}], "extra": 1}',
            "unknown field(s): extra",
        ),
        (b"\xff\xfe", "not UTF-8"),
    ],
)
def test_bad_input_is_rejected_with_a_reason(gateway, payload: bytes, reason: str) -> None:
    service, home, client = gateway
    reply = client.send("call", payload)
    assert reply["status"] == "rejected"
    assert reason in reply["reason"], reply["reason"]
    assert not home.received, "nothing may move on a rejected call"
    # and the gateway keeps serving
    ok = client.call("after-bad", [{"tool": "state.get", "args": {"entity_id": LIGHT}}])
    assert ok["status"] == "done"


def test_oversized_payload_is_rejected(broker: Mosquitto, tmp_path: Path) -> None:
    settings = settings_for(broker, tmp_path / "state", max_payload_bytes=1024)
    with simulated_home(broker), running_service(settings), client_for(broker) as client:
        reply = client.send(
            "call", json.dumps({"id": "big", "calls": [{"tool": "x" * 2000}]}).encode()
        )
    assert reply["status"] == "rejected"
    assert "over the limit of 1024" in reply["reason"]


def test_reply_without_response_topic_goes_to_reply_id(broker: Mosquitto, gateway) -> None:
    recorder = Recorder(broker, f"edgeward/{GW}/reply/#")
    try:
        recorder.client.publish(
            f"edgeward/{GW}/call",
            json.dumps(
                {"id": "plain", "calls": [{"tool": "state.get", "args": {"entity_id": LIGHT}}]}
            ),
            qos=1,
        )
        reply = wait_for(lambda: recorder.last_json(f"edgeward/{GW}/reply/plain"), what="reply")
    finally:
        recorder.close()
    assert reply["status"] == "done"
    assert reply["results"][0]["tool"] == "state.get"


def test_invalid_discovery_config_is_logged_and_ignored(
    broker: Mosquitto, gateway, caplog: pytest.LogCaptureFixture
) -> None:
    service, home, client = gateway
    recorder = Recorder(broker)
    try:
        with caplog.at_level(logging.WARNING):
            recorder.client.publish(
                "homeassistant/light/bad/config", b'{"name": 5, "cmd_t": []}', qos=1
            )
            recorder.client.publish("homeassistant/switch/junk/config", b"not json", qos=1)
            wait_for(lambda: "homeassistant/switch/junk/config" in caplog.text, what="log line")
    finally:
        recorder.close()
    reply = client.call("still-ok", [{"tool": "light.turn_off", "args": {"entity_id": LIGHT}}])
    assert reply["status"] == "done"


def test_device_removal_updates_the_catalog(broker: Mosquitto, gateway) -> None:
    service, home, client = gateway
    before = set(service.catalog.entities)
    home.remove("Office desk plug") if "Office desk plug" in home.device_names else home.remove(
        home.device_names[0]
    )
    wait_for(lambda: set(service.catalog.entities) < before, what="catalog shrink")


def test_state_is_tracked_and_read_with_state_get(gateway) -> None:
    service, home, client = gateway
    client.call(
        "open-blinds",
        [{"tool": "cover.set_position", "args": {"entity_id": "cover.blinds", "position": 30}}],
    )
    wait_for(
        lambda: (
            (s := service.registry.state("cover.blinds"))
            and s.attributes.get("current_position") == 30
        ),
        what="position",
    )
    reply = client.call(
        "read-blinds", [{"tool": "state.get", "args": {"entity_id": "cover.blinds"}}]
    )
    assert reply["results"][0]["attributes"]["current_position"] == 30


def test_clean_stop_publishes_offline(broker: Mosquitto, tmp_path: Path) -> None:
    recorder = Recorder(broker, f"edgeward/{GW}/status")
    try:
        with running_service(settings_for(broker, tmp_path / "state")):
            wait_for(
                lambda: (
                    (s := recorder.last_json(f"edgeward/{GW}/status")) and s["state"] == "online"
                )
            )
        wait_for(
            lambda: recorder.last_json(f"edgeward/{GW}/status")["state"] == "offline",
            what="offline",
        )
    finally:
        recorder.close()
