"""Property: whatever the source (an MQTT call, a policy trigger, a scheduled job), nothing reaches an
actuator without a gate decision that allowed it, recorded in the audit log first."""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edgeward.adapters.simulator import SimulatedHome
from edgeward.daemon.client import GatewayClient
from edgeward.daemon.service import Service
from tests.daemon.harness import GW, Recorder, client_for, running_service, settings_for, wait_for
from tests.mosquitto import Mosquitto
from tests.policies.policy_builders import make_keys, root_envelope, signed_policy, valid_now

# (tool, entity, args): some the policy allows, some it denies, one it wants confirmed.
CALLS = [
    ("light.turn_on", "light.kitchen_ceiling_light", {"brightness_pct": 20}),
    ("light.turn_off", "light.hallway_light", {}),
    ("switch.turn_on", "switch.office_desk_plug", {}),
    ("cover.set_position", "cover.blinds", {"position": 40}),
    ("lock.unlock", "lock.front_door_lock", {}),
    ("scene.turn_on", "scene.movie_night", {}),
]
SOURCES = ["mqtt_call", "trigger", "schedule"]


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Service, SimulatedHome, GatewayClient, Recorder, Path]]:
    tmp = tmp_path_factory.mktemp("gate-paths")
    broker = Mosquitto(tmp / "broker")
    broker.start()
    keys = make_keys(1)
    root = tmp / "root.json"
    root.write_bytes(root_envelope(keys, threshold=1))
    triggers = [
        {
            "id": f"t{i}",
            "topic": f"prop/trigger/{i}",
            "calls": [{"tool": tool, "args": {"entity_id": entity, **args}}],
        }
        for i, (tool, entity, args) in enumerate(CALLS)
    ]
    policy = tmp / "policy.json"
    policy.write_bytes(
        signed_policy(
            keys,
            version=1,
            gateways=[GW],
            **valid_now(),
            default_effect="deny",
            rules=[
                {"id": "lights", "domain": "light", "effect": "allow"},
                {
                    "id": "covers",
                    "domain": "cover",
                    "effect": "allow",
                    "args": {"position": {"min": 0, "max": 50}},
                },
                {"id": "locks", "domain": "lock", "effect": "confirm"},
                {
                    "id": "scenes-by-hand",
                    "domain": "scene",
                    "sources": ["mqtt_call"],
                    "effect": "allow",
                },
            ],
            triggers=triggers,
        )
    )
    home = SimulatedHome(broker.host, broker.port, client_id="prop-home")
    home.start()
    config = settings_for(
        broker, tmp / "state", policy={"trust_root": str(root), "path": str(policy)}
    )
    recorder = Recorder(broker)
    with running_service(config) as service, client_for(broker) as client:
        yield service, home, client, recorder, tmp / "state" / "audit.jsonl"
    recorder.close()
    home.stop()
    broker.stop()


def _dispatch(
    service: Service, client: GatewayClient, recorder: Recorder, source: str, index: int, n: int
) -> None:
    tool, entity, args = CALLS[index]
    call = {"tool": tool, "args": {"entity_id": entity, **args}}
    if source == "mqtt_call":
        client.call(f"prop-{n}", [call])
    elif source == "trigger":
        recorder.client.publish(f"prop/trigger/{index}", b"{}", qos=1)
    else:
        job = {"job_id": f"prop-job-{n}", "kind": "call", "calls": [call], "source": "schedule"}
        service._queue.put(functools.partial(service._run_job, job))


@settings(
    max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.tuples(st.sampled_from(SOURCES), st.integers(0, len(CALLS) - 1)), min_size=1, max_size=6
    )
)
def test_no_actuation_without_an_allowing_gate_decision(
    world, steps: list[tuple[str, int]]
) -> None:
    service, home, client, recorder, audit_path = world
    before = len(home.received)
    start = time.time()
    for n, (source, index) in enumerate(steps):
        _dispatch(service, client, recorder, source, index, int(start * 1000) + n)
    time.sleep(0.6)  # triggers and jobs run on the gateway's own time
    wait_for(lambda: service._queue.empty(), 10, "the gateway to settle")
    moved = {topic for topic, _ in home.received[before:]}
    records = [json.loads(line)["event"] for line in audit_path.read_text().splitlines()]
    allowed = {
        (e["tool"], e["entity_id"])
        for e in records
        if e["kind"] == "gate" and e["effect"] == "allow"
    }
    decided_sources = {
        (e["entity_id"], e["source"], e["effect"]) for e in records if e["kind"] == "gate"
    }
    for source, index in steps:
        tool, entity, _ = CALLS[index]
        assert any(e == entity and s == source for e, s, _ in decided_sources), (source, entity)
    # the plug (denied) and the lock (confirm, never confirmed here) never move
    for tool, entity, args in (CALLS[2], CALLS[4]):
        valid = service.catalog.validate(tool, {"entity_id": entity, **args})
        forbidden = {c.topic for c in service.registry.commands(valid)}
        assert not moved & forbidden, (entity, moved & forbidden)
    actuated = [e for e in records if e["kind"] == "actuation"]
    for event in actuated:
        for call in event["calls"]:
            assert (call["tool"], call["args"]["entity_id"]) in allowed
