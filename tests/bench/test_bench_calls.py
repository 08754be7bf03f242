"""Explicit calls through the whole gateway, next to a bare paho client echoing on the same broker.

Run: .venv/bin/pytest tests/bench/test_bench_calls.py -m bench -s

- throughput: N calls published at once (QoS 1); calls/s until the last reply arrived. The
  baseline echo republishes each message (QoS 1) from one topic to another.
- latency: one call at a time, from publishing the call to the actuator's command arriving on the
  device's command topic; the baseline from publishing to the echo arriving.
- ask latency: one request in plain words at a time ("set the living room lamp to 40%"), through
  the embedded planner, gate and actuation, to the command arriving (issue 5's goal: p50 at most
  25 ms); same baseline.

The gateway runs as `edgeward run` in its own process, like in production; so does the echo.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edgeward.daemon.bus import no_delay
from tests.daemon.harness import GW, DaemonProcess, config_dict
from tests.mosquitto import Mosquitto

pytestmark = pytest.mark.bench

ENTITY = "light.living_room_lamp"
N_THROUGHPUT = 3000
N_LATENCY = 400
N_ASK = 200

HOME = """
import sys, time
from edgeward.adapters.simulator import SimulatedHome
home = SimulatedHome("127.0.0.1", int(sys.argv[1]), client_id="bench-home")
home.start()
print("ready", flush=True)
sys.stdin.read()
home.stop()
"""

ECHO = """
import sys, paho.mqtt.client as mqtt, socket
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTProtocolVersion.MQTTv5)
c.max_inflight_messages_set(1000)
c.on_socket_open = lambda cl, u, s: s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
c.on_connect = lambda cl, u, f, r, p: cl.subscribe("bench/in", qos=1)
c.on_message = lambda cl, u, m: cl.publish("bench/out", m.payload, qos=1)
c.connect("127.0.0.1", int(sys.argv[1]))
c.loop_forever()
"""


class Load:
    """The load generator: publishes, and timestamps what comes back on the watched topics."""

    def __init__(self, broker: Mosquitto, watch: list[str]) -> None:
        self.arrivals: dict[str, list[tuple[float, bytes]]] = {t: [] for t in watch}
        self.event = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTProtocolVersion.MQTTv5
        )
        self.client.max_inflight_messages_set(1000)
        self.client.on_socket_open = no_delay
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        for topic in watch:
            self.client.subscribe(topic, qos=1)
        time.sleep(0.5)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        self.arrivals[msg.topic].append((time.perf_counter(), msg.payload))
        self.event.set()

    def count(self, topic: str) -> int:
        return len(self.arrivals[topic])

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _throughput(load: Load, publish: Any, out_topic: str, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        publish(i)
    deadline = time.monotonic() + 120
    while load.count(out_topic) < n and time.monotonic() < deadline:
        time.sleep(0.005)
    assert load.count(out_topic) >= n, f"only {load.count(out_topic)} of {n} arrived"
    return n / (load.arrivals[out_topic][n - 1][0] - start)


def _latencies(load: Load, publish: Any, out_topic: str, n: int, offset: int) -> list[float]:
    samples = []
    for i in range(n):
        before = load.count(out_topic)
        load.event.clear()
        start = time.perf_counter()
        publish(offset + i)
        deadline = time.monotonic() + 10
        while load.count(out_topic) == before:
            assert time.monotonic() < deadline, f"nothing arrived on {out_topic}"
            load.event.wait(1)
            load.event.clear()
        samples.append((load.arrivals[out_topic][before][0] - start) * 1000)
    return samples


def _pct(samples: list[float], q: float) -> float:
    return statistics.quantiles(samples, n=100)[int(q) - 1]


def test_bench_calls(broker: Mosquitto, tmp_path: Path) -> None:
    echo = subprocess.Popen([sys.executable, "-c", ECHO, str(broker.port)])
    # The devices get a process of their own, as real ones have: they must not slow the load.
    home = subprocess.Popen(
        [sys.executable, "-c", HOME, str(broker.port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert home.stdout is not None and home.stdout.readline().strip() == "ready"
    try:
        daemon = DaemonProcess(
            # min_confidence 0: this measures the path's latency, whatever the plan's confidence
            # (accuracy is what `edgeward eval` measures); a plan for another device still fails.
            config_dict(
                broker, tmp_path / "state", log_level="WARNING", model={"min_confidence": 0.0}
            ),
            tmp_path,
        )
        daemon.config_path.write_text(daemon.config_path.read_text())
        daemon.start()
        time.sleep(3.0)  # ready is logged at INFO; WARNING keeps the bench quiet
        command_topic = "sim/living_room/lamp/set"  # a JSON-schema light: one message per call
        reply_topic = f"edgeward/{GW}/bench-replies"
        # One load client per measure, each watching only what it measures.
        flows = Load(broker, ["bench/out", reply_topic])
        probes = Load(broker, ["bench/out", command_topic])
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = reply_topic

        def sender(load: Load) -> tuple[Any, Any]:
            def call(i: int) -> None:
                args = {"entity_id": ENTITY, "brightness_pct": i % 100 + 1}
                body = {"id": f"bench-{i}", "calls": [{"tool": "light.turn_on", "args": args}]}
                load.client.publish(
                    f"edgeward/{GW}/call", json.dumps(body), qos=1, properties=props
                )

            def bare(i: int) -> None:
                body = {"id": f"bench-{i}", "calls": [{"tool": "light.turn_on", "args": {}}]}
                load.client.publish("bench/in", json.dumps(body), qos=1)

            return call, bare

        def ask(i: int) -> None:
            body = {"id": f"ask-{i}", "text": f"set the living room lamp to {i % 100 + 1}%"}
            probes.client.publish(f"edgeward/{GW}/ask", json.dumps(body), qos=1, properties=props)

        try:
            call, bare = sender(probes)
            _latencies(probes, call, command_topic, 20, 10_000_000)  # warm up both paths
            _latencies(probes, bare, "bench/out", 20, 10_000_000)
            base_lat = _latencies(probes, bare, "bench/out", N_LATENCY, 20_000_000)
            lat = _latencies(probes, call, command_topic, N_LATENCY, 20_000_000)
            _latencies(probes, ask, command_topic, 10, 30_000_000)  # warm: grammar, home prefix
            ask_lat = _latencies(probes, ask, command_topic, N_ASK, 40_000_000)
            probes.close()
            call, bare = sender(flows)
            base_rate = _throughput(flows, bare, "bench/out", N_THROUGHPUT)
            rate = _throughput(flows, call, reply_topic, N_THROUGHPUT)
        finally:
            flows.close()
            daemon.terminate()
            echo.terminate()
    finally:
        home.communicate("", timeout=30)
    rows = [
        ("calls/s (validate, gate, store, actuate, reply)", rate, base_rate),
        ("latency p50 ms, call -> actuator command", _pct(lat, 50), _pct(base_lat, 50)),
        ("latency p95 ms", _pct(lat, 95), _pct(base_lat, 95)),
        ("latency p99 ms", _pct(lat, 99), _pct(base_lat, 99)),
        ("latency p50 ms, ask -> actuator command", _pct(ask_lat, 50), _pct(base_lat, 50)),
        ("latency p95 ms, ask", _pct(ask_lat, 95), _pct(base_lat, 95)),
    ]
    print("\n| measure | edgeward | bare paho echo | ratio |\n|---|---|---|---|")
    for name, ours, theirs in rows:
        print(f"| {name} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")
    assert rate > 0 and base_rate > 0
