"""``edgeward demo``: a simulated home, the gateway and a prompt, on a local broker.

If a broker answers on 127.0.0.1 (port 1883 or ``--port``) the demo uses it, under topic prefixes
of its own (``edgeward-demo/...``) so that a Home Assistant on the same broker never sees the
simulated devices; otherwise it starts a private Mosquitto on a free port. State lives in a
temporary folder unless ``--state-dir`` says otherwise.
"""

from __future__ import annotations

import json
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

from edgeward.adapters.simulator import DEMO_AREAS, SimulatedHome, StateChange
from edgeward.daemon.cli import CliError, parse_call_words
from edgeward.daemon.client import ClientError, GatewayClient
from edgeward.daemon.console import console, print_reply
from edgeward.daemon.local_broker import BrokerError, LocalBroker, reachable
from edgeward.daemon.logs import setup_logging
from edgeward.daemon.service import Service
from edgeward.daemon.settings import load_settings

GATEWAY = "demo"
PREFIX = "edgeward-demo"

HELP = """Type a tool call:  TOOL ENTITY_ID [key=value ...]
   light.turn_on light.kitchen_ceiling_light brightness_pct=40
   lock.lock lock.front_door_lock
   state.get binary_sensor.front_door_sensor_contact
or JSON: [{"tool": "cover.open", "args": {"entity_id": "cover.garage_door"}}]
or a request in plain words (answered by the local planner when one is loaded).
Commands: tools (what can be called), help, quit."""


def run_demo(
    port: int | None = None, script: Path | None = None, state_dir: Path | None = None
) -> int:
    setup_logging("WARNING", "text")
    with tempfile.TemporaryDirectory(prefix="edgeward-demo-") as tmp:
        work = Path(tmp)
        broker: LocalBroker | None = None
        wanted = port or 1883
        if reachable("127.0.0.1", wanted):
            console.print(f"using the broker on 127.0.0.1:{wanted} (topics under {PREFIX}/)")
        else:
            try:
                broker = LocalBroker(work / "broker", port)
                broker.start()
            except BrokerError as exc:
                raise CliError(
                    f"no broker on 127.0.0.1:{wanted} and none could be started: {exc}"
                ) from None
            wanted = broker.port
            console.print(f"started a private Mosquitto on 127.0.0.1:{wanted}")
        try:
            return _run(wanted, state_dir or work / "state", script)
        finally:
            if broker is not None:
                broker.stop()


def _run(port: int, state_dir: Path, script: Path | None) -> int:
    settings = load_settings(
        None,
        gateway_id=GATEWAY,
        state_dir=str(state_dir),
        mqtt={
            "host": "127.0.0.1",
            "port": port,
            "client_id": f"edgeward-demo-{uuid.uuid4().hex[:6]}",
        },
        devices={
            "discovery_prefix": f"{PREFIX}/homeassistant",
            "zigbee2mqtt_base": f"{PREFIX}/zigbee2mqtt",
        },
        areas=[{"name": a.name, "floor": a.floor, "aliases": list(a.aliases)} for a in DEMO_AREAS],
    )

    def show_change(change: StateChange) -> None:
        console.print(f"  [cyan]device[/cyan] {change}")

    home = SimulatedHome(
        "127.0.0.1",
        port,
        discovery_prefix=settings.devices.discovery_prefix,
        z2m_base=settings.devices.zigbee2mqtt_base,
        on_change=show_change,
    )
    home.start()
    service = Service(settings)
    ready = threading.Event()
    thread = threading.Thread(target=service.run, kwargs={"on_ready": ready.set}, daemon=True)
    thread.start()
    try:
        if not ready.wait(20):
            raise CliError("the gateway did not become ready within 20 s")
        console.print(
            f"[bold]edgeward demo[/bold]: {len(home.device_names)} simulated devices, "
            f"{len(service.catalog)} entities, {len(service.catalog.tools)} tools. Type 'help'."
        )
        with GatewayClient("127.0.0.1", port, GATEWAY, client_name="demo") as client:
            for line in _lines(script):
                if line in {"quit", "exit"}:
                    break
                _handle(line, client, service)
                time.sleep(0.2)  # let the devices' state changes print before the next prompt
    finally:
        service.stop()
        thread.join(10)
        home.stop(forget=True)
    return 0


def _lines(script: Path | None) -> Iterator[str]:
    if script is not None:
        for raw in script.read_text(encoding="utf-8").splitlines():
            line = raw.strip()
            if line and not line.startswith("#"):
                console.print(f"[bold]>[/bold] {line}")
                yield line
        return
    while True:
        try:
            line = console.input("[bold]> [/bold]").strip()
        except EOFError:
            return
        if line:
            yield line


def _handle(line: str, client: GatewayClient, service: Service) -> None:
    if line == "help":
        console.print(HELP)
        return
    if line == "tools":
        _show_tools(service)
        return
    request_id = uuid.uuid4().hex[:12]
    try:
        if line[0] in "[{":
            body = json.loads(line)
            calls = body if isinstance(body, list) else [body]
            reply = client.call(request_id, calls)
        elif _looks_like_call(line.split()):
            reply = client.call(request_id, [parse_call_words(line.split())])
        else:
            reply = client.ask(request_id, line)
    except (ValueError, CliError, ClientError) as exc:
        console.print(f"[red]{exc}[/red]")
        return
    print_reply(reply)


def _looks_like_call(words: Iterable[str]) -> bool:
    items = list(words)
    return len(items) >= 2 and "." in items[0] and "." in items[1] and " " not in items[0]


def _show_tools(service: Service) -> None:
    catalog = service.catalog
    by_area: dict[str, list[str]] = {}
    for entity in catalog.entities.values():
        by_area.setdefault(entity.area or "(no area)", []).append(entity.entity_id)
    for area, ids in sorted(by_area.items()):
        console.print(f"[bold]{area}[/bold]: {', '.join(sorted(ids))}")
    console.print(f"tools: {', '.join(sorted(catalog.tools))}")
