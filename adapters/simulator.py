"""A simulated home on a real MQTT broker, for the demo and the integration tests.

:class:`SimulatedHome` connects with paho-mqtt, announces its devices the way real ones do (Home
Assistant MQTT discovery per entity and per device with ``cmps``, and a Zigbee2MQTT bridge with a
retained ``bridge/devices`` list), publishes their retained state and availability, and reacts to
commands on their command topics by publishing the new state, like the real devices would.

The home has two floors (:data:`DEMO_AREAS`) and two locks (front door and back door), so "lock the
door" is ambiguous. Every command it receives is kept in :attr:`SimulatedHome.received`, and every
state it publishes in reply goes to :attr:`SimulatedHome.changes` (and the ``on_change`` hook,
which runs on paho's network thread: keep it short).
"""

from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edgeward.runtime.catalog import Area

GROUND, FIRST = "Ground floor", "First floor"

DEMO_AREAS: tuple[Area, ...] = (
    Area("Kitchen", GROUND),
    Area("Living room", GROUND, ("lounge",)),
    Area("Hallway", GROUND, ("hall", "entrance")),
    Area("Garage", GROUND),
    Area("Garden", GROUND, ("backyard",)),
    Area("Bedroom", FIRST),
    Area("Bathroom", FIRST),
    Area("Office", FIRST, ("study",)),
)
"""The simulated home's rooms on two floors: what a user would put in ``[[areas]]``."""


class SimulatorError(RuntimeError):
    """The simulated home could not reach or use the broker."""


@dataclass(frozen=True)
class StateChange:
    """A simulated device acted on a command: the state it published (or what it did)."""

    device: str
    topic: str
    payload: str

    def __str__(self) -> str:
        try:
            values = json.loads(self.payload)
        except ValueError:
            values = None
        if isinstance(values, dict):
            shown = ", ".join(f"{k} {json.dumps(v, ensure_ascii=False)}" for k, v in values.items())
            return f"{self.device}: {shown}"
        return f"{self.device}: {self.payload}"


Message = tuple[str, bytes]
Handler = Callable[[bytes], list[tuple[str, str]]]


@dataclass
class _Device:
    """One simulated device: what it announces, its retained state, how it answers commands."""

    name: str
    configs: list[tuple[str, dict[str, Any]]]
    state: list[tuple[str, str]] = field(default_factory=list)
    handlers: dict[str, Handler] = field(default_factory=dict)


def _echo(state_topic: str, mapping: dict[str, str] | None = None) -> Handler:
    """A device that reports back what it was told (optionally renamed, LOCK -> LOCKED)."""

    def handle(payload: bytes) -> list[tuple[str, str]]:
        text = payload.decode("utf-8", "replace")
        return [(state_topic, (mapping or {}).get(text, text))]

    return handle


def _event(topic: str, what: str) -> Handler:
    """A stateless device (scene, button): it acts, nothing is retained."""

    def handle(payload: bytes) -> list[tuple[str, str]]:
        return [(topic, what)] if payload else []

    return handle


def _ha_devices(prefix: str) -> list[_Device]:
    out: list[_Device] = []
    # Kitchen: default-schema light, abbreviated keys with the ~ base topic, availability.
    k = "sim/kitchen/ceiling"
    out.append(
        _Device(
            "Kitchen Ceiling Light",
            [
                (
                    f"{prefix}/light/kitchen_ceiling/config",
                    {
                        "~": k,
                        "name": None,
                        "uniq_id": "sim-kitchen-ceiling",
                        "cmd_t": "~/set",
                        "stat_t": "~/state",
                        "bri_cmd_t": "~/brightness/set",
                        "bri_stat_t": "~/brightness",
                        "bri_scl": 100,
                        "clr_temp_cmd_t": "~/color_temp/set",
                        "clr_temp_stat_t": "~/color_temp",
                        "min_mirs": 153,
                        "max_mirs": 454,
                        "avty_t": "~/status",
                        "dev": {
                            "ids": ["sim-kitchen-ceiling"],
                            "name": "Kitchen Ceiling Light",
                            "mf": "Edgeward Sim",
                            "mdl": "Dimmable CT",
                            "sa": "Kitchen",
                        },
                        "o": {"name": "edgeward-simulator"},
                    },
                )
            ],
            [
                (f"{k}/status", "online"),
                (f"{k}/state", "OFF"),
                (f"{k}/brightness", "60"),
                (f"{k}/color_temp", "370"),
            ],
            {
                f"{k}/set": _echo(f"{k}/state"),
                f"{k}/brightness/set": _echo(f"{k}/brightness"),
                f"{k}/color_temp/set": _echo(f"{k}/color_temp"),
            },
        )
    )
    # Living room: json-schema colour lamp under a node id.
    lamp = "sim/living_room/lamp"
    lamp_state = {"state": "OFF", "brightness": 128, "color_mode": "color_temp", "color_temp": 300}
    out.append(
        _Device(
            "Living Room Lamp",
            [
                (
                    f"{prefix}/light/living_room/lamp/config",
                    {
                        "schema": "json",
                        "name": "Lamp",
                        "unique_id": "sim-living-lamp",
                        "command_topic": f"{lamp}/set",
                        "state_topic": lamp,
                        "supported_color_modes": ["color_temp", "rgb"],
                        "brightness_scale": 255,
                        "effect": True,
                        "effect_list": ["colorloop", "candle"],
                        "device": {
                            "identifiers": ["sim-living-lamp"],
                            "name": "Living Room",
                            "suggested_area": "Living room",
                        },
                    },
                )
            ],
            [(lamp, json.dumps(lamp_state))],
            {f"{lamp}/set": _json_light(lamp, lamp_state)},
        )
    )
    # Hallway: plain on/off light, full keys, entity id from object_id.
    hall = "sim/hallway/light"
    out.append(
        _Device(
            "Hallway Light",
            [
                (
                    f"{prefix}/light/hallway_light/config",
                    {
                        "name": "Hallway Light",
                        "object_id": "hallway_light",
                        "unique_id": "sim-hallway-light",
                        "command_topic": f"{hall}/set",
                        "state_topic": hall,
                        "payload_on": "1",
                        "payload_off": "0",
                        "device": {"identifiers": "sim-hallway", "suggested_area": "hallway"},
                    },
                )
            ],
            [(hall, "0")],
            {f"{hall}/set": _echo(hall)},
        )
    )
    # Living room thermostat.
    th = "sim/living_room/thermostat"
    out.append(
        _Device(
            "Thermostat",
            [
                (
                    f"{prefix}/climate/thermostat/config",
                    {
                        "~": th,
                        "name": None,
                        "uniq_id": "sim-thermostat",
                        "min_temp": 7,
                        "max_temp": 30,
                        "temp_step": 0.5,
                        "modes": ["off", "heat", "auto"],
                        "mode_cmd_t": "~/mode/set",
                        "mode_stat_t": "~/mode",
                        "temp_cmd_t": "~/target/set",
                        "temp_stat_t": "~/target",
                        "curr_temp_t": "~/current",
                        "dev": {"ids": "sim-thermostat", "name": "Thermostat", "sa": "Living room"},
                    },
                )
            ],
            [(f"{th}/mode", "heat"), (f"{th}/target", "20"), (f"{th}/current", "19.5")],
            {f"{th}/mode/set": _echo(f"{th}/mode"), f"{th}/target/set": _echo(f"{th}/target")},
        )
    )
    # Front door lock (hallway) that can also open the latch.
    fd = "sim/hallway/front_door"
    out.append(
        _Device(
            "Front Door Lock",
            [
                (
                    f"{prefix}/lock/front_door/config",
                    {
                        "name": "Lock",
                        "unique_id": "sim-front-door-lock",
                        "command_topic": f"{fd}/set",
                        "state_topic": fd,
                        "payload_open": "OPEN",
                        "device": {
                            "identifiers": ["sim-front-door"],
                            "name": "Front Door",
                            "suggested_area": "Hallway",
                        },
                    },
                )
            ],
            [(fd, "LOCKED")],
            {f"{fd}/set": _echo(fd, {"LOCK": "LOCKED", "UNLOCK": "UNLOCKED", "OPEN": "OPEN"})},
        )
    )
    # Garage door: a cover without position.
    gd = "sim/garage/door"
    out.append(
        _Device(
            "Garage Door",
            [
                (
                    f"{prefix}/cover/garage_door/config",
                    {
                        "name": None,
                        "uniq_id": "sim-garage-door",
                        "dev_cla": "garage",
                        "cmd_t": f"{gd}/set",
                        "stat_t": gd,
                        "dev": {"ids": "sim-garage-door", "name": "Garage Door", "sa": "Garage"},
                    },
                )
            ],
            [(gd, "closed")],
            {f"{gd}/set": _echo(gd, {"OPEN": "open", "CLOSE": "closed", "STOP": "stopped"})},
        )
    )
    # Garden irrigation valve.
    gv = "sim/garden/irrigation"
    out.append(
        _Device(
            "Irrigation Valve",
            [
                (
                    f"{prefix}/valve/garden_irrigation/config",
                    {
                        "name": None,
                        "uniq_id": "sim-irrigation",
                        "dev_cla": "water",
                        "cmd_t": f"{gv}/set",
                        "stat_t": gv,
                        "dev": {
                            "ids": "sim-irrigation",
                            "name": "Irrigation Valve",
                            "sa": "Garden",
                        },
                    },
                )
            ],
            [(gv, "closed")],
            {f"{gv}/set": _echo(gv, {"OPEN": "open", "CLOSE": "closed"})},
        )
    )
    # Bedroom ceiling fan with three speeds and presets.
    fan = "sim/bedroom/fan"
    out.append(
        _Device(
            "Bedroom Fan",
            [
                (
                    f"{prefix}/fan/bedroom_fan/config",
                    {
                        "~": fan,
                        "name": None,
                        "uniq_id": "sim-bedroom-fan",
                        "cmd_t": "~/set",
                        "stat_t": "~/state",
                        "pct_cmd_t": "~/speed/set",
                        "pct_stat_t": "~/speed",
                        "spd_rng_min": 1,
                        "spd_rng_max": 3,
                        "pr_mode_cmd_t": "~/preset/set",
                        "pr_mode_stat_t": "~/preset",
                        "pr_modes": ["sleep", "breeze"],
                        "dev": {"ids": "sim-bedroom-fan", "name": "Ceiling Fan", "sa": "Bedroom"},
                    },
                )
            ],
            [(f"{fan}/state", "OFF"), (f"{fan}/speed", "1")],
            {
                f"{fan}/set": _echo(f"{fan}/state"),
                f"{fan}/speed/set": _echo(f"{fan}/speed"),
                f"{fan}/preset/set": _echo(f"{fan}/preset"),
            },
        )
    )
    # Living room scene.
    scene = "sim/living_room/scene/movie_night"
    out.append(
        _Device(
            "Movie Night",
            [
                (
                    f"{prefix}/scene/movie_night/config",
                    {
                        "name": None,
                        "uniq_id": "sim-scene-movie",
                        "cmd_t": scene,
                        "pl_on": "ACTIVATE",
                        "dev": {
                            "ids": "sim-scene-movie",
                            "name": "Movie Night",
                            "sa": "Living room",
                        },
                    },
                )
            ],
            handlers={scene: _event(scene, "activated")},
        )
    )
    # Bathroom multisensor: one device config with cmps and a shared state topic.
    bath = "sim/bathroom/multisensor"
    out.append(
        _Device(
            "Bathroom Multisensor",
            [
                (
                    f"{prefix}/device/bathroom_multisensor/config",
                    {
                        "dev": {
                            "ids": "sim-bath-multi",
                            "name": "Bathroom Sensor",
                            "mf": "Edgeward Sim",
                            "sa": "Bathroom",
                        },
                        "o": {"name": "edgeward-simulator", "sw": "1.0"},
                        "stat_t": bath,
                        "cmps": {
                            "temperature": {
                                "p": "sensor",
                                "dev_cla": "temperature",
                                "unit_of_meas": "°C",
                                "val_tpl": "{{ value_json.temperature }}",
                                "uniq_id": "sim-bath-temp",
                            },
                            "humidity": {
                                "p": "sensor",
                                "dev_cla": "humidity",
                                "unit_of_meas": "%",
                                "val_tpl": "{{ value_json.humidity }}",
                                "uniq_id": "sim-bath-hum",
                            },
                            "motion": {
                                "p": "binary_sensor",
                                "dev_cla": "motion",
                                "val_tpl": "{{ value_json.motion }}",
                                "uniq_id": "sim-bath-motion",
                            },
                        },
                    },
                )
            ],
            [(bath, json.dumps({"temperature": 22.4, "humidity": 61, "motion": "OFF"}))],
        )
    )
    # Office desk: one device config with a switch and a button.
    desk = "sim/office/desk"
    out.append(
        _Device(
            "Office Desk",
            [
                (
                    f"{prefix}/device/office_desk/config",
                    {
                        "dev": {"ids": "sim-office-desk", "name": "Office Desk", "sa": "Office"},
                        "o": {"name": "edgeward-simulator"},
                        "cmps": {
                            "plug": {
                                "p": "switch",
                                "name": "Plug",
                                "cmd_t": f"{desk}/plug/set",
                                "stat_t": f"{desk}/plug",
                                "uniq_id": "sim-desk-plug",
                            },
                            "wake": {
                                "p": "button",
                                "name": "PC Wake",
                                "cmd_t": f"{desk}/wake",
                                "uniq_id": "sim-desk-wake",
                            },
                        },
                    },
                )
            ],
            [(f"{desk}/plug", "OFF")],
            {
                f"{desk}/plug/set": _echo(f"{desk}/plug"),
                f"{desk}/wake": _event(f"{desk}/wake", "pressed"),
            },
        )
    )
    return out


def _json_light(state_topic: str, initial: dict[str, Any]) -> Handler:
    state = dict(initial)

    def handle(payload: bytes) -> list[tuple[str, str]]:
        try:
            command = json.loads(payload)
        except ValueError:
            return []
        if not isinstance(command, dict):
            return []
        state.update({k: v for k, v in command.items() if k in ("state", "brightness", "effect")})
        if "color_temp" in command:
            state.update(color_temp=command["color_temp"], color_mode="color_temp")
            state.pop("color", None)
        if "color" in command:
            state.update(color=command["color"], color_mode="rgb")
        return [(state_topic, json.dumps(state))]

    return handle


# ---------------------------------------------------------------------------------------------
# Zigbee2MQTT side


def _binary(
    name: str, access: int, on: Any = True, off: Any = False, **extra: Any
) -> dict[str, Any]:
    return {"type": "binary", "name": name, "property": extra.pop("property", name),
            "access": access, "value_on": on, "value_off": off, **extra}  # fmt: skip


def _numeric(
    name: str,
    access: int,
    lo: float | None = None,
    hi: float | None = None,
    unit: str | None = None,
    **extra: Any,
) -> dict[str, Any]:
    out: dict[str, Any] = {"type": "numeric", "name": name, "property": name, "access": access}
    if lo is not None:
        out["value_min"] = lo
    if hi is not None:
        out["value_max"] = hi
    if unit:
        out["unit"] = unit
    return {**out, **extra}


def _enum(name: str, access: int, values: list[str]) -> dict[str, Any]:
    return {"type": "enum", "name": name, "property": name, "access": access, "values": values}


_LQI = _numeric("linkquality", 1, 0, 255, "lqi")
_BATTERY = _numeric("battery", 5, 0, 100, "%")


def _z2m_definitions() -> list[tuple[str, str, str, list[dict[str, Any]], dict[str, Any]]]:
    """(ieee, friendly name, model, exposes, initial state) of each Zigbee device."""
    return [
        (
            "0x00158d0001a1b2c1",
            "bedroom/Bedside Lamp",
            "LED1545G12",
            [
                {
                    "type": "light",
                    "features": [
                        _binary("state", 7, "ON", "OFF", value_toggle="TOGGLE"),
                        _numeric("brightness", 7, 0, 254),
                        _numeric("color_temp", 7, 150, 500, "mired"),
                        {
                            "type": "composite",
                            "name": "color_xy",
                            "property": "color",
                            "access": 7,
                            "features": [_numeric("x", 7), _numeric("y", 7)],
                        },
                    ],
                },
                _enum("effect", 2, ["blink", "breathe", "okay", "stop_effect"]),
                _LQI,
            ],
            {"state": "OFF", "brightness": 100, "color_temp": 370, "color_mode": "color_temp"},
        ),
        (
            "0x00158d0001a1b2c2",
            "kitchen/Back Door Lock",
            "YRD226HA2619",
            [
                {
                    "type": "lock",
                    "features": [
                        _binary("state", 7, "LOCK", "UNLOCK"),
                        _enum("lock_state", 1, ["not_fully_locked", "locked", "unlocked"]),
                    ],
                },
                _BATTERY,
                _LQI,
            ],
            {"state": "LOCK", "lock_state": "locked", "battery": 87},
        ),
        (
            "0x00158d0001a1b2c3",
            "living_room/Blinds",
            "E1757",
            [
                {
                    "type": "cover",
                    "features": [
                        _enum("state", 3, ["OPEN", "CLOSE", "STOP"]),
                        _numeric("position", 7, 0, 100, "%"),
                        _numeric("tilt", 7, 0, 100, "%"),
                    ],
                },
                _BATTERY,
                _LQI,
            ],
            {"state": "OPEN", "position": 100, "tilt": 50, "battery": 74},
        ),
        (
            "0x00158d0001a1b2c4",
            "hallway/Front Door Sensor",
            "MCCGQ11LM",
            [_binary("contact", 1), _BATTERY, _LQI],
            {"contact": True, "battery": 91},
        ),
        (
            "0x00158d0001a1b2c5",
            "garden/Motion Sensor",
            "RTCGQ11LM",
            [
                _binary("occupancy", 1),
                _numeric("illuminance_lux", 1, unit="lx", label="Illuminance"),
                _BATTERY,
                _LQI,
            ],
            {"occupancy": False, "illuminance_lux": 340, "battery": 66},
        ),
        (
            "0x00158d0001a1b2c6",
            "bedroom/Radiator",
            "SPZB0001",
            [
                {
                    "type": "climate",
                    "features": [
                        _numeric("occupied_heating_setpoint", 7, 5, 30, "°C", value_step=0.5),
                        _numeric("local_temperature", 5, unit="°C"),
                        _enum("system_mode", 7, ["off", "heat", "auto"]),
                        _enum("running_state", 5, ["idle", "heat"]),
                    ],
                },
                _binary("child_lock", 7, "LOCK", "UNLOCK"),
                _BATTERY,
                _LQI,
            ],
            {
                "occupied_heating_setpoint": 19,
                "local_temperature": 18.2,
                "system_mode": "heat",
                "running_state": "heat",
                "child_lock": "UNLOCK",
                "battery": 80,
            },
        ),
        (
            "0x00158d0001a1b2c7",
            "garage/Workbench Plug",
            "SP 120",
            [
                {
                    "type": "switch",
                    "features": [_binary("state", 7, "ON", "OFF", value_toggle="TOGGLE")],
                },
                _numeric("power", 5, unit="W"),
                _numeric("energy", 5, unit="kWh"),
                _LQI,
            ],
            {"state": "OFF", "power": 0, "energy": 12.4},
        ),
    ]


class _Z2MDevice:
    """A Zigbee device behind the simulated bridge: merges ``/set`` into its state and reports."""

    def __init__(self, base: str, friendly: str, state: dict[str, Any]) -> None:
        self.topic = f"{base}/{friendly}"
        self.friendly = friendly
        self.values = dict(state)

    def set(self, payload: bytes) -> list[tuple[str, str]]:
        try:
            command = json.loads(payload)
        except ValueError:
            return []
        if not isinstance(command, dict):
            return []
        for key, value in command.items():
            if key == "state" and value == "TOGGLE":
                value = "OFF" if self.values.get("state") == "ON" else "ON"
            self.values[key] = value
            if key == "state" and value in ("LOCK", "UNLOCK"):
                self.values["lock_state"] = "locked" if value == "LOCK" else "unlocked"
            if key == "state" and value in ("OPEN", "CLOSE") and "position" in self.values:
                self.values["position"] = 100 if value == "OPEN" else 0
            if key == "position":
                self.values["state"] = "OPEN" if value else "CLOSE"
            if key == "occupied_heating_setpoint":
                running = value > self.values.get("local_temperature", 0)
                self.values["running_state"] = "heat" if running else "idle"
        self.values.pop("effect", None)  # effects are momentary, not state
        return self.report()

    def get(self, payload: bytes) -> list[tuple[str, str]]:
        """``/get``: report the current state again, whatever was asked for."""
        return self.report()

    def report(self) -> list[tuple[str, str]]:
        return [(self.topic, json.dumps(self.values))]


# ---------------------------------------------------------------------------------------------
# The home


class SimulatedHome:
    """A dozen and more devices on a real broker, reacting to commands like real ones."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 1883,
        *,
        discovery_prefix: str = "homeassistant",
        z2m_base: str = "zigbee2mqtt",
        client_id: str = "edgeward-simulated-home",
        on_change: Callable[[StateChange], None] | None = None,
    ) -> None:
        self.host, self.port = host, port
        self.discovery_prefix = discovery_prefix
        self.z2m_base = z2m_base
        self.on_change = on_change
        self.changes: queue.Queue[StateChange] = queue.Queue()
        self.received: list[Message] = []
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self._ha = _ha_devices(discovery_prefix)
        self._z2m_defs = _z2m_definitions()
        self._z2m = {
            friendly: _Z2MDevice(z2m_base, friendly, state)
            for _, friendly, _, _, state in self._z2m_defs
        }
        self._removed: set[str] = set()
        self._handlers: dict[str, tuple[str, Handler]] = {}
        for device in self._ha:
            for topic, handler in device.handlers.items():
                self._handlers[topic] = (device.name, handler)
        for friendly, z in self._z2m.items():
            self._handlers[f"{z.topic}/set"] = (friendly, z.set)
            self._handlers[f"{z.topic}/get"] = (friendly, z.get)
        self._client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message

    @property
    def device_names(self) -> list[str]:
        return [d.name for d in self._ha] + [f for _, f, _, _, _ in self._z2m_defs]

    # -- lifecycle --------------------------------------------------------------------------

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe to every command topic and announce the home (retained)."""
        try:
            self._client.connect(self.host, self.port, keepalive=30)
        except OSError as err:
            raise SimulatorError(
                f"cannot reach the broker at {self.host}:{self.port}: {err}"
            ) from err
        self._client.loop_start()
        if not self._connected.wait(timeout):
            self._client.loop_stop()
            raise SimulatorError(f"the broker at {self.host}:{self.port} did not accept us")
        self.announce(timeout)

    def stop(self, *, forget: bool = False, timeout: float = 10.0) -> None:
        """Disconnect; with ``forget`` first clear every retained message the home published."""
        if forget:
            self._publish_all([(topic, b"") for topic, _ in self._retained()], timeout)
        self._client.disconnect()
        self._client.loop_stop()

    def announce(self, timeout: float = 10.0) -> None:
        """(Re)publish every discovery config, the bridge's device list and all state."""
        self._publish_all(self._retained(), timeout)

    def remove(self, name: str, timeout: float = 10.0) -> None:
        """Take a device away, the way it disappears in reality (empty config or bridge list)."""
        for device in self._ha:
            if device.name == name:
                self._publish_all([(topic, b"") for topic, _ in device.configs], timeout)
                return
        if name not in self._z2m:
            raise KeyError(f"no simulated device called {name!r}")
        self._removed.add(name)
        self._publish_all([(f"{self.z2m_base}/bridge/devices", self._bridge_devices())], timeout)

    def set_values(self, friendly_name: str, timeout: float = 10.0, **values: Any) -> None:
        """Change a Zigbee device's readings (open the door contact, trigger motion)."""
        device = self._z2m[friendly_name]
        device.values.update(values)
        self._publish_all([(t, p.encode()) for t, p in device.report()], timeout)

    def _retained(self) -> list[Message]:
        out: list[Message] = []
        for device in self._ha:
            out += [(topic, json.dumps(config).encode()) for topic, config in device.configs]
            out += [(topic, payload.encode()) for topic, payload in device.state]
        base = self.z2m_base
        out.append((f"{base}/bridge/state", b'{"state":"online"}'))
        out.append((f"{base}/bridge/devices", self._bridge_devices()))
        for friendly, z in self._z2m.items():
            if friendly in self._removed:
                continue
            out.append((f"{z.topic}/availability", b'{"state":"online"}'))
            out += [(t, p.encode()) for t, p in z.report()]
        return out

    def _bridge_devices(self) -> bytes:
        devices: list[dict[str, Any]] = [
            {
                "ieee_address": "0x00124b0000000001",
                "type": "Coordinator",
                "friendly_name": "Coordinator",
                "interview_completed": True,
                "supported": True,
                "definition": None,
            }
        ]
        for ieee, friendly, model, exposes, _ in self._z2m_defs:
            if friendly in self._removed:
                continue
            devices.append(
                {
                    "ieee_address": ieee,
                    "type": "EndDevice",
                    "friendly_name": friendly,
                    "interview_completed": True,
                    "supported": True,
                    "disabled": False,
                    "definition": {
                        "model": model,
                        "vendor": "Edgeward Sim",
                        "description": friendly.rsplit("/", 1)[-1],
                        "exposes": exposes,
                    },
                }
            )
        return json.dumps(devices).encode()

    def _publish_all(self, messages: list[Message], timeout: float) -> None:
        infos = [self._client.publish(t, p, qos=1, retain=True) for t, p in messages]
        for info in infos:
            info.wait_for_publish(timeout)
            if not info.is_published():
                raise SimulatorError(f"the broker did not acknowledge a publish within {timeout}s")

    # -- paho callbacks (network thread) ----------------------------------------------------

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            return
        birth = f"{self.discovery_prefix}/status"
        client.subscribe([(topic, 1) for topic in [*sorted(self._handlers), birth]])
        if self._connected.is_set():
            self._republish()  # back after a broker restart: say it all again, like devices do
        self._connected.set()

    def _republish(self) -> None:
        """Publish everything retained again without waiting (safe inside paho callbacks)."""
        for topic, payload in self._retained():
            self._client.publish(topic, payload, qos=1, retain=True)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        payload_in = bytes(message.payload)
        if message.topic == f"{self.discovery_prefix}/status":
            if payload_in == b"online":  # Home Assistant's birth message: announce again
                self._republish()
            return
        with self._lock:
            self.received.append((message.topic, payload_in))
        entry = self._handlers.get(message.topic)
        if entry is None or entry[0] in self._removed:
            return  # a device that is gone does not answer
        name, handler = entry
        for topic, payload in handler(payload_in):
            if topic != message.topic:  # a stateless device's event is not retained state
                client.publish(topic, payload, qos=1, retain=True)
            if message.topic.endswith("/get"):
                continue  # a refresh repeats the state, it does not change it
            change = StateChange(name, topic, payload)
            self.changes.put(change)
            if self.on_change is not None:
                self.on_change(change)
