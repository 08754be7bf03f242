"""Zigbee2MQTT: turn the retained ``<base>/bridge/devices`` list into entities, track their state
from ``<base>/<friendly_name>`` and actuate them through ``<base>/<friendly_name>/set``.

Each device's ``definition.exposes`` says what it can do. Specific exposes (``light``, ``switch``,
``cover``, ``lock``, ``climate``, ``fan``) become one entity each; generic ``numeric``, ``binary``
and ``enum`` exposes become sensors (or a switch, for a settable binary). The ``access`` bits decide
what is read and what is written: 1 the property is published in the state, 2 it can be set, 4 it
can be read on demand with ``/get``. A read-only expose never becomes a settable argument.

A friendly name with a slash (``kitchen/ceiling light``) puts the device in the area before the
slash, the way many Zigbee2MQTT users structure their topics.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from edgeward.adapters.ha_discovery import (
    PayloadError,
    Publish,
    brightness_pct,
    color_rgb,
    finite_number,
    kelvin_range_from_mireds,
    kelvin_to_mireds,
    mireds_to_kelvin,
    rgb_to_hs,
    rgb_to_xy,
    slugify,
)
from edgeward.runtime import services as svc

DEFAULT_BASE = "zigbee2mqtt"

ACCESS_STATE = 1
"""The property is published in the device's state message."""
ACCESS_SET = 2
"""The property can be set with ``<base>/<friendly_name>/set``."""
ACCESS_GET = 4
"""The property can be requested with ``<base>/<friendly_name>/get``."""

SPECIFIC_TYPES = ("light", "switch", "cover", "lock", "climate", "fan")

_COMMAND_QOS = 1

_NUMERIC_CLASSES = {
    "temperature": "temperature",
    "local_temperature": "temperature",
    "device_temperature": "temperature",
    "humidity": "humidity",
    "pressure": "pressure",
    "battery": "battery",
    "illuminance": "illuminance",
    "illuminance_lux": "illuminance",
    "power": "power",
    "energy": "energy",
    "voltage": "voltage",
    "current": "current",
    "co2": "carbon_dioxide",
    "pm25": "pm25",
}
_BINARY_CLASSES = {
    "contact": "door",
    "occupancy": "occupancy",
    "presence": "presence",
    "water_leak": "moisture",
    "smoke": "smoke",
    "gas": "gas",
    "tamper": "tamper",
    "battery_low": "battery",
    "vibration": "vibration",
}
_SKIPPED = frozenset({"linkquality"})
"""Generic exposes that are diagnostics, not things a person asks about."""

_SETPOINTS = (
    "occupied_heating_setpoint",
    "current_heating_setpoint",
    "occupied_cooling_setpoint",
)


class Z2MError(ValueError):
    """Something in ``bridge/devices`` that cannot be used; the message names device and expose."""


# ---------------------------------------------------------------------------------------------
# Exposes


@dataclass(frozen=True)
class Expose:
    """One expose (or feature of a composite) from a device definition."""

    type: str
    name: str
    property: str
    access: int
    endpoint: str | None = None
    label: str | None = None
    unit: str | None = None
    value_min: float | None = None
    value_max: float | None = None
    value_on: Any = True
    value_off: Any = False
    value_toggle: Any = None
    values: tuple[str, ...] = ()
    features: tuple[Expose, ...] = ()

    def can(self, bit: int) -> bool:
        return bool(self.access & bit)

    def feature(self, *names: str, bit: int = ACCESS_STATE) -> Expose | None:
        """The first sub-feature called one of ``names`` that has access ``bit``."""
        for name in names:
            for feat in self.features:
                if feat.name == name and feat.can(bit):
                    return feat
        return None


def parse_expose(raw: Any, where: str) -> Expose:
    """Validate one expose dict; raise :class:`Z2MError` naming ``where`` and the key."""
    if not isinstance(raw, Mapping):
        raise Z2MError(f"{where}: expose must be an object, got {type(raw).__name__}")
    kind = raw.get("type")
    if not isinstance(kind, str) or not kind:
        raise Z2MError(f"{where}: expose has no type")
    name = raw.get("name", kind)
    here = f"{where} expose {name!r}"
    if not isinstance(name, str):
        raise Z2MError(f"{where}: expose name must be a string, got {name!r}")
    features: tuple[Expose, ...] = ()
    if "features" in raw:
        if not isinstance(raw["features"], list):
            raise Z2MError(f"{here}: features must be a list")
        features = tuple(parse_expose(f, here) for f in raw["features"])
    prop = raw.get("property", "" if features else None)
    if not isinstance(prop, str) or (prop == "" and not features):
        raise Z2MError(f"{here}: property must be a non-empty string, got {prop!r}")
    access = raw.get("access", max((f.access for f in features), default=0))
    if isinstance(access, bool) or not isinstance(access, int) or not 0 <= access <= 7:
        raise Z2MError(f"{here}: access must be an integer 0..7 (1 state, 2 set, 4 get)")
    lo, hi = raw.get("value_min"), raw.get("value_max")
    for key, value in (("value_min", lo), ("value_max", hi)):
        if value is not None and finite_number(value) is None:
            raise Z2MError(f"{here}: {key} must be a finite number, got {value!r}")
    if lo is not None and hi is not None and lo > hi:
        raise Z2MError(f"{here}: value_min {lo} is greater than value_max {hi}")
    if name == "color_temp" and ((lo is not None and lo <= 0) or (hi is not None and hi <= 0)):
        raise Z2MError(f"{here}: a colour temperature range in mired must be positive")
    values = raw.get("values", [])
    if kind == "enum" and (
        not isinstance(values, list) or not values or not all(isinstance(v, str) for v in values)
    ):
        raise Z2MError(f"{here}: an enum needs values, a non-empty list of strings")
    endpoint = raw.get("endpoint")
    return Expose(
        type=kind,
        name=name,
        property=prop,
        access=access,
        endpoint=endpoint if isinstance(endpoint, str) else None,
        label=raw.get("label") if isinstance(raw.get("label"), str) else None,
        unit=raw.get("unit") if isinstance(raw.get("unit"), str) else None,
        value_min=lo,
        value_max=hi,
        value_on=raw.get("value_on", True),
        value_off=raw.get("value_off", False),
        value_toggle=raw.get("value_toggle"),
        values=tuple(values) if isinstance(values, list) else (),
        features=features,
    )


# ---------------------------------------------------------------------------------------------
# Entities


@dataclass
class Z2MEntity:
    """One entity of a Zigbee2MQTT device (pure configuration, no I/O)."""

    key: str
    domain: str
    name: str
    object_id: str
    area: str | None
    base: str
    friendly_name: str
    ieee_address: str
    expose: Expose
    device_class: str | None = None
    services: svc.Services = field(default_factory=dict)
    extras: dict[str, Expose] = field(default_factory=dict)
    unique_id: str | None = None
    availability_mode = "all"
    available_by_default = True

    @property
    def state_topic(self) -> str:
        return f"{self.base}/{self.friendly_name}"

    @property
    def native_toggle(self) -> bool:
        state = self._state_feature()
        return state is not None and state.value_toggle is not None

    def state_topics(self) -> set[str]:
        return {self.state_topic, *self.availability_topics()}

    def availability_topics(self) -> list[str]:
        """The device's own availability and the bridge's state: both must be online."""
        return [f"{self.state_topic}/availability", f"{self.base}/bridge/state"]

    def parse_availability(self, topic: str, payload: bytes) -> bool | None:
        if topic not in self.availability_topics():
            return None
        text = payload.decode("utf-8", "replace").strip()
        try:
            data = json.loads(text)
        except ValueError:
            data = text
        state = data.get("state") if isinstance(data, dict) else data
        if state == "online":
            return True
        if state == "offline":
            return False
        return None

    # -- state ------------------------------------------------------------------------------

    def decode(self, topic: str, payload: bytes) -> dict[str, Any]:
        if topic != self.state_topic:
            return {}
        try:
            data = json.loads(payload.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise PayloadError(f"{topic}: state is not JSON") from None
        if not isinstance(data, dict):
            raise PayloadError(f"{topic}: state must be a JSON object")
        return _DECODERS[self.domain if self.expose.type != "generic" else "generic"](self, data)

    def _state_feature(self) -> Expose | None:
        if self.expose.type == "binary":
            return self.expose
        return self.expose.feature("state")

    # -- commands ---------------------------------------------------------------------------

    def encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        if service not in self.services:
            raise PayloadError(f"{self.friendly_name} does not offer {self.domain}.{service}")
        body = _ENCODERS[self.domain](self, service, args)
        topic = f"{self.state_topic}/set"
        return [(topic, json.dumps(body).encode(), _COMMAND_QOS, False)]

    def refresh(self) -> list[Publish]:
        """A ``/get`` request for every property of this entity that can be read on demand."""
        props = [e.property for e in self._all_exposes() if e.can(ACCESS_GET) and e.property]
        if not props:
            return []
        body = {prop: "" for prop in props}
        return [(f"{self.state_topic}/get", json.dumps(body).encode(), _COMMAND_QOS, False)]

    def _all_exposes(self) -> list[Expose]:
        own = list(self.expose.features) if self.expose.features else [self.expose]
        return own + list(self.extras.values())


def _on_off(feature: Expose, value: Any) -> str | None:
    if value == feature.value_on:
        return "on"
    if value == feature.value_off:
        return "off"
    return None


def _pct(value: float, feature: Expose) -> int:
    lo = feature.value_min or 0
    hi = feature.value_max if feature.value_max is not None else 100
    return brightness_pct(value - lo, hi - lo)


def _from_pct(pct: int, feature: Expose) -> int:
    lo = feature.value_min or 0
    hi = feature.value_max if feature.value_max is not None else 100
    return round(lo + (hi - lo) * pct / 100)


def _number_of(feature: Expose | None, data: Mapping[str, Any]) -> float | None:
    return None if feature is None else finite_number(data.get(feature.property))


def _decode_light(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    exp = entity.expose
    state = exp.feature("state")
    if state is not None and state.property in data:
        out["state"] = _on_off(state, data[state.property])
    bri = exp.feature("brightness")
    brightness = _number_of(bri, data)
    if bri is not None and brightness is not None:
        out["brightness_pct"] = _pct(brightness, bri)
    mireds = _number_of(exp.feature("color_temp"), data)
    if mireds is not None and mireds > 0:
        out["color_temp_kelvin"] = mireds_to_kelvin(mireds)
    color = exp.feature("color_xy", "color_hs")
    if color is not None and isinstance(data.get(color.property), dict):
        out["color"] = data[color.property]
    if isinstance(data.get("color_mode"), str):
        out["color_mode"] = data["color_mode"]
    return out


def _decode_switch(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    state = entity._state_feature()
    if state is not None and state.property in data:
        return {"state": _on_off(state, data[state.property])}
    return {}


def _decode_cover(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    exp = entity.expose
    pos = exp.feature("position")
    position = _number_of(pos, data)
    if pos is not None and position is not None:
        out["current_position"] = _pct(position, pos)
        out["state"] = "closed" if out["current_position"] == 0 else "open"
    else:
        state = exp.feature("state")
        if state is not None and state.property in data:
            mapped = {"OPEN": "open", "CLOSE": "closed", "STOP": "stopped"}
            out["state"] = mapped.get(str(data[state.property]).upper())
    tilt = exp.feature("tilt")
    tilt_value = _number_of(tilt, data)
    if tilt is not None and tilt_value is not None:
        out["current_tilt_position"] = _pct(tilt_value, tilt)
    return out


def _decode_lock(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    exp = entity.expose
    lock_state = exp.feature("lock_state")
    if lock_state is not None and isinstance(data.get(lock_state.property), str):
        value = data[lock_state.property]
        return {"state": {"not_fully_locked": "jammed"}.get(value, value)}
    state = exp.feature("state")
    if state is not None and state.property in data:
        on_off = _on_off(state, data[state.property])
        return {"state": {"on": "locked", "off": "unlocked"}.get(on_off or "")}
    return {}


def _decode_climate(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    exp = entity.expose
    for attribute, value in (
        ("temperature", _number_of(exp.feature(*_SETPOINTS), data)),
        ("current_temperature", _number_of(exp.feature("local_temperature"), data)),
    ):
        if value is not None:
            out[attribute] = value
    for feature_name, attribute in (
        ("system_mode", "hvac_mode"),
        ("running_state", "hvac_action"),
        ("preset", "preset_mode"),
        ("fan_mode", "fan_mode"),
    ):
        feat = exp.feature(feature_name)
        if feat is not None and isinstance(data.get(feat.property), str):
            out[attribute] = data[feat.property]
    if "hvac_mode" in out:
        out["state"] = out["hvac_mode"]
    return out


def _decode_fan(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    out = _decode_switch(entity, data)
    mode = entity.expose.feature("mode", "fan_mode")
    if mode is not None and isinstance(data.get(mode.property), str):
        out["preset_mode"] = data[mode.property]
    speed = entity.expose.feature("speed")
    value = _number_of(speed, data)
    if speed is not None and value is not None:
        out["percentage"] = _pct(value, speed)
    return out


def _decode_generic(entity: Z2MEntity, data: dict[str, Any]) -> dict[str, Any]:
    exp = entity.extras["value"]
    if exp.property not in data:
        return {}
    value = data[exp.property]
    if exp.type == "binary":
        on_off = _on_off(exp, value)
        if exp.name == "contact":  # Zigbee reports contact=true when the door is closed
            on_off = {"on": "off", "off": "on"}.get(on_off or "")
        return {"state": on_off}
    out: dict[str, Any] = {"state": None if value is None else str(value)}
    if exp.unit:
        out["unit_of_measurement"] = exp.unit
    return out


_DECODERS = {
    "light": _decode_light,
    "switch": _decode_switch,
    "cover": _decode_cover,
    "lock": _decode_lock,
    "climate": _decode_climate,
    "fan": _decode_fan,
    "generic": _decode_generic,
}


def _encode_light(entity: Z2MEntity, service: str, args: Mapping[str, Any]) -> dict[str, Any]:
    exp = entity.expose
    state = exp.feature("state", bit=ACCESS_SET)
    assert state is not None  # a light without a settable state offers no service
    if service == "toggle":
        return {state.property: state.value_toggle}
    if service == "turn_off" or args.get("brightness_pct") == 0:
        return {state.property: state.value_off}
    body: dict[str, Any] = {state.property: state.value_on}
    bri = exp.feature("brightness", bit=ACCESS_SET)
    if "brightness_pct" in args and bri is not None:
        body[bri.property] = max(_from_pct(args["brightness_pct"], bri), 1)
    ct = exp.feature("color_temp", bit=ACCESS_SET)
    if "color_temp_kelvin" in args and ct is not None:
        lo, hi = ct.value_min or 153, ct.value_max or 500
        body[ct.property] = kelvin_to_mireds(args["color_temp_kelvin"], lo, hi)
    color = exp.feature("color_xy", "color_hs", bit=ACCESS_SET)
    if "color_name" in args and color is not None:
        rgb = color_rgb(args["color_name"])
        if color.name == "color_xy":
            x, y = rgb_to_xy(rgb)
            body[color.property] = {"x": x, "y": y}
        else:
            h, s = rgb_to_hs(rgb)
            body[color.property] = {"hue": h, "saturation": s}
    effect = entity.extras.get("effect")
    if "effect" in args and effect is not None:
        body[effect.property] = args["effect"]
    return body


def _encode_switch(entity: Z2MEntity, service: str, args: Mapping[str, Any]) -> dict[str, Any]:
    state = entity._state_feature()
    assert state is not None
    value = {"turn_on": state.value_on, "turn_off": state.value_off, "toggle": state.value_toggle}
    return {state.property: value[service]}


def _encode_cover(entity: Z2MEntity, service: str, args: Mapping[str, Any]) -> dict[str, Any]:
    exp = entity.expose
    if service == "set_position":
        pos = exp.feature("position", bit=ACCESS_SET)
        assert pos is not None
        return {pos.property: _from_pct(args["position"], pos)}
    if service == "set_tilt":
        tilt = exp.feature("tilt", bit=ACCESS_SET)
        assert tilt is not None
        return {tilt.property: _from_pct(args["tilt"], tilt)}
    state = exp.feature("state", bit=ACCESS_SET)
    if state is None:  # position-only cover: open and close are positions
        return _encode_cover(entity, "set_position", {"position": 100 if service == "open" else 0})
    return {state.property: {"open": "OPEN", "close": "CLOSE", "stop": "STOP"}[service]}


def _encode_lock(entity: Z2MEntity, service: str, args: Mapping[str, Any]) -> dict[str, Any]:
    state = entity.expose.feature("state", bit=ACCESS_SET)
    assert state is not None
    return {state.property: state.value_on if service == "lock" else state.value_off}


def _encode_climate(entity: Z2MEntity, service: str, args: Mapping[str, Any]) -> dict[str, Any]:
    exp = entity.expose
    if service == "set_temperature":
        setpoint = exp.feature(*_SETPOINTS, bit=ACCESS_SET)
        assert setpoint is not None
        return {setpoint.property: args["temperature"]}
    mode = exp.feature("system_mode", bit=ACCESS_SET)
    if service in ("set_hvac_mode", "turn_on", "turn_off"):
        assert mode is not None
        if service == "set_hvac_mode":
            return {mode.property: args["hvac_mode"]}
        if service == "turn_off":
            return {mode.property: "off"}
        on = next((m for m in ("heat", "cool", "auto") if m in mode.values), None)
        return {mode.property: on or next(m for m in mode.values if m != "off")}
    feature_name, arg = {
        "set_preset_mode": ("preset", "preset_mode"),
        "set_fan_mode": ("fan_mode", "fan_mode"),
    }[service]
    feat = exp.feature(feature_name, bit=ACCESS_SET)
    assert feat is not None
    return {feat.property: args[arg]}


def _encode_fan(entity: Z2MEntity, service: str, args: Mapping[str, Any]) -> dict[str, Any]:
    if service == "set_preset_mode":
        mode = entity.expose.feature("mode", "fan_mode", bit=ACCESS_SET)
        assert mode is not None
        return {mode.property: args["preset_mode"]}
    if service == "set_percentage":
        speed = entity.expose.feature("speed", bit=ACCESS_SET)
        assert speed is not None
        return {speed.property: _from_pct(args["percentage"], speed)}
    return _encode_switch(entity, service, args)


_ENCODERS = {
    "light": _encode_light,
    "switch": _encode_switch,
    "cover": _encode_cover,
    "lock": _encode_lock,
    "climate": _encode_climate,
    "fan": _encode_fan,
}


# ---------------------------------------------------------------------------------------------
# Services from exposes


def _light_services(exp: Expose, extras: Mapping[str, Expose]) -> svc.Services:
    if exp.feature("state", bit=ACCESS_SET) is None:
        return {}
    ct = exp.feature("color_temp", bit=ACCESS_SET)
    kelvin = kelvin_range_from_mireds(ct.value_min or 153, ct.value_max or 500) if ct else None
    effect = extras.get("effect")
    return svc.light_services(
        brightness=exp.feature("brightness", bit=ACCESS_SET) is not None,
        color_temp_kelvin=kelvin,
        color=exp.feature("color_xy", "color_hs", bit=ACCESS_SET) is not None,
        effects=effect.values if effect is not None else (),
    )


def _switch_services(exp: Expose) -> svc.Services:
    state = exp if exp.type == "binary" else exp.feature("state", bit=ACCESS_SET)
    if state is None or not state.can(ACCESS_SET):
        return {}
    return svc.switch_services()


def _cover_services(exp: Expose) -> svc.Services:
    state = exp.feature("state", bit=ACCESS_SET)
    position = exp.feature("position", bit=ACCESS_SET) is not None
    if state is None and not position:
        return {}
    return svc.cover_services(
        position=position,
        tilt=exp.feature("tilt", bit=ACCESS_SET) is not None,
        stop=state is not None and "STOP" in state.values,
    )


def _lock_services(exp: Expose) -> svc.Services:
    return svc.lock_services() if exp.feature("state", bit=ACCESS_SET) else {}


def _climate_services(exp: Expose) -> svc.Services:
    setpoint = exp.feature(*_SETPOINTS, bit=ACCESS_SET)
    mode = exp.feature("system_mode", bit=ACCESS_SET)
    preset = exp.feature("preset", bit=ACCESS_SET)
    fan = exp.feature("fan_mode", bit=ACCESS_SET)
    lo = setpoint.value_min if setpoint and setpoint.value_min is not None else 7.0
    hi = setpoint.value_max if setpoint and setpoint.value_max is not None else 35.0
    out = svc.climate_services(
        min_temp=lo,
        max_temp=hi,
        hvac_modes=mode.values if mode else (),
        fan_modes=fan.values if fan else (),
        preset_modes=preset.values if preset else (),
    )
    if setpoint is None:
        out.pop("set_temperature")
    return out


def _fan_services(exp: Expose) -> svc.Services:
    if exp.feature("state", bit=ACCESS_SET) is None:
        return {}
    mode = exp.feature("mode", "fan_mode", bit=ACCESS_SET)
    presets = [m for m in mode.values if m not in ("on", "off")] if mode else []
    return svc.fan_services(
        percentage=exp.feature("speed", bit=ACCESS_SET) is not None, preset_modes=presets
    )


# ---------------------------------------------------------------------------------------------
# bridge/devices


@dataclass
class ParsedDevices:
    """Every entity in one ``bridge/devices`` message, keyed, and what could not be used.

    ``complete`` is false when the message itself was unusable (not a JSON list): then it says
    nothing about which devices exist, and the previous list should stay.
    """

    entities: dict[str, Z2MEntity]
    problems: list[str]
    complete: bool = True


def parse_devices(base: str, payload: bytes) -> ParsedDevices:
    """Parse the retained device list. Never raises for bad input: see ``problems``."""
    topic = f"{base}/bridge/devices"
    out = ParsedDevices({}, [])
    if not payload:
        return out  # the retained list was cleared: no devices
    try:
        devices = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        out.problems.append(f"{topic}: payload is not valid JSON ({err})")
        out.complete = False
        return out
    if not isinstance(devices, list):
        out.problems.append(f"{topic}: payload must be a JSON list of devices")
        out.complete = False
        return out
    for n, device in enumerate(devices):
        try:
            entities = _device_entities(base, device, f"{topic} device #{n}")
        except _Partial as err:
            out.problems.append(str(err))
            entities = err.entities
        except Z2MError as err:
            out.problems.append(str(err))
            continue
        for entity in entities:
            out.entities[entity.key] = entity
    return out


def _device_entities(base: str, device: Any, where: str) -> list[Z2MEntity]:
    if not isinstance(device, Mapping):
        raise Z2MError(f"{where}: must be an object")
    if device.get("type") == "Coordinator" or device.get("disabled") is True:
        return []
    ieee, friendly = device.get("ieee_address"), device.get("friendly_name")
    if not isinstance(ieee, str) or not ieee:
        raise Z2MError(f"{where}: ieee_address must be a non-empty string")
    if not isinstance(friendly, str) or not friendly or "+" in friendly or "#" in friendly:
        raise Z2MError(f"{where}: friendly_name must be a topic-safe string, got {friendly!r}")
    where = f"{base}/bridge/devices device {friendly!r}"
    if device.get("interview_completed") is False or device.get("supported") is False:
        return []
    definition = device.get("definition")
    if definition is None:
        return []
    if not isinstance(definition, Mapping) or not isinstance(definition.get("exposes"), list):
        raise Z2MError(f"{where}: definition.exposes must be a list")
    exposes: list[Expose] = []
    problems: list[str] = []
    for raw in definition["exposes"]:
        try:
            exposes.append(parse_expose(raw, where))
        except Z2MError as err:
            problems.append(str(err))
    if problems and not exposes:
        raise Z2MError("; ".join(problems))
    area, name = _split_name(friendly)
    extras = {e.name: e for e in exposes if e.name == "effect" and e.can(ACCESS_SET)}
    entities: list[Z2MEntity] = []
    specific_count: dict[str, int] = {}
    for exp in exposes:
        if exp.type in SPECIFIC_TYPES:
            specific_count[exp.type] = specific_count.get(exp.type, 0) + 1
    for exp in exposes:
        entity = _entity(base, ieee, friendly, area, name, exp, extras, specific_count)
        if entity is not None:
            entities.append(entity)
    if problems:
        # Usable exposes still make entities; the bad ones are reported, not silently dropped.
        raise _Partial(entities, problems)
    return entities


class _Partial(Z2MError):
    def __init__(self, entities: list[Z2MEntity], problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.entities = entities


def _split_name(friendly: str) -> tuple[str | None, str]:
    head, sep, tail = friendly.rpartition("/")
    if not sep or not tail:
        return None, friendly
    area = head.split("/")[0].replace("_", " ").strip()
    return area or None, tail


def _entity(
    base: str,
    ieee: str,
    friendly: str,
    area: str | None,
    name: str,
    exp: Expose,
    extras: dict[str, Expose],
    specific_count: Mapping[str, int],
) -> Z2MEntity | None:
    common: dict[str, Any] = {
        "base": base,
        "friendly_name": friendly,
        "ieee_address": ieee,
        "area": area,
    }
    if exp.type in SPECIFIC_TYPES:
        suffix = f" {exp.endpoint}" if exp.endpoint and specific_count[exp.type] > 1 else ""
        builders = {
            "light": lambda: _light_services(exp, extras),
            "switch": lambda: _switch_services(exp),
            "cover": lambda: _cover_services(exp),
            "lock": lambda: _lock_services(exp),
            "climate": lambda: _climate_services(exp),
            "fan": lambda: _fan_services(exp),
        }
        key_part = exp.endpoint or exp.type
        return Z2MEntity(
            key=f"z2m:{ieee}:{key_part}",
            domain=exp.type,
            name=name + suffix,
            object_id=slugify(name + suffix),
            expose=exp,
            services=builders[exp.type](),
            extras=dict(extras) if exp.type == "light" else {},
            unique_id=f"{ieee}_{key_part}_zigbee2mqtt",
            **common,
        )
    if exp.property in _SKIPPED or not exp.can(ACCESS_STATE):
        return None
    label = exp.label or exp.name.replace("_", " ").capitalize()
    entity_args: dict[str, Any] = {
        "key": f"z2m:{ieee}:{exp.property}",
        "name": f"{name} {label}",
        "object_id": slugify(f"{name} {exp.property}"),
        "unique_id": f"{ieee}_{exp.property}_zigbee2mqtt",
        **common,
    }
    if exp.type == "binary" and exp.can(ACCESS_SET):
        # A settable binary (child lock, LED indicator) is a switch driven by this very expose.
        return Z2MEntity(domain="switch", expose=exp, services=_switch_services(exp), **entity_args)
    generic = Expose(type="generic", name=exp.name, property=exp.property, access=exp.access)
    entity_args.update(expose=generic, extras={"value": exp})
    if exp.type == "binary":
        return Z2MEntity(
            domain="binary_sensor", device_class=_BINARY_CLASSES.get(exp.name), **entity_args
        )
    if exp.type in ("numeric", "enum", "text"):
        return Z2MEntity(
            domain="sensor", device_class=_NUMERIC_CLASSES.get(exp.name), **entity_args
        )
    return None


def subscriptions(base: str = DEFAULT_BASE) -> list[str]:
    """Topic filters for the bridge's device list and its online state."""
    return [f"{base}/bridge/devices", f"{base}/bridge/state"]
