"""The process as a person and systemd see it: the CLI, sd_notify, metrics, the demo."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.daemon.harness import (
    GW,
    DaemonProcess,
    client_for,
    config_dict,
    running_service,
    settings_for,
    simulated_home,
    wait_for,
)
from tests.mosquitto import Mosquitto, free_port

EDGEWARD = [sys.executable, "-m", "edgeward.daemon.cli"]


def run_cli(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EDGEWARD_")}
    return subprocess.run(
        [*EDGEWARD, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean, **(env or {})},
    )


def test_version_and_help() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("edgeward ")
    for verb in (
        "run",
        "demo",
        "call",
        "ask",
        "confirm",
        "doctor",
        "policy",
        "audit",
        "model",
        "eval",
    ):
        assert run_cli(verb, "--help").returncode == 0, verb


def test_eval_counts_must_be_whole_numbers() -> None:
    for flag, value in (("--requests", "-1"), ("--misses", "many")):
        result = run_cli("eval", flag, value)
        assert result.returncode == 2 and flag in result.stderr, result.stderr
        assert "Traceback" not in result.stderr


def test_bad_config_is_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "edgeward.toml"
    config.write_text("[mqtt]\nport = 'high'\n")
    result = run_cli("run", "--config", str(config))
    assert result.returncode == 2
    assert "mqtt.port" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_unusable_files_at_start_are_one_line_and_exit_2(tmp_path: Path) -> None:
    config = tmp_path / "edgeward.toml"
    for setting in (
        '[mqtt]\ntls_ca = "/nowhere/ca.pem"',
        '[policy]\ntrust_root = "/nowhere/root.json"',
    ):
        config.write_text(f'state_dir = "{tmp_path / "state"}"\n{setting}\n')
        result = run_cli("run", "--config", str(config))
        assert result.returncode == 2, result.stderr
        assert "/nowhere/" in result.stderr and "Traceback" not in result.stderr


def test_call_and_ask_commands_print_the_reply(broker: Mosquitto, tmp_path: Path) -> None:
    with simulated_home(broker), running_service(settings_for(broker, tmp_path / "state")):
        common = ["--host", broker.host, "--port", str(broker.port), "--gateway", GW]
        done = run_cli(
            "call", *common, "light.turn_on", "light.kitchen_ceiling_light", "brightness_pct=30"
        )
        assert done.returncode == 0, done.stderr
        assert "done" in done.stdout
        bad = run_cli(
            "call",
            *common,
            "--json-output",
            "light.turn_on",
            "light.kitchen_ceiling_light",
            "brightness_pct=300",
        )
        assert bad.returncode == 1
        assert json.loads(bad.stdout)["status"] == "rejected"
        asked = run_cli("ask", *common, "--json-output", "turn", "on", "the", "kitchen", "light")
        reply = json.loads(asked.stdout)
        # the local planner answered (and, unsure without a policy, did not escalate)
        assert reply["status"] in {"done", "unsupported", "ambiguous"}, reply
        assert 0.0 <= reply["confidence"] <= 1.0 and reply["say"]


def test_call_without_a_gateway_says_so(broker: Mosquitto) -> None:
    result = run_cli(
        "call", "--host", broker.host, "--port", str(broker.port), "--gateway", "nobody",
        "--timeout", "1", "light.turn_on", "light.x",
    )  # fmt: skip
    assert result.returncode == 1
    assert "no reply from gateway 'nobody'" in result.stderr


def test_doctor_reports_the_broker(broker: Mosquitto, tmp_path: Path) -> None:
    env = {"EDGEWARD_MQTT__PORT": str(broker.port), "EDGEWARD_STATE_DIR": str(tmp_path / "s")}
    ok = run_cli("doctor", env=env)
    assert ok.returncode == 0, ok.stdout
    down = run_cli("doctor", env={**env, "EDGEWARD_MQTT__PORT": str(free_port())})
    assert down.returncode == 1
    assert "cannot reach" in down.stdout
    no_ca = run_cli("doctor", "--quick", env={**env, "EDGEWARD_MQTT__TLS_CA": "/nowhere/ca.pem"})
    assert no_ca.returncode == 1
    assert "mqtt.tls_ca: /nowhere/ca.pem does not exist" in no_ca.stdout


def test_systemd_notifications_and_clean_stop(broker: Mosquitto, tmp_path: Path) -> None:
    address = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    listener.settimeout(0.2)
    messages: list[str] = []
    daemon = DaemonProcess(config_dict(broker, tmp_path / "state"), tmp_path)
    os.environ["NOTIFY_SOCKET"] = address
    os.environ["WATCHDOG_USEC"] = "1000000"
    try:
        daemon.start()
    finally:
        del os.environ["NOTIFY_SOCKET"], os.environ["WATCHDOG_USEC"]

    def receive() -> str:
        try:
            messages.append(listener.recv(4096).decode())
        except TimeoutError:
            pass
        return "\n".join(messages)

    wait_for(lambda: "READY=1" in receive(), 30, "READY=1")
    wait_for(lambda: "WATCHDOG=1" in receive(), 10, "WATCHDOG=1")
    assert "STATUS=connected" in receive()
    assert daemon.terminate() == 0
    wait_for(lambda: "STOPPING=1" in receive(), 5, "STOPPING=1")
    listener.close()


def test_metrics_endpoint(broker: Mosquitto, tmp_path: Path) -> None:
    port = free_port()
    settings = settings_for(broker, tmp_path / "state", metrics={"enabled": True, "port": port})
    with simulated_home(broker), running_service(settings) as service, client_for(broker) as client:
        service.metrics.serve(settings.metrics.host, port)
        client.call(
            "m1", [{"tool": "state.get", "args": {"entity_id": "light.kitchen_ceiling_light"}}]
        )
        client.send("call", b"nope")
        text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    assert 'edgeward_requests_total{kind="call",status="done"} 1.0' in text
    assert 'edgeward_requests_total{kind="call",status="rejected"} 1.0' in text
    assert "edgeward_broker_connected 1.0" in text
    assert "edgeward_request_latency_seconds_bucket" in text
    assert "edgeward_catalog_entities" in text


def test_demo_runs_a_script_on_its_own_broker(tmp_path: Path) -> None:
    script = tmp_path / "requests.txt"
    script.write_text(
        "tools\n"
        "light.turn_on light.kitchen_ceiling_light brightness_pct=40\n"
        "lock.lock lock.nowhere\n"
        "is the front door locked\n"
    )
    started = time.monotonic()
    result = run_cli("demo", "--port", str(free_port()), "--script", str(script), timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    out = result.stdout
    assert "started a private Mosquitto" in out
    assert "light.kitchen_ceiling_light" in out
    assert "done" in out and "Kitchen" in out
    assert "unknown entity 'lock.nowhere'" in out
    assert time.monotonic() - started < 120
