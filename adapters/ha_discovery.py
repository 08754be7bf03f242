"""Home Assistant MQTT discovery: parse what devices announce, decode their state, encode commands.

A device announces each entity retained on ``<prefix>/<component>/[<node_id>/]<object_id>/config``,
or all of its entities at once on ``<prefix>/device/<id>/config`` with a ``cmps`` (components)
mapping. Keys may be abbreviated (``cmd_t`` for ``command_topic``), topics may start or end with
``~`` (the ``~`` base topic), and an empty payload removes what the topic announced.

:func:`parse` turns one discovery message into :class:`HaEntity` objects (or the problems that
stopped them). An :class:`HaEntity` is pure configuration: it knows which topics carry its state
and availability, how to decode them, and which payloads to publish for a service call, exactly
as Home Assistant itself would publish them.
"""

from __future__ import annotations

import colorsys
import functools
import json
import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from edgeward.runtime import services as svc

DEFAULT_PREFIX = "homeassistant"

COMPONENTS = (
    "light", "switch", "fan", "cover", "valve", "lock", "climate",
    "sensor", "binary_sensor", "scene", "button",
)  # fmt: skip
"""The components this adapter understands; each is also the entity's domain."""

ABBREVIATIONS: dict[str, str] = {
    "act_t": "action_topic",
    "act_tpl": "action_template",
    "avty": "availability",
    "avty_mode": "availability_mode",
    "avty_t": "availability_topic",
    "avty_tpl": "availability_template",
    "bri_cmd_t": "brightness_command_topic",
    "bri_cmd_tpl": "brightness_command_template",
    "bri_scl": "brightness_scale",
    "bri_stat_t": "brightness_state_topic",
    "bri_tpl": "brightness_template",
    "bri_val_tpl": "brightness_value_template",
    "clr_temp_cmd_t": "color_temp_command_topic",
    "clr_temp_cmd_tpl": "color_temp_command_template",
    "clr_temp_k": "color_temp_kelvin",
    "clr_temp_stat_t": "color_temp_state_topic",
    "clr_temp_tpl": "color_temp_template",
    "clr_temp_val_tpl": "color_temp_value_template",
    "clrm": "color_mode",
    "clrm_stat_t": "color_mode_state_topic",
    "clrm_val_tpl": "color_mode_value_template",
    "cmd_off_tpl": "command_off_template",
    "cmd_on_tpl": "command_on_template",
    "cmd_t": "command_topic",
    "cmd_tpl": "command_template",
    "cmps": "components",
    "curr_hum_t": "current_humidity_topic",
    "curr_hum_tpl": "current_humidity_template",
    "curr_temp_t": "current_temperature_topic",
    "curr_temp_tpl": "current_temperature_template",
    "def_ent_id": "default_entity_id",
    "dev": "device",
    "dev_cla": "device_class",
    "dir_cmd_t": "direction_command_topic",
    "dir_cmd_tpl": "direction_command_template",
    "dir_stat_t": "direction_state_topic",
    "dir_val_tpl": "direction_value_template",
    "dsp_prc": "display_precision",
    "e": "encoding",
    "en": "enabled_by_default",
    "ent_cat": "entity_category",
    "ent_pic": "entity_picture",
    "exp_aft": "expire_after",
    "fan_mode_cmd_t": "fan_mode_command_topic",
    "fan_mode_cmd_tpl": "fan_mode_command_template",
    "fan_mode_stat_t": "fan_mode_state_topic",
    "fan_mode_stat_tpl": "fan_mode_state_template",
    "flsh": "flash",
    "flsh_tlng": "flash_time_long",
    "flsh_tsht": "flash_time_short",
    "frc_upd": "force_update",
    "fx_cmd_t": "effect_command_topic",
    "fx_cmd_tpl": "effect_command_template",
    "fx_list": "effect_list",
    "fx_stat_t": "effect_state_topic",
    "fx_tpl": "effect_template",
    "fx_val_tpl": "effect_value_template",
    "hs_cmd_t": "hs_command_topic",
    "hs_cmd_tpl": "hs_command_template",
    "hs_stat_t": "hs_state_topic",
    "hs_val_tpl": "hs_value_template",
    "ic": "icon",
    "json_attr_t": "json_attributes_topic",
    "json_attr_tpl": "json_attributes_template",
    "max_k": "max_kelvin",
    "max_mirs": "max_mireds",
    "max_temp": "max_temp",
    "min_k": "min_kelvin",
    "min_mirs": "min_mireds",
    "min_temp": "min_temp",
    "mode_cmd_t": "mode_command_topic",
    "mode_cmd_tpl": "mode_command_template",
    "mode_stat_t": "mode_state_topic",
    "mode_stat_tpl": "mode_state_template",
    "o": "origin",
    "obj_id": "object_id",
    "on_cmd_type": "on_command_type",
    "opt": "optimistic",
    "osc_cmd_t": "oscillation_command_topic",
    "osc_cmd_tpl": "oscillation_command_template",
    "osc_stat_t": "oscillation_state_topic",
    "osc_val_tpl": "oscillation_value_template",
    "p": "platform",
    "pct_cmd_t": "percentage_command_topic",
    "pct_cmd_tpl": "percentage_command_template",
    "pct_stat_t": "percentage_state_topic",
    "pct_val_tpl": "percentage_value_template",
    "pl": "payload",
    "pl_avail": "payload_available",
    "pl_cls": "payload_close",
    "pl_lock": "payload_lock",
    "pl_not_avail": "payload_not_available",
    "pl_off": "payload_off",
    "pl_on": "payload_on",
    "pl_open": "payload_open",
    "pl_osc_off": "payload_oscillation_off",
    "pl_osc_on": "payload_oscillation_on",
    "pl_prs": "payload_press",
    "pl_stop": "payload_stop",
    "pl_stop_tilt": "payload_stop_tilt",
    "pl_unlk": "payload_unlock",
    "pos": "reports_position",
    "pos_clsd": "position_closed",
    "pos_open": "position_open",
    "pos_t": "position_topic",
    "pos_tpl": "position_template",
    "pow_cmd_t": "power_command_topic",
    "pow_cmd_tpl": "power_command_template",
    "pr_mode_cmd_t": "preset_mode_command_topic",
    "pr_mode_cmd_tpl": "preset_mode_command_template",
    "pr_mode_stat_t": "preset_mode_state_topic",
    "pr_mode_val_tpl": "preset_mode_value_template",
    "pr_modes": "preset_modes",
    "ret": "retain",
    "rgb_cmd_t": "rgb_command_topic",
    "rgb_cmd_tpl": "rgb_command_template",
    "rgb_stat_t": "rgb_state_topic",
    "rgb_val_tpl": "rgb_value_template",
    "rgbw_cmd_t": "rgbw_command_topic",
    "rgbw_cmd_tpl": "rgbw_command_template",
    "rgbw_stat_t": "rgbw_state_topic",
    "rgbw_val_tpl": "rgbw_value_template",
    "rgbww_cmd_t": "rgbww_command_topic",
    "rgbww_cmd_tpl": "rgbww_command_template",
    "rgbww_stat_t": "rgbww_state_topic",
    "rgbww_val_tpl": "rgbww_value_template",
    "schema": "schema",
    "set_pos_t": "set_position_topic",
    "set_pos_tpl": "set_position_template",
    "spd_rng_max": "speed_range_max",
    "spd_rng_min": "speed_range_min",
    "stat_cla": "state_class",
    "stat_closing": "state_closing",
    "stat_clsd": "state_closed",
    "stat_jam": "state_jammed",
    "stat_locked": "state_locked",
    "stat_locking": "state_locking",
    "stat_off": "state_off",
    "stat_on": "state_on",
    "stat_open": "state_open",
    "stat_opening": "state_opening",
    "stat_stopped": "state_stopped",
    "stat_t": "state_topic",
    "stat_tpl": "state_template",
    "stat_unlocked": "state_unlocked",
    "stat_unlocking": "state_unlocking",
    "stat_val_tpl": "state_value_template",
    "sug_dsp_prc": "suggested_display_precision",
    "sup_clrm": "supported_color_modes",
    "swing_mode_cmd_t": "swing_mode_command_topic",
    "swing_mode_stat_t": "swing_mode_state_topic",
    "t": "topic",
    "temp_cmd_t": "temperature_command_topic",
    "temp_cmd_tpl": "temperature_command_template",
    "temp_stat_t": "temperature_state_topic",
    "temp_stat_tpl": "temperature_state_template",
    "temp_step": "temp_step",
    "temp_unit": "temperature_unit",
    "tilt_clsd_val": "tilt_closed_value",
    "tilt_cmd_t": "tilt_command_topic",
    "tilt_cmd_tpl": "tilt_command_template",
    "tilt_max": "tilt_max",
    "tilt_min": "tilt_min",
    "tilt_opnd_val": "tilt_opened_value",
    "tilt_status_t": "tilt_status_topic",
    "tilt_status_tpl": "tilt_status_template",
    "trns": "transition",
    "uniq_id": "unique_id",
    "unit_of_meas": "unit_of_measurement",
    "val_tpl": "value_template",
    "whit_cmd_t": "white_command_topic",
    "whit_scl": "white_scale",
    "xy_cmd_t": "xy_command_topic",
    "xy_cmd_tpl": "xy_command_template",
    "xy_stat_t": "xy_state_topic",
    "xy_val_tpl": "xy_value_template",
}
"""Abbreviated discovery keys and the keys they stand for (Home Assistant's own table)."""

DEVICE_ABBREVIATIONS: dict[str, str] = {
    "cns": "connections",
    "cu": "configuration_url",
    "hw": "hw_version",
    "ids": "identifiers",
    "mdl": "model",
    "mdl_id": "model_id",
    "mf": "manufacturer",
    "name": "name",
    "sa": "suggested_area",
    "sn": "serial_number",
    "sw": "sw_version",
    "via_device": "via_device",
}
"""Abbreviations inside the ``device`` (``dev``) mapping."""

ORIGIN_ABBREVIATIONS: dict[str, str] = {"name": "name", "sw": "sw_version", "url": "support_url"}
"""Abbreviations inside the ``origin`` (``o``) mapping."""

Publish = tuple[str, bytes, int, bool]
"""One message to publish: topic, payload, QoS, retain."""

_MIRED_KELVIN = 1_000_000


class DiscoveryError(ValueError):
    """A discovery config that cannot be used; the message names the topic and the key."""


class PayloadError(ValueError):
    """A state payload or a command that cannot be decoded or encoded for this entity."""


# ---------------------------------------------------------------------------------------------
# Topics, abbreviations and the ~ base topic


@dataclass(frozen=True)
class DiscoveryTopic:
    """Where a discovery config was published: one entity, or a whole device (``device``)."""

    component: str
    node_id: str | None
    object_id: str

    @property
    def is_device(self) -> bool:
        return self.component == "device"


def parse_topic(prefix: str, topic: str) -> DiscoveryTopic | None:
    """The parts of a discovery topic, or ``None`` when ``topic`` is not one."""
    head = prefix.rstrip("/") + "/"
    if not topic.startswith(head) or not topic.endswith("/config"):
        return None
    parts = topic[len(head) : -len("/config")].split("/")
    if len(parts) == 2 and all(parts):
        return DiscoveryTopic(parts[0], None, parts[1])
    if len(parts) == 3 and all(parts) and parts[0] != "device":
        return DiscoveryTopic(parts[0], parts[1], parts[2])
    return None


def expand(config: Mapping[str, Any]) -> dict[str, Any]:
    """Expand abbreviated keys (also inside ``device``, ``origin``, ``availability``) and ``~``."""
    return _apply_base(_expand_keys(config))


def _expand_keys(config: Mapping[str, Any]) -> dict[str, Any]:
    out = {ABBREVIATIONS.get(key, key): value for key, value in config.items()}
    for key, table in (("device", DEVICE_ABBREVIATIONS), ("origin", ORIGIN_ABBREVIATIONS)):
        if isinstance(out.get(key), Mapping):
            out[key] = {table.get(k, k): v for k, v in out[key].items()}
    if isinstance(out.get("availability"), list):
        out["availability"] = [
            {ABBREVIATIONS.get(k, k): v for k, v in item.items()}
            if isinstance(item, Mapping)
            else item
            for item in out["availability"]
        ]
    return out


def _apply_base(out: dict[str, Any]) -> dict[str, Any]:
    base = out.pop("~", None)
    if isinstance(base, str):
        for key, value in out.items():
            if key.endswith("topic"):
                out[key] = _with_base(value, base)
        items = out.get("availability")
        for item in items if isinstance(items, list) else ():
            if isinstance(item, dict) and "topic" in item:
                item["topic"] = _with_base(item["topic"], base)
    return out


def _with_base(value: Any, base: str) -> Any:
    if not isinstance(value, str) or not value:
        return value
    if value.startswith("~"):
        return base + value[1:]
    if value.endswith("~"):
        return value[:-1] + base
    return value


# ---------------------------------------------------------------------------------------------
# Templates


_ENV = ImmutableSandboxedEnvironment(autoescape=False)


_compile = functools.lru_cache(maxsize=1024)(_ENV.from_string)


class _Template:
    """A Jinja template from a config, rendered in a sandbox like Home Assistant renders it."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._tpl = _compile(source)

    def render(self, **variables: Any) -> str:
        try:
            return self._tpl.render(**variables).strip()
        except TemplateError as err:
            raise PayloadError(f"template {self.source!r} failed: {err}") from err
        except (TypeError, ValueError, ArithmeticError) as err:
            raise PayloadError(f"template {self.source!r} failed: {err}") from err


def _value_vars(payload: str) -> dict[str, Any]:
    try:
        value_json = json.loads(payload)
    except ValueError:
        value_json = None
    return {"value": payload, "value_json": value_json}


# ---------------------------------------------------------------------------------------------
# Field checking

# kinds: topic (publishable), sub (subscribable), str, bool, int, number, payload, tpl,
# strlist, enum:<a|b|c>
_COMMON: dict[str, str] = {
    "unique_id": "str",
    "object_id": "str",
    "default_entity_id": "str",
    "device_class": "str",
    "qos": "int",
    "retain": "bool",
    "availability_topic": "sub",
    "availability_mode": "enum:latest|all|any",
    "availability_template": "tpl",
    "payload_available": "payload",
    "payload_not_available": "payload",
    "icon": "str",
    "enabled_by_default": "bool",
    "entity_category": "str",
    "encoding": "str",
    "optimistic": "bool",
    "json_attributes_topic": "sub",
    "json_attributes_template": "tpl",
    "platform": "str",
    "value_template": "tpl",
    "state_topic": "sub",
    "command_topic": "topic",
    "command_template": "tpl",
}

_LIGHT_COLOR = {
    "color_temp_kelvin": "bool",
    "min_mireds": "int",
    "max_mireds": "int",
    "min_kelvin": "int",
    "max_kelvin": "int",
    "brightness_scale": "int",
    "effect_list": "strlist",
    "payload_on": "payload",
    "payload_off": "payload",
}

_LIGHT_DEFAULT_ONLY = {
    "state_value_template": "tpl",
    "brightness_command_topic": "topic",
    "brightness_command_template": "tpl",
    "brightness_state_topic": "sub",
    "brightness_value_template": "tpl",
    "color_temp_command_topic": "topic",
    "color_temp_command_template": "tpl",
    "color_temp_state_topic": "sub",
    "color_temp_value_template": "tpl",
    "rgb_command_topic": "topic",
    "rgb_command_template": "tpl",
    "rgb_state_topic": "sub",
    "rgb_value_template": "tpl",
    "hs_command_topic": "topic",
    "hs_command_template": "tpl",
    "hs_state_topic": "sub",
    "xy_command_topic": "topic",
    "xy_command_template": "tpl",
    "xy_state_topic": "sub",
    "effect_command_topic": "topic",
    "effect_command_template": "tpl",
    "effect_state_topic": "sub",
    "effect_value_template": "tpl",
    "on_command_type": "enum:last|first|brightness",
}

_LIGHT_JSON_ONLY = {
    "brightness": "bool",
    "supported_color_modes": "strlist",
    "effect": "bool",
    "flash": "bool",
    "transition": "number",
}

_SPECS: dict[str, dict[str, str]] = {
    "light": {**_LIGHT_COLOR, **_LIGHT_DEFAULT_ONLY, "schema": "enum:default|basic|json"},
    "light_json": {**_LIGHT_COLOR, **_LIGHT_JSON_ONLY, "schema": "enum:json"},
    "switch": {"payload_on": "payload", "payload_off": "payload", "state_on": "payload",
               "state_off": "payload"},
    "fan": {
        "payload_on": "payload", "payload_off": "payload", "state_value_template": "tpl",
        "percentage_command_topic": "topic", "percentage_command_template": "tpl",
        "percentage_state_topic": "sub", "percentage_value_template": "tpl",
        "speed_range_min": "int", "speed_range_max": "int",
        "preset_mode_command_topic": "topic", "preset_mode_command_template": "tpl",
        "preset_mode_state_topic": "sub", "preset_mode_value_template": "tpl",
        "preset_modes": "strlist",
        "oscillation_command_topic": "topic", "oscillation_command_template": "tpl",
        "oscillation_state_topic": "sub", "oscillation_value_template": "tpl",
        "payload_oscillation_on": "payload", "payload_oscillation_off": "payload",
    },
    "cover": {
        "payload_open": "payload?", "payload_close": "payload?", "payload_stop": "payload?",
        "state_open": "payload", "state_closed": "payload", "state_opening": "payload",
        "state_closing": "payload", "state_stopped": "payload",
        "position_topic": "sub", "position_template": "tpl", "set_position_topic": "topic",
        "set_position_template": "tpl", "position_open": "int", "position_closed": "int",
        "tilt_command_topic": "topic", "tilt_command_template": "tpl",
        "tilt_status_topic": "sub", "tilt_status_template": "tpl", "tilt_min": "int",
        "tilt_max": "int", "tilt_opened_value": "int", "tilt_closed_value": "int",
    },
    "valve": {
        "payload_open": "payload?", "payload_close": "payload?", "payload_stop": "payload?",
        "state_open": "payload", "state_closed": "payload", "state_opening": "payload",
        "state_closing": "payload", "reports_position": "bool", "position_open": "int",
        "position_closed": "int",
    },
    "lock": {
        "payload_lock": "payload", "payload_unlock": "payload", "payload_open": "payload?",
        "state_locked": "payload", "state_unlocked": "payload", "state_locking": "payload",
        "state_unlocking": "payload", "state_jammed": "payload", "state_open": "payload",
        "state_opening": "payload", "code_format": "str",
    },
    "climate": {
        "temperature_command_topic": "topic", "temperature_command_template": "tpl",
        "temperature_state_topic": "sub", "temperature_state_template": "tpl",
        "current_temperature_topic": "sub", "current_temperature_template": "tpl",
        "current_humidity_topic": "sub", "current_humidity_template": "tpl",
        "mode_command_topic": "topic", "mode_command_template": "tpl",
        "mode_state_topic": "sub", "mode_state_template": "tpl", "modes": "strlist",
        "fan_mode_command_topic": "topic", "fan_mode_command_template": "tpl",
        "fan_mode_state_topic": "sub", "fan_mode_state_template": "tpl", "fan_modes": "strlist",
        "preset_mode_command_topic": "topic", "preset_mode_command_template": "tpl",
        "preset_mode_state_topic": "sub", "preset_mode_value_template": "tpl",
        "preset_modes": "strlist", "power_command_topic": "topic",
        "power_command_template": "tpl", "payload_on": "payload", "payload_off": "payload",
        "min_temp": "number", "max_temp": "number", "temp_step": "number",
        "temperature_unit": "enum:C|F", "precision": "number",
    },
    "sensor": {"unit_of_measurement": "str?", "state_class": "str", "expire_after": "int",
               "force_update": "bool", "suggested_display_precision": "int"},
    "binary_sensor": {"payload_on": "payload", "payload_off": "payload", "off_delay": "int",
                      "expire_after": "int", "force_update": "bool"},
    "scene": {"payload_on": "payload"},
    "button": {"payload_press": "payload"},
}  # fmt: skip

_REQUIRED: dict[str, tuple[str, ...]] = {
    "light": ("command_topic",),
    "light_json": ("command_topic",),
    "fan": ("command_topic",),
    "lock": ("command_topic",),
    "sensor": ("state_topic",),
    "binary_sensor": ("state_topic",),
    "button": ("command_topic",),
}

_COLOR_MODES = frozenset(
    {"onoff", "brightness", "color_temp", "hs", "xy", "rgb", "rgbw", "rgbww", "white"}
)


class _Problem(Exception):
    """One specific thing wrong with a config (turned into a :class:`DiscoveryError`)."""


def _check_fields(config: Mapping[str, Any], spec: Mapping[str, str]) -> None:
    for key, kind in spec.items():
        if key in config:
            _check_value(key, config[key], kind)


def _check_value(key: str, value: Any, kind: str) -> None:
    optional = kind.endswith("?")
    kind = kind.rstrip("?")
    if value is None:
        if optional or key == "name":
            return
        raise _Problem(f"{key} must not be null")
    bad = False
    if kind in ("topic", "sub"):
        bad = not isinstance(value, str) or not value
        if not bad and kind == "topic" and ("+" in value or "#" in value):
            raise _Problem(f"{key} {value!r} contains an MQTT wildcard; commands need a topic")
    elif kind in ("str", "tpl"):
        bad = not isinstance(value, str)
        if not bad and kind == "tpl":
            try:
                _ENV.parse(value)
            except TemplateError as err:
                raise _Problem(f"{key} is not a valid template: {err}") from err
    elif kind == "bool":
        bad = not isinstance(value, bool)
    elif kind == "int":
        bad = isinstance(value, bool) or not isinstance(value, int)
    elif kind == "number":
        bad = isinstance(value, bool) or not isinstance(value, int | float)
        if not bad and not math.isfinite(value):
            raise _Problem(f"{key} must be a finite number, got {value}")
    elif kind == "payload":
        bad = not isinstance(value, str | int | float | bool)
    elif kind == "strlist":
        bad = not isinstance(value, list) or not all(isinstance(v, str) for v in value)
    elif kind.startswith("enum:"):
        choices = kind[5:].split("|")
        if value not in choices:
            raise _Problem(f"{key} {_show(value)} is not one of {', '.join(choices)}")
    if bad:
        raise _Problem(
            f"{key} has the wrong type: expected {_KIND_NAMES[kind]}, got {_show(value)}"
        )


_KIND_NAMES = {
    "topic": "an MQTT topic",
    "sub": "an MQTT topic",
    "str": "a string",
    "tpl": "a template string",
    "bool": "true or false",
    "int": "an integer",
    "number": "a number",
    "payload": "a string or number",
    "strlist": "a list of strings",
}


def _show(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------------------------------------
# Parsing one discovery message


@dataclass
class Parsed:
    """What one discovery message announced.

    ``entities`` maps each discovery id (``light/kitchen``, ``device/hub/temp``) to its entity;
    ``invalid`` lists discovery ids whose config was rejected (the previous config stays);
    ``problems`` says why, naming the topic and the key.
    """

    topic: str
    entities: dict[str, HaEntity]
    invalid: set[str]
    problems: list[str]


def parse(prefix: str, topic: str, payload: bytes) -> Parsed:
    """Parse one message on a discovery topic. Never raises for bad input: see ``problems``."""
    where = parse_topic(prefix, topic)
    out = Parsed(topic, {}, set(), [])
    if where is None:
        out.problems.append(f"{topic}: not a discovery topic under {prefix!r}")
        return out
    if not payload:
        return out  # removal: the topic now announces nothing
    try:
        raw = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as err:
        out.problems.append(f"{topic}: payload is not valid JSON ({err})")
        _mark_invalid(out, where)
        return out
    if not isinstance(raw, dict):
        out.problems.append(f"{topic}: payload must be a JSON object, got {_show(raw)}")
        _mark_invalid(out, where)
        return out
    if where.is_device:
        _parse_device(out, where, _expand_keys(raw))  # ~ applies per component, after merging
        return out
    config = expand(raw)
    discovery_id = _discovery_id(where)
    if where.component not in COMPONENTS:
        out.problems.append(f"{topic}: component {where.component!r} is not supported")
        out.invalid.add(discovery_id)
        return out
    try:
        out.entities[discovery_id] = _build(where.component, config, topic, discovery_id)
    except DiscoveryError as err:
        out.problems.append(str(err))
        out.invalid.add(discovery_id)
    return out


def _discovery_id(where: DiscoveryTopic) -> str:
    if where.node_id is None:
        return f"{where.component}/{where.object_id}"
    return f"{where.component}/{where.node_id}/{where.object_id}"


def _mark_invalid(out: Parsed, where: DiscoveryTopic) -> None:
    # A broken device config leaves the device's existing entities as they were.
    out.invalid.add(f"device/{where.object_id}/*" if where.is_device else _discovery_id(where))


def _parse_device(out: Parsed, where: DiscoveryTopic, config: dict[str, Any]) -> None:
    topic = out.topic
    components = config.pop("components", None)
    if not isinstance(config.get("device"), Mapping):
        out.problems.append(f"{topic}: device must be an object (key dev/device)")
        _mark_invalid(out, where)
        return
    if not isinstance(components, Mapping):
        out.problems.append(f"{topic}: components (cmps) must be an object of entity configs")
        _mark_invalid(out, where)
        return
    if not isinstance(config.get("origin"), Mapping) or not config["origin"].get("name"):
        out.problems.append(f"{topic}: origin (o) with a name is required for device discovery")
        _mark_invalid(out, where)
        return
    for cmp_id, raw in components.items():
        discovery_id = f"device/{where.object_id}/{cmp_id}"
        if not isinstance(raw, Mapping):
            out.problems.append(f"{topic}: component {cmp_id!r} must be an object")
            out.invalid.add(discovery_id)
            continue
        own = _expand_keys(raw)
        platform = own.get("platform")
        if set(own) == {"platform"}:
            continue  # a component reduced to its platform is being removed
        if platform not in COMPONENTS:
            out.problems.append(
                f"{topic}: component {cmp_id!r} has platform (p) {_show(platform)}; "
                f"expected one of {', '.join(COMPONENTS)}"
            )
            out.invalid.add(discovery_id)
            continue
        merged = _apply_base({**config, **own})  # shared device options, the component's win
        try:
            out.entities[discovery_id] = _build(platform, merged, topic, discovery_id, cmp_id)
        except DiscoveryError as err:
            out.problems.append(str(err))
            out.invalid.add(discovery_id)


def _build(
    component: str,
    config: dict[str, Any],
    topic: str,
    discovery_id: str,
    cmp_id: str | None = None,
) -> HaEntity:
    where = f"{topic}" + (f" component {cmp_id!r}" if cmp_id else "")
    kind = component
    if component == "light":
        schema = config.get("schema", "default")
        if schema == "json":
            kind = "light_json"
        elif schema not in ("default", "basic"):
            raise DiscoveryError(
                f"{where}: light schema {_show(schema)} is not supported (use default or json)"
            )
    try:
        _check_fields(config, _COMMON)
        _check_fields(config, _SPECS[kind])
        if "name" in config and config["name"] is not None and not isinstance(config["name"], str):
            raise _Problem(
                f"name has the wrong type: expected a string, got {_show(config['name'])}"
            )
        for key in _REQUIRED.get(kind, ()):
            if not config.get(key):
                raise _Problem(f"{key} (required for a {_kind_label(kind)}) is missing")
        if kind == "light_json":
            lying = sorted(k for k in config if k in _LIGHT_DEFAULT_ONLY)
            if lying:
                raise _Problem(
                    f"{lying[0]} belongs to the default light schema but the config says "
                    "schema: json"
                )
        elif kind == "light":
            lying = sorted(k for k in config if k in _LIGHT_JSON_ONLY)
            if lying:
                raise _Problem(
                    f"{lying[0]} belongs to the json light schema but the config has no "
                    "schema: json"
                )
        device = _check_device(config.get("device"))
        _check_availability(config)
        qos = config.get("qos", 0)
        if qos not in (0, 1, 2):
            raise _Problem(f"qos {_show(qos)} is not 0, 1 or 2")
        entity_cls = _CLASSES[kind]
        entity = entity_cls(component, discovery_id, topic, config, device)
    except _Problem as err:
        raise DiscoveryError(f"{where}: {err}") from None
    return entity


def _kind_label(kind: str) -> str:
    return "json schema light" if kind == "light_json" else kind.replace("_", " ")


def _check_device(device: Any) -> dict[str, Any]:
    if device is None:
        return {}
    if not isinstance(device, Mapping):
        raise _Problem(f"device (dev) must be an object, got {_show(device)}")
    for key in ("name", "suggested_area", "manufacturer", "model"):
        if key in device and device[key] is not None and not isinstance(device[key], str):
            raise _Problem(f"device {key} must be a string, got {_show(device[key])}")
    ids = device.get("identifiers")
    if ids is not None and not isinstance(ids, str | list):
        raise _Problem(f"device identifiers (ids) must be a string or list, got {_show(ids)}")
    return dict(device)


def _check_availability(config: Mapping[str, Any]) -> None:
    items = config.get("availability")
    if items is None:
        return
    if not isinstance(items, list):
        raise _Problem(f"availability (avty) must be a list, got {_show(items)}")
    for n, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("topic"), str):
            raise _Problem(f"availability[{n}] needs a topic (t), got {_show(item)}")
        for key in ("payload_available", "payload_not_available"):
            if key in item:
                _check_value(f"availability[{n}].{key}", item[key], "payload")
        if "value_template" in item:
            _check_value(f"availability[{n}].value_template", item["value_template"], "tpl")


# ---------------------------------------------------------------------------------------------
# Entities


@dataclass(frozen=True)
class Availability:
    """One availability topic and what its payloads mean."""

    topic: str
    payload_available: str = "online"
    payload_not_available: str = "offline"
    template: str | None = None

    def parse(self, payload: str) -> bool | None:
        value = (
            _Template(self.template).render(**_value_vars(payload)) if self.template else payload
        )
        if value == self.payload_available:
            return True
        if value == self.payload_not_available:
            return False
        return None


StateHandler = Callable[[str], dict[str, Any]]


class HaEntity:
    """One entity announced by Home Assistant MQTT discovery (pure configuration, no I/O)."""

    component: str
    services: svc.Services
    default_name = "MQTT Entity"
    native_toggle = False
    """Discovery has no toggle payload: the registry turns toggle into turn_on or turn_off."""

    def __init__(
        self,
        component: str,
        discovery_id: str,
        topic: str,
        config: dict[str, Any],
        device: dict[str, Any],
    ) -> None:
        self.component = component
        self.domain = component
        self.discovery_id = discovery_id
        self.discovery_topic = topic
        self.config = config
        self.device = device
        self.unique_id: str | None = config.get("unique_id")
        self.device_class: str | None = config.get("device_class")
        self.qos: int = config.get("qos", 0)
        self.retain: bool = config.get("retain", False)
        self.name = self._friendly_name()
        self.area: str | None = device.get("suggested_area") or None
        self.object_id = self._object_id()
        self.availability = self._availability()
        self.availability_mode: str = config.get("availability_mode", "latest")
        self.available_by_default = not self.availability
        self._handlers: list[tuple[str, StateHandler]] = []
        self.services = {}
        self._setup()

    # -- identity ---------------------------------------------------------------------------

    def _friendly_name(self) -> str:
        device_name = self.device.get("name")
        if "name" in self.config:
            own = self.config["name"]
        elif self.device_class:
            own = self.device_class.replace("_", " ").capitalize()
        else:
            own = self.default_name
        if own is None:
            return device_name or self.default_name
        if device_name:
            if own.lower().startswith(device_name.lower() + " "):
                own = own[len(device_name) + 1 :]
            return f"{device_name} {own}"
        return str(own)

    def _object_id(self) -> str:
        default = self.config.get("default_entity_id")
        if default:
            domain, _, rest = default.partition(".")
            if domain != self.domain or not rest:
                raise _Problem(f"default_entity_id {default!r} must look like {self.domain}.<name>")
            return slugify(rest)
        if self.config.get("object_id"):
            return slugify(self.config["object_id"])
        return slugify(self.name)

    def _availability(self) -> list[Availability]:
        out: list[Availability] = []
        if self.config.get("availability_topic"):
            out.append(
                Availability(
                    self.config["availability_topic"],
                    str(self.config.get("payload_available", "online")),
                    str(self.config.get("payload_not_available", "offline")),
                    self.config.get("availability_template"),
                )
            )
        for item in self.config.get("availability") or ():
            out.append(
                Availability(
                    item["topic"],
                    str(item.get("payload_available", "online")),
                    str(item.get("payload_not_available", "offline")),
                    item.get("value_template"),
                )
            )
        return out

    # -- state ------------------------------------------------------------------------------

    def _setup(self) -> None:
        """Set ``services`` and the state handlers from the config (per component)."""

    def _on(self, key: str, handler: StateHandler) -> None:
        topic = self.config.get(key)
        if topic:
            self._handlers.append((topic, handler))

    def state_topics(self) -> set[str]:
        return {t for t, _ in self._handlers} | {a.topic for a in self.availability}

    def availability_topics(self) -> list[str]:
        return [a.topic for a in self.availability]

    def refresh(self) -> list[Publish]:
        """Home Assistant MQTT devices have no way to ask for state: nothing to publish."""
        return []

    def decode(self, topic: str, payload: bytes) -> dict[str, Any]:
        """State updates carried by ``payload`` on ``topic``: ``state`` and attributes."""
        text = _text(payload)
        out: dict[str, Any] = {}
        for handler_topic, handler in self._handlers:
            if handler_topic == topic:
                out.update(handler(text))
        return out

    def parse_availability(self, topic: str, payload: bytes) -> bool | None:
        for item in self.availability:
            if item.topic == topic:
                return item.parse(_text(payload))
        return None

    def _value(self, key: str, payload: str) -> str:
        template = self.config.get(key)
        if template:
            return _Template(template).render(**_value_vars(payload))
        return payload

    # -- commands ---------------------------------------------------------------------------

    def encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        """The messages that carry out ``service`` with ``args`` (``entity_id`` excluded)."""
        if service not in self.services:
            raise PayloadError(f"{self.discovery_id} does not offer {self.domain}.{service}")
        return self._encode(service, args)

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        raise PayloadError(f"{self.discovery_id} does not offer {self.domain}.{service}")

    def _pub(self, topic_key: str, value: Any, template_key: str | None = None) -> Publish:
        topic = self.config[topic_key]
        template = self.config.get(template_key) if template_key else None
        if template:
            text = _Template(template).render(value=value, entity_id=self.discovery_id)
        else:
            text = _payload_text(value)
        return (topic, text.encode(), self.qos, self.retain)


def _toggle_error(discovery_id: str) -> PayloadError:
    return PayloadError(
        f"{discovery_id}: toggle needs the current state; resolve it to turn_on or turn_off first"
    )


def _text(payload: bytes) -> str:
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError as err:
        raise PayloadError(f"payload is not UTF-8 text ({err})") from err


def _payload_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def finite_number(value: Any) -> float | None:
    """``value`` when it is a finite JSON number (not a bool), else ``None``."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    return value


def _number(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise PayloadError(f"{what} {text!r} is not a number") from None
    if not math.isfinite(value):
        raise PayloadError(f"{what} {text!r} is not a finite number")
    return value


def slugify(text: str) -> str:
    """Home Assistant style slug: ascii, lower case, words joined by ``_``."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "_", plain.lower()).strip("_")


def kelvin_range_from_mireds(min_mireds: float, max_mireds: float) -> tuple[int, int]:
    """The whole-kelvin range a light with this mired range can show."""
    return math.ceil(_MIRED_KELVIN / max_mireds), math.floor(_MIRED_KELVIN / min_mireds)


def kelvin_to_mireds(kelvin: float, lo: float, hi: float) -> int:
    return int(min(max(round(_MIRED_KELVIN / kelvin), lo), hi))


def mireds_to_kelvin(mireds: float) -> int:
    return round(_MIRED_KELVIN / mireds) if mireds > 0 else 0


_COLOR_RGB: dict[str, tuple[int, int, int]] = {
    "white": (255, 255, 255),
    "warm_white": (255, 197, 143),
    "red": (255, 0, 0),
    "orange": (255, 165, 0),
    "yellow": (255, 255, 0),
    "green": (0, 255, 0),
    "cyan": (0, 255, 255),
    "blue": (0, 0, 255),
    "purple": (128, 0, 128),
    "pink": (255, 192, 203),
}
"""RGB of every colour in :data:`edgeward.runtime.services.COLOR_NAMES`."""


def color_rgb(name: str) -> tuple[int, int, int]:
    try:
        return _COLOR_RGB[name]
    except KeyError:
        raise PayloadError(f"unknown colour {name!r}") from None


def rgb_to_hs(rgb: tuple[int, int, int]) -> tuple[float, float]:
    h, s, _ = colorsys.rgb_to_hsv(*(c / 255 for c in rgb))
    return round(h * 360, 3), round(s * 100, 3)


def rgb_to_xy(rgb: tuple[int, int, int]) -> tuple[float, float]:
    """CIE 1931 xy of an sRGB colour (wide-gamut D65 conversion, as Hue and HA use)."""
    lin = [
        ((c / 255 + 0.055) / 1.055) ** 2.4 if c / 255 > 0.04045 else c / 255 / 12.92 for c in rgb
    ]
    r, g, b = lin
    x = r * 0.664511 + g * 0.154324 + b * 0.162028
    y = r * 0.283881 + g * 0.668433 + b * 0.047685
    z = r * 0.000088 + g * 0.072310 + b * 0.986039
    total = x + y + z
    if total == 0:
        return 0.0, 0.0
    return round(x / total, 4), round(y / total, 4)


def device_brightness(pct: int, scale: int) -> int:
    """Home Assistant's scaling of ``brightness_pct`` to a device's brightness scale (>= 1)."""
    ha = round(pct * 255 / 100)
    return max(min(round(ha / 255 * scale), scale), 1)


def brightness_pct(value: float, scale: float) -> int:
    return max(0, min(100, round(value / scale * 100))) if scale else 0


def _on_off(text: str, on: str, off: str) -> str | None:
    if text == on:
        return "on"
    if text == off:
        return "off"
    if text in ("", "None", "unknown"):
        return None
    raise PayloadError(f"state {text!r} is neither {on!r} nor {off!r}")


class _Light(HaEntity):
    default_name = "MQTT Light"

    def _color_temp_setup(self) -> tuple[int, int] | None:
        cfg = self.config
        if cfg.get("color_temp_kelvin"):
            lo, hi = cfg.get("min_kelvin", 2000), cfg.get("max_kelvin", 6535)
            if lo <= 0 or lo > hi:
                raise _Problem(f"min_kelvin {lo} and max_kelvin {hi} do not form a range")
            return lo, hi
        lo_m, hi_m = cfg.get("min_mireds", 153), cfg.get("max_mireds", 500)
        if lo_m <= 0 or lo_m > hi_m:
            raise _Problem(f"min_mireds {lo_m} is greater than max_mireds {hi_m}")
        self._mireds = (lo_m, hi_m)
        return kelvin_range_from_mireds(lo_m, hi_m)

    def _color_temp_value(self, kelvin: int) -> int:
        if self.config.get("color_temp_kelvin"):
            return kelvin
        return kelvin_to_mireds(kelvin, *self._mireds)

    def _kelvin_from_state(self, value: float) -> int:
        return round(value) if self.config.get("color_temp_kelvin") else mireds_to_kelvin(value)

    def _scale(self) -> int:
        scale = self.config.get("brightness_scale", 255)
        if scale < 1:
            raise _Problem(f"brightness_scale must be at least 1, got {scale}")
        return int(scale)


class HaLight(_Light):
    """A light with the default schema: one topic per attribute."""

    def _setup(self) -> None:
        cfg = self.config
        self.on, self.off = str(cfg.get("payload_on", "ON")), str(cfg.get("payload_off", "OFF"))
        self.scale = self._scale()
        kelvin = self._color_temp_setup() if cfg.get("color_temp_command_topic") else None
        self.color_topic = next(
            (
                k
                for k in ("rgb_command_topic", "hs_command_topic", "xy_command_topic")
                if cfg.get(k)
            ),
            None,
        )
        effects = cfg.get("effect_list", []) if cfg.get("effect_command_topic") else []
        self.services = svc.light_services(
            brightness=bool(cfg.get("brightness_command_topic")),
            color_temp_kelvin=kelvin,
            color=self.color_topic is not None,
            effects=effects,
        )
        self._on("state_topic", self._state)
        self._on("brightness_state_topic", self._brightness)
        self._on("color_temp_state_topic", self._color_temp)
        self._on(
            "effect_state_topic", lambda t: {"effect": self._value("effect_value_template", t)}
        )

    def _state(self, text: str) -> dict[str, Any]:
        return {"state": _on_off(self._value("state_value_template", text), self.on, self.off)}

    def _brightness(self, text: str) -> dict[str, Any]:
        value = _number(self._value("brightness_value_template", text), "brightness")
        return {"brightness_pct": brightness_pct(value, self.scale)}

    def _color_temp(self, text: str) -> dict[str, Any]:
        value = _number(self._value("color_temp_value_template", text), "color_temp")
        return {"color_temp_kelvin": self._kelvin_from_state(value)}

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        cfg = self.config
        if service == "turn_off" or (service == "turn_on" and args.get("brightness_pct") == 0):
            return [self._pub("command_topic", self.off)]
        if service == "toggle":
            raise _toggle_error(self.discovery_id)
        out: list[Publish] = []
        mode = cfg.get("on_command_type", "last")
        if mode == "first":
            out.append(self._pub("command_topic", self.on))
        if "brightness_pct" in args:
            value = device_brightness(args["brightness_pct"], self.scale)
            out.append(self._pub("brightness_command_topic", value, "brightness_command_template"))
        if "color_temp_kelvin" in args:
            value = self._color_temp_value(args["color_temp_kelvin"])
            out.append(self._pub("color_temp_command_topic", value, "color_temp_command_template"))
        if "color_name" in args and self.color_topic:
            out.append(self._color(args["color_name"]))
        if "effect" in args:
            out.append(self._pub("effect_command_topic", args["effect"], "effect_command_template"))
        if mode == "last" or (mode == "brightness" and "brightness_pct" not in args):
            out.append(self._pub("command_topic", self.on))
        return out

    def _color(self, name: str) -> Publish:
        rgb = color_rgb(name)
        if self.color_topic == "rgb_command_topic":
            template = self.config.get("rgb_command_template")
            if template:
                text = _Template(template).render(red=rgb[0], green=rgb[1], blue=rgb[2])
                return (self.config["rgb_command_topic"], text.encode(), self.qos, self.retain)
            return self._pub("rgb_command_topic", ",".join(map(str, rgb)))
        if self.color_topic == "hs_command_topic":
            return self._pub("hs_command_topic", "{:g},{:g}".format(*rgb_to_hs(rgb)))
        return self._pub("xy_command_topic", "{:g},{:g}".format(*rgb_to_xy(rgb)))


class HaJsonLight(_Light):
    """A light with ``schema: json``: one JSON command and one JSON state."""

    def _setup(self) -> None:
        cfg = self.config
        modes = cfg.get("supported_color_modes")
        if modes is not None:
            unknown = [m for m in modes if m not in _COLOR_MODES]
            if unknown:
                raise _Problem(
                    f"supported_color_modes has unknown mode {unknown[0]!r} "
                    f"(known: {', '.join(sorted(_COLOR_MODES))})"
                )
            exclusive = {"onoff", "brightness"} & set(modes)
            if exclusive and len(set(modes)) > 1:
                raise _Problem(
                    f"supported_color_modes: {sorted(exclusive)[0]} cannot be combined with "
                    "other modes"
                )
        self.modes: set[str] = set(modes or ())
        self.scale = self._scale()
        brightness = bool(cfg.get("brightness")) or bool(self.modes - {"onoff"})
        kelvin = self._color_temp_setup() if "color_temp" in self.modes else None
        self.color_mode = next(
            (m for m in ("rgb", "rgbw", "rgbww", "hs", "xy") if m in self.modes), None
        )
        effects = cfg.get("effect_list", []) if cfg.get("effect") else []
        if cfg.get("effect") and not effects:
            raise _Problem("effect is true but effect_list is missing or empty")
        self.services = svc.light_services(
            brightness=brightness,
            color_temp_kelvin=kelvin,
            color=self.color_mode is not None,
            effects=effects,
        )
        self._on("state_topic", self._state)

    def _state(self, text: str) -> dict[str, Any]:
        try:
            data = json.loads(text)
        except ValueError:
            raise PayloadError(f"json light state is not JSON: {text[:60]!r}") from None
        if not isinstance(data, dict):
            raise PayloadError(f"json light state must be an object, got {_show(data)}")
        out: dict[str, Any] = {}
        if "state" in data:
            out["state"] = _on_off(str(data["state"]), "ON", "OFF")
        brightness = finite_number(data.get("brightness"))
        if brightness is not None:
            out["brightness_pct"] = brightness_pct(brightness, self.scale)
        color_temp = finite_number(data.get("color_temp"))
        if color_temp is not None and color_temp > 0:
            out["color_temp_kelvin"] = self._kelvin_from_state(color_temp)
        if isinstance(data.get("color"), dict):
            out["color"] = data["color"]
        if isinstance(data.get("color_mode"), str):
            out["color_mode"] = data["color_mode"]
        if isinstance(data.get("effect"), str):
            out["effect"] = data["effect"]
        return out

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        if service == "turn_off" or (service == "turn_on" and args.get("brightness_pct") == 0):
            return [self._json({"state": "OFF"})]
        if service == "toggle":
            raise _toggle_error(self.discovery_id)
        body: dict[str, Any] = {"state": "ON"}
        if "brightness_pct" in args:
            body["brightness"] = device_brightness(args["brightness_pct"], self.scale)
        if "color_temp_kelvin" in args:
            body["color_temp"] = self._color_temp_value(args["color_temp_kelvin"])
        if "color_name" in args:
            rgb = color_rgb(args["color_name"])
            if self.color_mode in ("hs",):
                h, s = rgb_to_hs(rgb)
                body["color"] = {"h": h, "s": s}
            elif self.color_mode == "xy":
                x, y = rgb_to_xy(rgb)
                body["color"] = {"x": x, "y": y}
            else:
                body["color"] = {"r": rgb[0], "g": rgb[1], "b": rgb[2]}
                if self.color_mode == "rgbw":
                    body["color"]["w"] = 0
                elif self.color_mode == "rgbww":
                    body["color"].update(c=0, w=0)
        if "effect" in args:
            body["effect"] = args["effect"]
        return [self._json(body)]

    def _json(self, body: dict[str, Any]) -> Publish:
        return (self.config["command_topic"], json.dumps(body).encode(), self.qos, self.retain)


class HaSwitch(HaEntity):
    default_name = "MQTT Switch"

    def _setup(self) -> None:
        cfg = self.config
        self.on, self.off = str(cfg.get("payload_on", "ON")), str(cfg.get("payload_off", "OFF"))
        self.state_on = str(cfg.get("state_on", self.on))
        self.state_off = str(cfg.get("state_off", self.off))
        self.services = svc.switch_services() if cfg.get("command_topic") else {}
        self._on("state_topic", self._state)

    def _state(self, text: str) -> dict[str, Any]:
        return {
            "state": _on_off(self._value("value_template", text), self.state_on, self.state_off)
        }

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        if service == "toggle":
            raise _toggle_error(self.discovery_id)
        value = self.on if service == "turn_on" else self.off
        return [self._pub("command_topic", value, "command_template")]


class HaFan(HaEntity):
    default_name = "MQTT Fan"

    def _setup(self) -> None:
        cfg = self.config
        self.on, self.off = str(cfg.get("payload_on", "ON")), str(cfg.get("payload_off", "OFF"))
        self.lo, self.hi = cfg.get("speed_range_min", 1), cfg.get("speed_range_max", 100)
        if self.lo < 1 or self.lo > self.hi:
            raise _Problem(
                f"speed_range_min {self.lo} and speed_range_max {self.hi} do not form a range "
                "(min must be at least 1 and not above max)"
            )
        presets = cfg.get("preset_modes", []) if cfg.get("preset_mode_command_topic") else []
        self.services = svc.fan_services(
            percentage=bool(cfg.get("percentage_command_topic")),
            preset_modes=presets,
            oscillate=bool(cfg.get("oscillation_command_topic")),
        )
        self._on("state_topic", self._state)
        self._on("percentage_state_topic", self._percentage)
        self._on(
            "preset_mode_state_topic",
            lambda t: {"preset_mode": self._value("preset_mode_value_template", t)},
        )

    def _state(self, text: str) -> dict[str, Any]:
        return {"state": _on_off(self._value("state_value_template", text), self.on, self.off)}

    def _percentage(self, text: str) -> dict[str, Any]:
        speed = _number(self._value("percentage_value_template", text), "fan speed")
        pct = 0 if speed < self.lo else int((speed - self.lo + 1) * 100 // (self.hi - self.lo + 1))
        return {"percentage": max(0, min(100, pct))}

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        cfg = self.config
        if service == "turn_on":
            return [self._pub("command_topic", self.on, "command_template")]
        if service == "turn_off":
            return [self._pub("command_topic", self.off, "command_template")]
        if service == "set_percentage":
            pct = args["percentage"]
            # Home Assistant: ceil(percentage_to_ranged_value((min, max), pct))
            speed = math.ceil((self.lo - 1) + pct * (self.hi - self.lo + 1) / 100)
            return [self._pub("percentage_command_topic", speed, "percentage_command_template")]
        if service == "set_preset_mode":
            return [
                self._pub(
                    "preset_mode_command_topic", args["preset_mode"], "preset_mode_command_template"
                )
            ]
        if service == "oscillate":
            key = "payload_oscillation_on" if args["oscillating"] else "payload_oscillation_off"
            default = "oscillate_on" if args["oscillating"] else "oscillate_off"
            return [
                self._pub(
                    "oscillation_command_topic",
                    str(cfg.get(key, default)),
                    "oscillation_command_template",
                )
            ]
        raise _toggle_error(self.discovery_id)


def _scale_percent(pct: float, closed: int, opened: int) -> int:
    return round(closed + (opened - closed) * pct / 100)


def _percent_of(value: float, closed: int, opened: int) -> int:
    if opened == closed:
        return 0
    return max(0, min(100, round((value - closed) * 100 / (opened - closed))))


class HaCover(HaEntity):
    default_name = "MQTT Cover"

    def _setup(self) -> None:
        cfg = self.config
        self.closed, self.opened = cfg.get("position_closed", 0), cfg.get("position_open", 100)
        if self.closed == self.opened:
            raise _Problem(f"position_open and position_closed are both {self.opened}")
        self.tilt_closed = cfg.get("tilt_closed_value", 0)
        self.tilt_opened = cfg.get("tilt_opened_value", 100)
        has_cmd = bool(cfg.get("command_topic"))
        position = bool(cfg.get("set_position_topic"))
        if has_cmd or position:
            self.services = svc.cover_services(
                position=position,
                tilt=bool(cfg.get("tilt_command_topic")),
                stop=has_cmd and cfg.get("payload_stop", "STOP") is not None,
            )
        self.states = {
            str(cfg.get("state_open", "open")): "open",
            str(cfg.get("state_closed", "closed")): "closed",
            str(cfg.get("state_opening", "opening")): "opening",
            str(cfg.get("state_closing", "closing")): "closing",
            str(cfg.get("state_stopped", "stopped")): "stopped",
        }
        self._on("state_topic", self._state)
        self._on("position_topic", self._position)
        self._on("tilt_status_topic", self._tilt)

    def _state(self, text: str) -> dict[str, Any]:
        value = self._value("value_template", text)
        if value in self.states:
            return {"state": self.states[value]}
        if value in ("", "None"):
            return {"state": None}
        raise PayloadError(f"cover state {value!r} is not one of {', '.join(self.states)}")

    def _position(self, text: str) -> dict[str, Any]:
        value = _number(self._value("position_template", text), "cover position")
        pct = _percent_of(value, self.closed, self.opened)
        out: dict[str, Any] = {"current_position": pct}
        if not self.config.get("state_topic"):
            out["state"] = "closed" if pct == 0 else "open"
        return out

    def _tilt(self, text: str) -> dict[str, Any]:
        value = _number(self._value("tilt_status_template", text), "tilt position")
        return {"current_tilt_position": _percent_of(value, self.tilt_closed, self.tilt_opened)}

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        cfg = self.config
        if service in ("open", "close", "stop") and cfg.get("command_topic"):
            key, default = {
                "open": ("payload_open", "OPEN"),
                "close": ("payload_close", "CLOSE"),
                "stop": ("payload_stop", "STOP"),
            }[service]
            payload = cfg.get(key, default)
            if payload is not None:
                return [self._pub("command_topic", payload, "command_template")]
        if service in ("open", "close") and cfg.get("set_position_topic"):
            return self._encode("set_position", {"position": 100 if service == "open" else 0})
        if service == "set_position":
            value = _scale_percent(args["position"], self.closed, self.opened)
            return [self._pub("set_position_topic", value, "set_position_template")]
        if service == "set_tilt":
            value = _scale_percent(args["tilt"], self.tilt_closed, self.tilt_opened)
            return [self._pub("tilt_command_topic", value, "tilt_command_template")]
        raise PayloadError(f"{self.discovery_id} cannot {service} (no payload for it)")


class HaValve(HaEntity):
    default_name = "MQTT Valve"

    def _setup(self) -> None:
        cfg = self.config
        self.closed, self.opened = cfg.get("position_closed", 0), cfg.get("position_open", 100)
        if self.closed == self.opened:
            raise _Problem(f"position_open and position_closed are both {self.opened}")
        self.reports_position = bool(cfg.get("reports_position", False))
        if cfg.get("command_topic"):
            self.services = svc.valve_services(position=self.reports_position)
        self.states = {
            str(cfg.get("state_open", "open")): "open",
            str(cfg.get("state_closed", "closed")): "closed",
            str(cfg.get("state_opening", "opening")): "opening",
            str(cfg.get("state_closing", "closing")): "closing",
        }
        self._on("state_topic", self._state)

    def _state(self, text: str) -> dict[str, Any]:
        value = self._value("value_template", text)
        if value in self.states:
            return {"state": self.states[value]}
        if self.reports_position:
            pct = _percent_of(_number(value, "valve position"), self.closed, self.opened)
            return {"state": "closed" if pct == 0 else "open", "current_position": pct}
        raise PayloadError(f"valve state {value!r} is not one of {', '.join(self.states)}")

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        cfg = self.config
        if service == "set_position":
            value = _scale_percent(args["position"], self.closed, self.opened)
            return [self._pub("command_topic", value, "command_template")]
        key, default = ("payload_open", "OPEN") if service == "open" else ("payload_close", "CLOSE")
        if self.reports_position and key not in cfg:
            value = self.opened if service == "open" else self.closed
            return [self._pub("command_topic", value, "command_template")]
        return [self._pub("command_topic", cfg.get(key, default), "command_template")]


class HaLock(HaEntity):
    default_name = "MQTT Lock"

    def _setup(self) -> None:
        cfg = self.config
        self.services = svc.lock_services(can_open=cfg.get("payload_open") is not None)
        self.states = {
            str(cfg.get("state_locked", "LOCKED")): "locked",
            str(cfg.get("state_unlocked", "UNLOCKED")): "unlocked",
            str(cfg.get("state_locking", "LOCKING")): "locking",
            str(cfg.get("state_unlocking", "UNLOCKING")): "unlocking",
            str(cfg.get("state_jammed", "JAMMED")): "jammed",
            str(cfg.get("state_open", "OPEN")): "open",
            str(cfg.get("state_opening", "OPENING")): "opening",
        }
        self._on("state_topic", self._state)

    def _state(self, text: str) -> dict[str, Any]:
        value = self._value("value_template", text)
        if value in self.states:
            return {"state": self.states[value]}
        raise PayloadError(f"lock state {value!r} is not one of {', '.join(self.states)}")

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        key, default = {
            "lock": ("payload_lock", "LOCK"),
            "unlock": ("payload_unlock", "UNLOCK"),
            "open": ("payload_open", "OPEN"),
        }[service]
        return [self._pub("command_topic", self.config.get(key, default), "command_template")]


_DEFAULT_HVAC_MODES = ["auto", "off", "cool", "heat", "dry", "fan_only"]


class HaClimate(HaEntity):
    default_name = "MQTT HVAC"

    def _setup(self) -> None:
        cfg = self.config
        fahrenheit = cfg.get("temperature_unit") == "F"
        lo = cfg.get("min_temp", 44.6 if fahrenheit else 7.0)
        hi = cfg.get("max_temp", 95.0 if fahrenheit else 35.0)
        if lo > hi:
            raise _Problem(f"min_temp {lo} is greater than max_temp {hi}")
        self.modes: list[str] = cfg.get("modes", _DEFAULT_HVAC_MODES)
        services = svc.climate_services(
            min_temp=lo,
            max_temp=hi,
            hvac_modes=self.modes if cfg.get("mode_command_topic") else (),
            fan_modes=cfg.get("fan_modes", ["auto", "low", "medium", "high"])
            if cfg.get("fan_mode_command_topic")
            else (),
            preset_modes=cfg.get("preset_modes", [])
            if cfg.get("preset_mode_command_topic")
            else (),
        )
        if not cfg.get("temperature_command_topic"):
            services.pop("set_temperature")
        if cfg.get("power_command_topic"):
            services["turn_on"], services["turn_off"] = {}, {}
        self.services = services
        self._on("temperature_state_topic", lambda t: self._num("temperature", t))
        self._on("current_temperature_topic", lambda t: self._num("current_temperature", t))
        self._on("current_humidity_topic", lambda t: self._num("current_humidity", t))
        self._on("mode_state_topic", self._mode)
        self._on(
            "fan_mode_state_topic",
            lambda t: {"fan_mode": self._value("fan_mode_state_template", t)},
        )
        self._on(
            "preset_mode_state_topic",
            lambda t: {"preset_mode": self._value("preset_mode_value_template", t)},
        )

    def _num(self, attribute: str, text: str) -> dict[str, Any]:
        template = {
            "temperature": "temperature_state_template",
            "current_temperature": "current_temperature_template",
            "current_humidity": "current_humidity_template",
        }[attribute]
        value = self._value(template, text)
        if value in ("", "None"):
            return {attribute: None}
        return {attribute: _number(value, attribute.replace("_", " "))}

    def _mode(self, text: str) -> dict[str, Any]:
        mode = self._value("mode_state_template", text)
        if mode not in self.modes:
            raise PayloadError(f"hvac mode {mode!r} is not one of {', '.join(self.modes)}")
        return {"state": mode, "hvac_mode": mode}

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        cfg = self.config
        if service == "set_temperature":
            value = args["temperature"]
            return [self._pub("temperature_command_topic", value, "temperature_command_template")]
        if service == "set_hvac_mode":
            return [self._pub("mode_command_topic", args["hvac_mode"], "mode_command_template")]
        if service == "set_fan_mode":
            return [
                self._pub("fan_mode_command_topic", args["fan_mode"], "fan_mode_command_template")
            ]
        if service == "set_preset_mode":
            return [
                self._pub(
                    "preset_mode_command_topic", args["preset_mode"], "preset_mode_command_template"
                )
            ]
        if cfg.get("power_command_topic"):
            payload = (
                cfg.get("payload_on", "ON")
                if service == "turn_on"
                else cfg.get("payload_off", "OFF")
            )
            return [self._pub("power_command_topic", payload, "power_command_template")]
        if service == "turn_off":
            return [self._pub("mode_command_topic", "off", "mode_command_template")]
        on_mode = next(
            (m for m in ("heat_cool", "heat", "cool", "auto") if m in self.modes),
            next(m for m in self.modes if m != "off"),
        )
        return [self._pub("mode_command_topic", on_mode, "mode_command_template")]


class HaSensor(HaEntity):
    default_name = "MQTT Sensor"

    def _setup(self) -> None:
        self.services = svc.sensor_services()
        self.unit = self.config.get("unit_of_measurement")
        self._on("state_topic", self._state)

    def _state(self, text: str) -> dict[str, Any]:
        value = self._value("value_template", text)
        out: dict[str, Any] = {"state": value if value not in ("", "None") else None}
        if self.unit:
            out["unit_of_measurement"] = self.unit
        return out


class HaBinarySensor(HaEntity):
    default_name = "MQTT Binary sensor"

    def _setup(self) -> None:
        self.services = svc.sensor_services()
        self.on = str(self.config.get("payload_on", "ON"))
        self.off = str(self.config.get("payload_off", "OFF"))
        self._on("state_topic", self._state)

    def _state(self, text: str) -> dict[str, Any]:
        return {"state": _on_off(self._value("value_template", text), self.on, self.off)}


class HaScene(HaEntity):
    default_name = "MQTT Scene"

    def _setup(self) -> None:
        self.services = svc.scene_services() if self.config.get("command_topic") else {}

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        return [self._pub("command_topic", self.config.get("payload_on", "ON"))]


class HaButton(HaEntity):
    default_name = "MQTT Button"

    def _setup(self) -> None:
        self.services = svc.button_services()

    def _encode(self, service: str, args: Mapping[str, Any]) -> list[Publish]:
        payload = self.config.get("payload_press", "PRESS")
        return [self._pub("command_topic", payload, "command_template")]


_CLASSES: dict[str, type[HaEntity]] = {
    "light": HaLight,
    "light_json": HaJsonLight,
    "switch": HaSwitch,
    "fan": HaFan,
    "cover": HaCover,
    "valve": HaValve,
    "lock": HaLock,
    "climate": HaClimate,
    "sensor": HaSensor,
    "binary_sensor": HaBinarySensor,
    "scene": HaScene,
    "button": HaButton,
}


def subscriptions(prefix: str = DEFAULT_PREFIX) -> list[str]:
    """Topic filters that receive every discovery config under ``prefix``."""
    head = prefix.rstrip("/")
    return [f"{head}/+/+/config", f"{head}/+/+/+/config"]
