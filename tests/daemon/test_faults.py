"""Faults: SIGKILL mid-stream, the broker going away, a refused connection, corrupt state."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edgeward.adapters.devices import DeviceRegistry
from edgeward.daemon.bus import no_delay
from tests.daemon.harness import (
    GW,
    DaemonProcess,
    Recorder,
    client_for,
    config_dict,
    running_service,
    settings_for,
    simulated_home,
    wait_for,
)
from tests.mosquitto import Mosquitto


class ReplyCollector:
    """Sends calls without waiting and collects replies on a persistent session of its own."""

    def __init__(self, broker: Mosquitto) -> None:
        self.replies: dict[str, dict[str, Any]] = {}
        self.duplicates = 0
        self._lock = threading.Lock()
        self.topic = f"edgeward/{GW}/collector"
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id="collector",
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
        )
        self.client.max_inflight_messages_set(1000)
        self.client.on_socket_open = no_delay
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(self.topic, qos=1)
        time.sleep(0.3)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        reply = json.loads(msg.payload)
        with self._lock:
            if reply["id"] in self.replies:
                self.duplicates += 1
            self.replies[reply["id"]] = reply

    def send(self, request_id: str, calls: list[dict[str, Any]]) -> None:
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.topic
        self.client.publish(
            f"edgeward/{GW}/call",
            json.dumps({"id": request_id, "calls": calls}),
            qos=1,
            properties=props,
        )

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _calls() -> list[tuple[str, dict[str, Any]]]:
    work = []
    for light in ("light.kitchen_ceiling_light", "light.living_room_lamp", "light.bedside_lamp"):
        for pct in range(1, 101):
            args = {"entity_id": light, "brightness_pct": pct}
            work.append((f"{light}-{pct}", {"tool": "light.turn_on", "args": args}))
    for pos in range(0, 101):
        args = {"entity_id": "cover.blinds", "position": pos}
        work.append((f"blinds-{pos}", {"tool": "cover.set_position", "args": args}))
    return work


def _expected_commands(broker: Mosquitto, work: list[tuple[str, dict[str, Any]]]) -> dict[str, set]:
    """The messages only that call publishes, computed by a registry of our own fed the same
    retained configs."""
    registry = DeviceRegistry()
    recorder = Recorder(broker, "homeassistant/#", "zigbee2mqtt/#")
    time.sleep(0.5)
    for topic, payload, _ in list(recorder.messages):
        registry.handle(topic, payload)
    recorder.close()
    catalog = registry.catalog()
    out = {}
    for request_id, call in work:
        commands = registry.commands(catalog.validate(call["tool"], call["args"]))
        out[request_id] = {(c.topic, c.payload) for c in commands}
    # A message several calls send alike (a light's plain "ON") tells nothing about which ran.
    shared = Counter(c for commands in out.values() for c in commands)
    return {rid: {c for c in commands if shared[c] == 1} for rid, commands in out.items()}


def test_sigkill_while_calls_are_in_flight_loses_none_and_repeats_none(
    broker: Mosquitto, tmp_path: Path
) -> None:
    work = _calls()
    with simulated_home(broker) as home:
        expected = _expected_commands(broker, work)
        daemon = DaemonProcess(config_dict(broker, tmp_path / "state"), tmp_path)
        daemon.start()
        daemon.wait_ready()
        collector = ReplyCollector(broker)
        try:
            for request_id, call in work:
                collector.send(request_id, [call])
            wait_for(lambda: len(collector.replies) >= 10, 30, "the first replies")
            daemon.kill()  # SIGKILL: no clean-up of any kind
            killed_at = len(collector.replies)
            daemon.start()
            wait_for(lambda: len(collector.replies) == len(work), 60, "every request answered")
            # the same ids sent again are answered from the store and move nothing
            for request_id, call in work[:20]:
                collector.send(request_id, [call])
            time.sleep(1.0)
        finally:
            collector.close()
            assert daemon.terminate() == 0, daemon.log()
        received = Counter(home.received)
    assert killed_at < len(work), "the kill came too late to test anything"
    odd = [r for r in collector.replies.values() if r["status"] not in {"done", "failed"}]
    assert not odd, odd[:3]
    for request_id, _ in work:
        reply = collector.replies[request_id]
        times = [received[c] for c in expected[request_id]]
        assert max(times) <= 1, f"{request_id} actuated {times} times"
        if reply["status"] == "done":
            assert min(times) == 1, f"{request_id} answered done but never actuated"
        else:
            assert "interrupted by a restart" in reply["reason"]


def test_broker_restart_reconnects_and_keeps_serving(broker: Mosquitto, tmp_path: Path) -> None:
    with simulated_home(broker), running_service(settings_for(broker, tmp_path / "s")) as service:
        broker.stop()
        wait_for(lambda: not service.bus.connected.is_set(), 10, "the disconnect")
        time.sleep(1.0)
        broker.start()
        wait_for(lambda: service.bus.connected.is_set(), 15, "the reconnect")
        with client_for(broker) as client:
            reply = client.call(
                "after-restart",
                [{"tool": "light.turn_off", "args": {"entity_id": "light.kitchen_ceiling_light"}}],
            )
        assert reply["status"] == "done"
        assert service.healthy()


def test_requests_queued_while_the_gateway_is_down_are_served_after_start(
    broker: Mosquitto, tmp_path: Path
) -> None:
    settings = settings_for(broker, tmp_path / "s")
    with simulated_home(broker) as home:
        with running_service(settings):
            pass  # first run: the broker now knows our persistent session and subscriptions
        collector = ReplyCollector(broker)
        try:
            call = {"tool": "lock.lock", "args": {"entity_id": "lock.front_door_lock"}}
            collector.send("while-down", [call])
            time.sleep(0.3)
            assert "while-down" not in collector.replies
            with running_service(settings):
                wait_for(lambda: "while-down" in collector.replies, 15, "the queued request")
        finally:
            collector.close()
        assert collector.replies["while-down"]["status"] == "done"
        assert any("front_door" in topic for topic, _ in home.received)


def test_refused_connection_is_logged_and_retried(tmp_path: Path) -> None:
    passwords = tmp_path / "passwd"
    passwords.write_text("")
    secured = Mosquitto(
        tmp_path / "secured", extra_config=f"allow_anonymous false\npassword_file {passwords}\n"
    )
    secured.start()
    try:
        config = config_dict(
            secured, tmp_path / "state", mqtt={"username": "nobody", "password": "wrong"}
        )
        daemon = DaemonProcess(config, tmp_path)
        daemon.start()
        wait_for(lambda: "refused the connection" in daemon.log(), 15, "the refusal log line")
        assert daemon.proc is not None and daemon.proc.poll() is None, "it must keep running"
        assert "wrong" not in daemon.log(), "the password must never be logged"
        assert daemon.terminate() == 0
    finally:
        secured.stop()


def test_corrupt_state_file_at_start_is_set_aside(broker: Mosquitto, tmp_path: Path) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "state.json").write_text('{"requests": {"1": {"id": "x"')
    daemon = DaemonProcess(config_dict(broker, state), tmp_path)
    daemon.start()
    daemon.wait_ready()
    assert "is unusable" in daemon.log()
    assert list(state.glob("state.json.corrupt-*"))
    with simulated_home(broker), client_for(broker) as client:
        reply = client.call(
            "x1", [{"tool": "scene.turn_on", "args": {"entity_id": "scene.movie_night"}}]
        )
    assert reply["status"] == "done"
    assert daemon.terminate() == 0
