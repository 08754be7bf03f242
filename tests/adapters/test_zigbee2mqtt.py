"""Zigbee2MQTT: bridge/devices exposes with access bits, state, /set payloads, /get, removal."""

from __future__ import annotations

import json
from typing import Any

import pytest

from edgeward.adapters import zigbee2mqtt as z2m
from edgeward.adapters.devices import Change, DeviceRegistry, EntityState
from edgeward.runtime.catalog import Area, CallError


def state_of(reg: DeviceRegistry, entity_id: str) -> EntityState:
    state = reg.state(entity_id)
    assert state is not None, f"{entity_id} is unknown"
    return state


def binary(
    name: str, access: int, on: Any = True, off: Any = False, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "binary",
        "name": name,
        "property": extra.pop("property", name),
        "access": access,
        "value_on": on,
        "value_off": off,
        **extra,
    }


def numeric(
    name: str, access: int, lo: float | None = None, hi: float | None = None, **extra: Any
) -> dict[str, Any]:
    out = {
        "type": "numeric",
        "name": name,
        "property": extra.pop("property", name),
        "access": access,
        **extra,
    }
    if lo is not None:
        out["value_min"] = lo
    if hi is not None:
        out["value_max"] = hi
    return out


def enum(name: str, access: int, values: list[str]) -> dict[str, Any]:
    return {"type": "enum", "name": name, "property": name, "access": access, "values": values}


def device(ieee: str, friendly: str, exposes: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "ieee_address": ieee,
        "type": "Router",
        "friendly_name": friendly,
        "interview_completed": True,
        "supported": True,
        "disabled": False,
        "definition": {"model": "M", "vendor": "V", "description": "d", "exposes": exposes},
        **extra,
    }


HUE = device(
    "0x0017880100000001",
    "living_room/Floor Lamp",
    [
        {
            "type": "light",
            "features": [
                binary("state", 7, "ON", "OFF", value_toggle="TOGGLE"),
                numeric("brightness", 7, 0, 254),
                numeric("color_temp", 7, 153, 454, unit="mired"),
                {
                    "type": "composite",
                    "name": "color_xy",
                    "property": "color",
                    "access": 7,
                    "features": [numeric("x", 7), numeric("y", 7)],
                },
            ],
        },
        enum("effect", 2, ["blink", "breathe", "okay"]),
        numeric("linkquality", 1, 0, 255, unit="lqi"),
    ],
)

READ_ONLY_LIGHT = device(
    "0x0017880100000002",
    "Porch Light",
    [
        {
            "type": "light",
            "features": [
                binary("state", 7, "ON", "OFF"),
                numeric("brightness", 5, 0, 254),  # published and gettable, NOT settable
                numeric("color_temp", 1, 150, 500),  # published only
            ],
        }
    ],
)

LOCK = device(
    "0x000d6f0000000003",
    "kitchen/Back Door Lock",
    [
        {
            "type": "lock",
            "features": [
                binary("state", 7, "LOCK", "UNLOCK"),
                enum("lock_state", 1, ["not_fully_locked", "locked", "unlocked"]),
            ],
        },
        numeric("battery", 5, 0, 100, unit="%"),
    ],
)

BLINDS = device(
    "0x000d6f0000000004",
    "bedroom/Blinds",
    [
        {
            "type": "cover",
            "features": [
                enum("state", 3, ["OPEN", "CLOSE", "STOP"]),
                numeric("position", 7, 0, 100, unit="%"),
                numeric("tilt", 1, 0, 100, unit="%"),  # reported, cannot be set
            ],
        }
    ],
)

TRV = device(
    "0x000d6f0000000005",
    "bedroom/Radiator",
    [
        {
            "type": "climate",
            "features": [
                numeric("occupied_heating_setpoint", 7, 5, 30, unit="°C", value_step=0.5),
                numeric("local_temperature", 5, unit="°C"),
                enum("system_mode", 7, ["off", "heat", "auto"]),
                enum("running_state", 5, ["idle", "heat"]),
                enum("preset", 7, ["comfort", "eco"]),
            ],
        },
        binary("child_lock", 7, "LOCK", "UNLOCK"),
        numeric("occupancy_timeout", 2, 0, 3600),  # write-only setting: no entity
    ],
)

SENSOR = device(
    "0x00158d0000000006",
    "hallway/Front Door Sensor",
    [binary("contact", 1), binary("battery_low", 1), numeric("battery", 5, 0, 100, unit="%")],
    type="EndDevice",
)

DOUBLE_SWITCH = device(
    "0x00158d0000000007",
    "Stairs Switch",
    [
        {
            "type": "switch",
            "endpoint": "l1",
            "features": [binary("state", 7, "ON", "OFF", property="state_l1", endpoint="l1")],
        },
        {
            "type": "switch",
            "endpoint": "l2",
            "features": [binary("state", 7, "ON", "OFF", property="state_l2", endpoint="l2")],
        },
        numeric("power", 5, unit="W"),
    ],
)

FAN = device(
    "0x00158d0000000008",
    "office/Fan",
    [
        {
            "type": "fan",
            "features": [
                binary("state", 7, "ON", "OFF", property="fan_state"),
                enum("mode", 7, ["off", "low", "medium", "high", "on", "auto"])
                | {"property": "fan_mode"},
            ],
        }
    ],
)

COORDINATOR = {
    "ieee_address": "0x00124b0000000000",
    "type": "Coordinator",
    "friendly_name": "Coordinator",
    "interview_completed": True,
    "definition": None,
}

ALL = [COORDINATOR, HUE, READ_ONLY_LIGHT, LOCK, BLINDS, TRV, SENSOR, DOUBLE_SWITCH, FAN]
AREAS = [Area("Living room", "Ground floor"), Area("Bedroom", "First floor", ("sleeping room",))]


def registry(devices: list[dict[str, Any]] = ALL) -> DeviceRegistry:
    reg = DeviceRegistry(areas=AREAS)
    change = reg.handle("zigbee2mqtt/bridge/devices", json.dumps(devices).encode())
    assert change.problems == []
    return reg


def call(reg: DeviceRegistry, tool: str, **args: Any) -> list[tuple[str, Any]]:
    valid = reg.catalog().validate(tool, args)
    return [(c.topic, json.loads(c.payload)) for c in reg.commands(valid)]


def test_entities_names_areas_and_floors() -> None:
    cat = registry().catalog()
    assert sorted(cat.entities) == [
        "binary_sensor.front_door_sensor_battery_low",
        "binary_sensor.front_door_sensor_contact",
        "climate.radiator",
        "cover.blinds",
        "fan.fan",
        "light.floor_lamp",
        "light.porch_light",
        "lock.back_door_lock",
        "sensor.back_door_lock_battery",
        "sensor.front_door_sensor_battery",
        "sensor.stairs_switch_power",
        "switch.radiator_child_lock",
        "switch.stairs_switch_l1",
        "switch.stairs_switch_l2",
    ]
    lamp = cat.entities["light.floor_lamp"]
    assert (lamp.name, lamp.area, lamp.floor) == ("Floor Lamp", "Living room", "Ground floor")
    assert cat.entities["climate.radiator"].floor == "First floor"
    assert cat.entities["lock.back_door_lock"].area == "kitchen"  # not configured: as announced
    assert cat.entities["light.porch_light"].area is None
    assert cat.entities["binary_sensor.front_door_sensor_contact"].device_class == "door"
    assert cat.entities["sensor.back_door_lock_battery"].device_class == "battery"


def test_access_bits_decide_what_is_settable() -> None:
    cat = registry().catalog()
    porch = cat.entities["light.porch_light"].services["turn_on"]
    assert "brightness_pct" not in porch and "color_temp_kelvin" not in porch
    with pytest.raises(CallError, match="unknown argument 'brightness_pct'"):
        cat.validate("light.turn_on", {"entity_id": "light.porch_light", "brightness_pct": 50})
    blinds = cat.entities["cover.blinds"].services
    assert "set_position" in blinds and "set_tilt" not in blinds and "stop" in blinds
    # occupancy_timeout (access 2: set only) is neither a sensor nor an argument
    assert not any("occupancy_timeout" in e for e in cat.entities)
    # settable binary -> switch; read-only binary -> binary_sensor
    assert set(cat.entities["switch.radiator_child_lock"].services) == {
        "turn_on",
        "turn_off",
        "toggle",
    }
    assert dict(cat.entities["binary_sensor.front_door_sensor_contact"].services) == {}


def test_light_ranges_and_exact_set_payloads() -> None:
    reg = registry()
    on = reg.catalog().entities["light.floor_lamp"].services["turn_on"]
    assert (on["color_temp_kelvin"].minimum, on["color_temp_kelvin"].maximum) == (2203, 6535)
    assert on["effect"].enum == ("blink", "breathe", "okay")
    assert call(reg, "light.turn_on", entity_id="light.floor_lamp", brightness_pct=80) == [
        ("zigbee2mqtt/living_room/Floor Lamp/set", {"state": "ON", "brightness": 203})
    ]
    assert call(reg, "light.turn_on", entity_id="light.floor_lamp", color_temp_kelvin=2700) == [
        ("zigbee2mqtt/living_room/Floor Lamp/set", {"state": "ON", "color_temp": 370})
    ]
    assert call(reg, "light.turn_on", entity_id="light.floor_lamp", color_name="blue") == [
        (
            "zigbee2mqtt/living_room/Floor Lamp/set",
            {"state": "ON", "color": {"x": 0.1355, "y": 0.0399}},
        )
    ]
    assert call(reg, "light.turn_on", entity_id="light.floor_lamp", effect="blink") == [
        ("zigbee2mqtt/living_room/Floor Lamp/set", {"state": "ON", "effect": "blink"})
    ]
    assert call(reg, "light.turn_off", entity_id="light.floor_lamp") == [
        ("zigbee2mqtt/living_room/Floor Lamp/set", {"state": "OFF"})
    ]
    assert call(reg, "light.toggle", entity_id="light.floor_lamp") == [
        ("zigbee2mqtt/living_room/Floor Lamp/set", {"state": "TOGGLE"})
    ]
    assert call(reg, "light.turn_on", entity_id="light.floor_lamp", brightness_pct=1) == [
        ("zigbee2mqtt/living_room/Floor Lamp/set", {"state": "ON", "brightness": 3})
    ]
    # the porch light has no value_toggle: toggle resolves from tracked state
    reg.handle("zigbee2mqtt/Porch Light", b'{"state": "ON", "brightness": 254}')
    assert call(reg, "light.toggle", entity_id="light.porch_light") == [
        ("zigbee2mqtt/Porch Light/set", {"state": "OFF"})
    ]


def test_lock_cover_climate_fan_and_switch_payloads() -> None:
    reg = registry()
    assert call(reg, "lock.lock", entity_id="lock.back_door_lock") == [
        ("zigbee2mqtt/kitchen/Back Door Lock/set", {"state": "LOCK"})
    ]
    assert call(reg, "lock.unlock", entity_id="lock.back_door_lock") == [
        ("zigbee2mqtt/kitchen/Back Door Lock/set", {"state": "UNLOCK"})
    ]
    assert call(reg, "cover.set_position", entity_id="cover.blinds", position=40) == [
        ("zigbee2mqtt/bedroom/Blinds/set", {"position": 40})
    ]
    assert call(reg, "cover.stop", entity_id="cover.blinds") == [
        ("zigbee2mqtt/bedroom/Blinds/set", {"state": "STOP"})
    ]
    assert call(reg, "climate.set_temperature", entity_id="climate.radiator", temperature=21) == [
        ("zigbee2mqtt/bedroom/Radiator/set", {"occupied_heating_setpoint": 21})
    ]
    assert call(reg, "climate.set_hvac_mode", entity_id="climate.radiator", hvac_mode="auto") == [
        ("zigbee2mqtt/bedroom/Radiator/set", {"system_mode": "auto"})
    ]
    assert call(reg, "climate.turn_off", entity_id="climate.radiator") == [
        ("zigbee2mqtt/bedroom/Radiator/set", {"system_mode": "off"})
    ]
    assert call(
        reg, "climate.set_preset_mode", entity_id="climate.radiator", preset_mode="eco"
    ) == [("zigbee2mqtt/bedroom/Radiator/set", {"preset": "eco"})]
    temp = reg.catalog().entities["climate.radiator"].services["set_temperature"]["temperature"]
    assert (temp.minimum, temp.maximum) == (5, 30)
    assert call(reg, "switch.turn_on", entity_id="switch.radiator_child_lock") == [
        ("zigbee2mqtt/bedroom/Radiator/set", {"child_lock": "LOCK"})
    ]
    assert call(reg, "switch.turn_on", entity_id="switch.stairs_switch_l2") == [
        ("zigbee2mqtt/Stairs Switch/set", {"state_l2": "ON"})
    ]
    assert call(reg, "fan.set_preset_mode", entity_id="fan.fan", preset_mode="high") == [
        ("zigbee2mqtt/office/Fan/set", {"fan_mode": "high"})
    ]
    assert call(reg, "fan.turn_on", entity_id="fan.fan") == [
        ("zigbee2mqtt/office/Fan/set", {"fan_state": "ON"})
    ]
    preset = reg.catalog().entities["fan.fan"].services["set_preset_mode"]["preset_mode"]
    assert preset.enum == ("low", "medium", "high", "auto")


def test_state_tracking_from_device_topic() -> None:
    reg = registry()
    assert "zigbee2mqtt/living_room/Floor Lamp" in reg.state_topics()
    change = reg.handle(
        "zigbee2mqtt/living_room/Floor Lamp",
        b'{"state":"ON","brightness":203,"color_temp":370,"color_mode":"color_temp","linkquality":80}',
    )
    assert change.state_changed == ["light.floor_lamp"]
    state = reg.state("light.floor_lamp")
    assert state is not None and state.state == "on" and state.available
    assert state.attributes == {
        "brightness_pct": 80,
        "color_temp_kelvin": 2703,
        "color_mode": "color_temp",
    }
    change = reg.handle(
        "zigbee2mqtt/kitchen/Back Door Lock",
        b'{"state":"UNLOCK","lock_state":"unlocked","battery":55}',
    )
    assert sorted(change.state_changed) == ["lock.back_door_lock", "sensor.back_door_lock_battery"]
    assert state_of(reg, "lock.back_door_lock").state == "unlocked"
    assert state_of(reg, "sensor.back_door_lock_battery").state == "55"
    # contact=true means the door is closed: the door binary_sensor is off
    reg.handle("zigbee2mqtt/hallway/Front Door Sensor", b'{"contact": true, "battery_low": false}')
    assert state_of(reg, "binary_sensor.front_door_sensor_contact").state == "off"
    reg.handle("zigbee2mqtt/hallway/Front Door Sensor", b'{"contact": false}')
    assert state_of(reg, "binary_sensor.front_door_sensor_contact").state == "on"
    reg.handle("zigbee2mqtt/bedroom/Blinds", b'{"position": 0, "tilt": 30}')
    blinds = reg.state("cover.blinds")
    assert blinds is not None and blinds.state == "closed"
    assert blinds.attributes == {"current_position": 0, "current_tilt_position": 30}
    reg.handle(
        "zigbee2mqtt/bedroom/Radiator",
        b'{"occupied_heating_setpoint": 21, "local_temperature": 19.5, '
        b'"system_mode": "heat", "running_state": "heat"}',
    )
    radiator = reg.state("climate.radiator")
    assert radiator is not None and radiator.state == "heat"
    assert (
        radiator.attributes["temperature"] == 21
        and radiator.attributes["current_temperature"] == 19.5
    )
    bad = reg.handle("zigbee2mqtt/bedroom/Blinds", b"not json")
    assert bad.problems == [
        "cover.blinds (zigbee2mqtt/bedroom/Blinds): zigbee2mqtt/bedroom/Blinds: state is not JSON"
    ]


def test_availability_of_device_and_bridge() -> None:
    reg = registry()
    assert state_of(reg, "lock.back_door_lock").available
    change = reg.handle("zigbee2mqtt/kitchen/Back Door Lock/availability", b'{"state":"offline"}')
    assert sorted(change.state_changed) == ["lock.back_door_lock", "sensor.back_door_lock_battery"]
    assert not state_of(reg, "lock.back_door_lock").available
    reg.handle("zigbee2mqtt/kitchen/Back Door Lock/availability", b"online")  # legacy plain payload
    assert state_of(reg, "lock.back_door_lock").available
    change = reg.handle("zigbee2mqtt/bridge/state", b'{"state":"offline"}')
    assert len(change.state_changed) == len(reg.catalog())
    assert not any(state_of(reg, e).available for e in reg.catalog().entities)


def test_bridge_state_seen_before_the_device_list_counts() -> None:
    reg = DeviceRegistry()
    assert reg.handle("zigbee2mqtt/bridge/state", b'{"state":"offline"}') == Change()
    reg.handle("zigbee2mqtt/bridge/devices", json.dumps([LOCK]).encode())
    assert not state_of(reg, "lock.back_door_lock").available
    reg.handle("zigbee2mqtt/bridge/state", b'{"state":"online"}')
    assert state_of(reg, "lock.back_door_lock").available


def test_refresh_uses_get_for_gettable_properties_only() -> None:
    reg = registry()
    [cmd] = reg.refresh("light.porch_light")
    assert cmd.topic == "zigbee2mqtt/Porch Light/get"
    assert json.loads(cmd.payload) == {"state": "", "brightness": ""}  # color_temp has no get bit
    assert reg.refresh("binary_sensor.front_door_sensor_contact") == []


def test_removed_devices_disappear_and_renames_keep_the_entity() -> None:
    reg = registry()
    without_lock = [d for d in ALL if d is not LOCK]
    change = reg.handle("zigbee2mqtt/bridge/devices", json.dumps(without_lock).encode())
    assert change.catalog_changed
    assert "lock.back_door_lock" not in reg.catalog().entities
    assert "zigbee2mqtt/kitchen/Back Door Lock" not in reg.state_topics()
    renamed = [
        d if d is not HUE else {**HUE, "friendly_name": "living_room/Reading Lamp"}
        for d in without_lock
    ]
    reg.handle("zigbee2mqtt/bridge/devices", json.dumps(renamed).encode())
    lamp = reg.catalog().entities["light.floor_lamp"]  # same ieee: the entity id stays
    assert lamp.name == "Reading Lamp"
    assert call(reg, "light.turn_off", entity_id="light.floor_lamp") == [
        ("zigbee2mqtt/living_room/Reading Lamp/set", {"state": "OFF"})
    ]
    # an unchanged list is no catalog change
    assert not reg.handle(
        "zigbee2mqtt/bridge/devices", json.dumps(renamed).encode()
    ).catalog_changed
    # an emptied retained list removes everything
    assert reg.handle("zigbee2mqtt/bridge/devices", b"").catalog_changed
    assert len(reg.catalog()) == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{oops", "zigbee2mqtt/bridge/devices: payload is not valid JSON"),
        (b'{"devices": []}', "payload must be a JSON list of devices"),
    ],
)
def test_unusable_device_list_keeps_the_previous_devices(payload: bytes, message: str) -> None:
    reg = registry()
    before = len(reg.catalog())
    change = reg.handle("zigbee2mqtt/bridge/devices", payload)
    assert message in change.problems[0]
    assert len(reg.catalog()) == before and not change.catalog_changed


def test_bad_devices_and_exposes_are_reported_and_good_ones_kept() -> None:
    bad_expose = device(
        "0x1",
        "Weird",
        [
            {
                "type": "light",
                "features": [binary("state", 7, "ON", "OFF"), numeric("brightness", 9, 0, 254)],
            },
            numeric("temperature", 1, 40, 10),
            enum("mode", 1, []),
            {
                "type": "light",
                "features": [binary("state", 7, "ON", "OFF"), numeric("color_temp", 7, 0, 500)],
            },
            {"name": "nameless"},
            binary("child_lock", 3, "LOCK", "UNLOCK"),
        ],
    )
    devices = [
        HUE,
        bad_expose,
        {"ieee_address": 5},
        "junk",
        {"ieee_address": "0x2", "friendly_name": "a/#"},
    ]
    reg = DeviceRegistry()
    change = reg.handle("zigbee2mqtt/bridge/devices", json.dumps(devices).encode())
    problems = "\n".join(change.problems)
    assert (
        "device 'Weird' expose 'light' expose 'brightness': access must be an integer 0..7"
        in problems
    )
    assert "expose 'temperature': value_min 40 is greater than value_max 10" in problems
    assert "expose 'mode': an enum needs values" in problems
    assert "expose 'color_temp': a colour temperature range in mired must be positive" in problems
    assert "device 'Weird': expose has no type" in problems
    assert "device #2: ieee_address must be a non-empty string" in problems
    assert "device #3: must be an object" in problems
    assert "friendly_name must be a topic-safe string, got 'a/#'" in problems
    # the good expose of the bad device and the good device still work
    assert "switch.weird_child_lock" in reg.catalog().entities
    assert "light.floor_lamp" in reg.catalog().entities


def test_unsupported_or_uninterviewed_devices_are_skipped() -> None:
    devices = [
        {**HUE, "interview_completed": False},
        {**LOCK, "supported": False},
        {**BLINDS, "disabled": True},
        {**TRV, "definition": None},
    ]
    reg = DeviceRegistry()
    change = reg.handle("zigbee2mqtt/bridge/devices", json.dumps(devices).encode())
    assert change.problems == [] and len(reg.catalog()) == 0


def test_parse_expose_directly() -> None:
    exp = z2m.parse_expose(numeric("brightness", 5, 0, 254), "here")
    assert exp.can(z2m.ACCESS_STATE) and exp.can(z2m.ACCESS_GET) and not exp.can(z2m.ACCESS_SET)
    with pytest.raises(z2m.Z2MError, match="here expose 'x': property must be a non-empty string"):
        z2m.parse_expose({"type": "numeric", "name": "x", "access": 1}, "here")
    with pytest.raises(z2m.Z2MError, match="value_min must be a finite number"):
        z2m.parse_expose(numeric("x", 1, "0", 5), "here")  # type: ignore[arg-type]


def test_custom_base_topic() -> None:
    reg = DeviceRegistry(z2m_base="z2m-garage")
    assert "z2m-garage/bridge/devices" in reg.subscriptions()
    reg.handle("z2m-garage/bridge/devices", json.dumps([LOCK]).encode())
    assert call(reg, "lock.lock", entity_id="lock.back_door_lock") == [
        ("z2m-garage/kitchen/Back Door Lock/set", {"state": "LOCK"})
    ]
    # the default base is not listened to
    assert not reg.handle("zigbee2mqtt/bridge/devices", json.dumps([HUE]).encode()).catalog_changed
