"""The services each Home Assistant style domain offers, shaped by what a device can do.

Device adapters call these with what a device announced (its brightness support, colour temperature
range, thermostat limits, ...), and the planner's training data generator calls them with what a
random home would have, so both describe a device the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from edgeward.runtime.catalog import ArgSpec

Services = dict[str, Mapping[str, ArgSpec]]

COLOR_NAMES: tuple[str, ...] = (
    "white", "warm_white", "red", "orange", "yellow", "green", "cyan", "blue", "purple", "pink",
)  # fmt: skip
"""Colours a light with RGB support accepts by name (the adapter maps each to RGB)."""

SENSOR_DOMAINS = frozenset({"sensor", "binary_sensor"})
"""Domains that are only read (``state.get``), never actuated."""


def _pct(description: str, *, required: bool = False) -> ArgSpec:
    return ArgSpec("integer", description, 0, 100, unit="%", required=required)


def light_services(
    *,
    brightness: bool = False,
    color_temp_kelvin: tuple[int, int] | None = None,
    color: bool = False,
    effects: Sequence[str] = (),
) -> Services:
    on: dict[str, ArgSpec] = {}
    if brightness:
        on["brightness_pct"] = _pct("brightness in percent")
    if color_temp_kelvin is not None:
        lo, hi = color_temp_kelvin
        on["color_temp_kelvin"] = ArgSpec("integer", "white colour temperature", lo, hi, unit="K")
    if color:
        on["color_name"] = ArgSpec("string", "colour by name", enum=COLOR_NAMES)
    if effects:
        on["effect"] = ArgSpec("string", "light effect", enum=tuple(effects))
    return {"turn_on": on, "turn_off": {}, "toggle": {}}


def switch_services() -> Services:
    return {"turn_on": {}, "turn_off": {}, "toggle": {}}


def fan_services(
    *, percentage: bool = False, preset_modes: Sequence[str] = (), oscillate: bool = False
) -> Services:
    out: Services = {"turn_on": {}, "turn_off": {}, "toggle": {}}
    if percentage:
        out["set_percentage"] = {"percentage": _pct("fan speed in percent", required=True)}
    if preset_modes:
        out["set_preset_mode"] = {
            "preset_mode": ArgSpec("string", "fan preset", enum=tuple(preset_modes), required=True)
        }
    if oscillate:
        out["oscillate"] = {"oscillating": ArgSpec("boolean", "swing on or off", required=True)}
    return out


def cover_services(*, position: bool = False, tilt: bool = False, stop: bool = True) -> Services:
    out: Services = {"open": {}, "close": {}}
    if stop:
        out["stop"] = {}
    if position:
        out["set_position"] = {"position": _pct("0 is closed, 100 is open", required=True)}
    if tilt:
        out["set_tilt"] = {"tilt": _pct("0 is closed, 100 is open", required=True)}
    return out


def valve_services(*, position: bool = False) -> Services:
    out: Services = {"open": {}, "close": {}}
    if position:
        out["set_position"] = {"position": _pct("0 is closed, 100 is open", required=True)}
    return out


def lock_services(*, can_open: bool = False) -> Services:
    out: Services = {"lock": {}, "unlock": {}}
    if can_open:
        out["open"] = {}
    return out


def climate_services(
    *,
    min_temp: float = 7.0,
    max_temp: float = 35.0,
    hvac_modes: Sequence[str] = (),
    fan_modes: Sequence[str] = (),
    preset_modes: Sequence[str] = (),
) -> Services:
    out: Services = {
        "set_temperature": {
            "temperature": ArgSpec(
                "number", "target temperature", min_temp, max_temp, unit="°C", required=True
            )
        }
    }
    if hvac_modes:
        out["set_hvac_mode"] = {
            "hvac_mode": ArgSpec("string", "operating mode", enum=tuple(hvac_modes), required=True)
        }
        if "off" in hvac_modes:
            out["turn_off"] = {}
            if len(hvac_modes) > 1:
                out["turn_on"] = {}
    if fan_modes:
        out["set_fan_mode"] = {
            "fan_mode": ArgSpec("string", "fan mode", enum=tuple(fan_modes), required=True)
        }
    if preset_modes:
        out["set_preset_mode"] = {
            "preset_mode": ArgSpec("string", "preset", enum=tuple(preset_modes), required=True)
        }
    return out


def scene_services() -> Services:
    return {"turn_on": {}}


def button_services() -> Services:
    return {"press": {}}


def sensor_services() -> Services:
    """Sensors offer no service: they are read with ``state.get``."""
    return {}
