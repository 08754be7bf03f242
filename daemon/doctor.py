"""``edgeward doctor``: checks the config, the state folder, the broker, the model and the policy,
and says in one line each what is wrong and what to do."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from rich.markup import escape

from edgeward.daemon.bus import BusError, secure
from edgeward.daemon.console import console
from edgeward.daemon.settings import Settings


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


def check_state_dir(settings: Settings) -> Check:
    path = settings.state_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".doctor-probe"
        probe.write_bytes(b"ok")
        probe.unlink()
    except OSError as exc:
        return Check("state", False, f"{path} is not writable: {exc.strerror} (set state_dir)")
    stat = os.statvfs(path)
    free_mb = stat.f_bavail * stat.f_frsize / 1e6
    if free_mb < 50:
        return Check("state", False, f"{path} has only {free_mb:.0f} MB free")
    return Check("state", True, f"{path} writable, {free_mb:.0f} MB free")


def check_broker(settings: Settings, timeout: float = 5.0) -> Check:
    cfg = settings.mqtt
    where = f"{cfg.host}:{cfg.port}"
    try:
        with socket.create_connection((cfg.host, cfg.port), timeout=timeout):
            pass
    except OSError as exc:
        return Check("broker", False, f"cannot reach {where}: {exc} (is mosquitto running?)")
    outcome: dict[str, str] = {}
    done = threading.Event()
    client = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
        client_id=f"edgeward-doctor-{os.getpid()}",
        protocol=mqtt.MQTTProtocolVersion.MQTTv5,
    )
    try:
        secure(client, settings)
    except BusError as exc:
        return Check("broker", False, str(exc))

    def on_connect(c: mqtt.Client, u: object, f: object, reason: object, p: object) -> None:
        outcome["reason"] = str(reason)
        outcome["ok"] = "" if getattr(reason, "is_failure", True) else "yes"
        done.set()

    client.on_connect = on_connect
    try:
        client.connect(cfg.host, cfg.port, keepalive=10)
    except OSError as exc:
        return Check("broker", False, f"cannot connect to {where}: {exc}")
    client.loop_start()
    done.wait(timeout)
    client.disconnect()
    client.loop_stop()
    if not done.is_set():
        return Check("broker", False, f"{where} accepted TCP but sent no MQTT answer")
    if not outcome.get("ok"):
        return Check("broker", False, f"{where} refused us: {outcome.get('reason')}")
    return Check("broker", True, f"{where} accepts MQTT 5 connections")


def check_policy(settings: Settings) -> Check:
    if settings.policy.trust_root is None:
        return Check("policy", True, "no trust root: built-in default (nothing leaves the box)")
    from edgeward.policies.trust import PolicyStore

    try:
        store = PolicyStore(settings.state_dir, settings.policy.trust_root, settings.gateway_id)
    except (OSError, ValueError) as exc:
        return Check("policy", False, f"trust root unusable: {exc}")
    if settings.policy.path is not None:
        result = store.load_file(settings.policy.path)
        if not result.accepted:
            return Check("policy", False, f"{settings.policy.path} rejected: {result.reason}")
    version = store.active_version
    detail = f"policy v{version} in force" if version else "no policy in force: built-in default"
    return Check("policy", True, detail)


def check_model(settings: Settings) -> Check:
    from edgeward.daemon.planning import PlannerUnavailable, load_planner

    try:
        planner, name = load_planner(settings.model)
    except PlannerUnavailable as exc:
        return Check("model", False, f"{exc} (fix [model] path/backend, or unset path)")
    model = planner.model
    return Check("model", True, f"{name} loads ({model.folder.format}, {model.backend.name})")


def check_backup_model(settings: Settings) -> Check:
    from edgeward.daemon.planning import PlannerUnavailable, load_backup_planner

    try:
        loaded = load_backup_planner(settings.model)
    except PlannerUnavailable as exc:
        return Check(
            "backup",
            False,
            f"{exc} (fix [model] backup_path, or unset it; the daemon runs without the backup)",
        )
    if loaded is None:
        return Check("backup", True, "no backup model ([model] backup_path is empty)")
    planner, name = loaded
    model = planner.model
    return Check("backup", True, f"{name} loads ({model.folder.format}, {model.backend.name})")


def run_checks(settings: Settings, quick: bool = False) -> int:
    """Print one line per check; exit 0 when all pass."""
    checks: list[Callable[[Settings], Check]] = [check_state_dir, check_broker]
    if not quick:
        checks += [check_model, check_backup_model, check_policy]
    results = [check(settings) for check in checks]
    console.print(f"config: gateway {settings.gateway_id}")
    for result in results:
        mark = "[green]ok[/green]  " if result.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {result.name:<7} {escape(result.detail)}")
    return 0 if all(r.ok for r in results) else 1
