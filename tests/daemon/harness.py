"""Running a real gateway against a real broker and the simulated home, in a thread or a process."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import tomli_w

from edgeward.adapters.simulator import DEMO_AREAS, SimulatedHome
from edgeward.daemon.client import GatewayClient
from edgeward.daemon.service import Service
from edgeward.daemon.settings import Settings, load_settings
from tests.mosquitto import Mosquitto

GW = "testgw"


def config_dict(broker: Mosquitto, state_dir: Path, **extra: Any) -> dict[str, Any]:
    config: dict[str, Any] = {
        "gateway_id": GW,
        "state_dir": str(state_dir),
        "log_format": "json",
        "mqtt": {"host": broker.host, "port": broker.port, "reconnect_max_s": 1.0},
        "areas": [
            {"name": a.name, "floor": a.floor, "aliases": list(a.aliases)} for a in DEMO_AREAS
        ],
    }
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(config.get(key), dict):
            config[key] = {**config[key], **value}
        else:
            config[key] = value
    return config


def settings_for(broker: Mosquitto, state_dir: Path, **extra: Any) -> Settings:
    return load_settings(None, **config_dict(broker, state_dir, **extra))


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@contextmanager
def running_service(settings: Settings) -> Iterator[Service]:
    """A Service on a thread, ready (connected, catalog loaded) when the block starts."""
    service = Service(settings)
    ready = threading.Event()
    thread = threading.Thread(target=service.run, kwargs={"on_ready": ready.set}, daemon=True)
    thread.start()
    try:
        assert ready.wait(20), "the gateway did not become ready"
        yield service
    finally:
        service.stop()
        thread.join(15)
        assert not thread.is_alive(), "the gateway did not stop"


@contextmanager
def simulated_home(broker: Mosquitto) -> Iterator[SimulatedHome]:
    home = SimulatedHome(broker.host, broker.port, client_id=f"sim-{os.getpid()}-{time.time_ns()}")
    home.start()
    try:
        yield home
    finally:
        home.stop()


def client_for(broker: Mosquitto, timeout: float = 10.0) -> GatewayClient:
    return GatewayClient(broker.host, broker.port, GW, client_name="tests", timeout=timeout)


class Recorder:
    """A plain paho subscriber that keeps every message on some topics."""

    def __init__(self, broker: Mosquitto, *filters: str) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTProtocolVersion.MQTTv5
        )
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        for topic in filters:
            self.client.subscribe(topic, qos=1)
        time.sleep(0.2)

    def _on_message(self, client: Any, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [p for t, p, _ in self.messages if t == topic]

    def last_json(self, topic: str) -> Any:
        found = self.on(topic)
        return json.loads(found[-1]) if found and found[-1] else None

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class DaemonProcess:
    """``edgeward run --config FILE`` in its own process, as systemd would run it."""

    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.config_path = workdir / "edgeward.toml"
        self.config_path.write_text(tomli_w.dumps(config))
        self.log_path = workdir / "daemon.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("EDGEWARD_")}
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "edgeward.daemon.cli",
                    "run",
                    "--config",
                    str(self.config_path),
                ],
                stdout=log,
                stderr=log,
                env=env,
            )

    def wait_ready(self, timeout: float = 30.0) -> None:
        wait_for(lambda: '"event": "ready"' in self.log(), timeout, "the daemon to be ready")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def terminate(self) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(30)
