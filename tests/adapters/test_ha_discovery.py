"""Home Assistant MQTT discovery: parsing every component, abbreviations, ``~``, per-device
``cmps``, removal, rejected configs, state decoding and the exact command payloads."""

from __future__ import annotations

import json
from typing import Any

import pytest

from edgeward.adapters import ha_discovery as ha
from edgeward.adapters.devices import ActuationError, DeviceRegistry, EntityState
from edgeward.runtime.catalog import CallError


def state_of(reg: DeviceRegistry, entity_id: str) -> EntityState:
    state = reg.state(entity_id)
    assert state is not None, f"{entity_id} is unknown"
    return state


def announce(reg: DeviceRegistry, topic: str, config: dict[str, Any] | bytes) -> list[str]:
    payload = config if isinstance(config, bytes) else json.dumps(config).encode()
    change = reg.handle(topic, payload)
    return change.problems


def call(reg: DeviceRegistry, tool: str, **args: Any) -> list[tuple[str, Any]]:
    valid = reg.catalog().validate(tool, args)
    out = []
    for cmd in reg.commands(valid):
        text = cmd.payload.decode()
        try:
            out.append((cmd.topic, json.loads(text) if text.startswith("{") else text))
        except ValueError:
            out.append((cmd.topic, text))
    return out


# -- topics, abbreviations, ~ -------------------------------------------------------------------


def test_parse_topic_with_and_without_node_id_and_device() -> None:
    assert ha.parse_topic("homeassistant", "homeassistant/light/kitchen/config") == (
        ha.DiscoveryTopic("light", None, "kitchen")
    )
    assert ha.parse_topic("homeassistant", "homeassistant/light/hub1/kitchen/config") == (
        ha.DiscoveryTopic("light", "hub1", "kitchen")
    )
    device = ha.parse_topic("homeassistant", "homeassistant/device/hub1/config")
    assert device is not None and device.is_device
    assert ha.parse_topic("homeassistant", "homeassistant/light/kitchen/state") is None
    assert ha.parse_topic("homeassistant", "other/light/kitchen/config") is None
    assert ha.parse_topic("homeassistant", "homeassistant/device/a/b/config") is None


def test_expand_abbreviations_device_origin_availability_and_tilde() -> None:
    config = ha.expand(
        {
            "~": "home/lamp",
            "cmd_t": "~/set",
            "stat_t": "~/state",
            "bri_cmd_t": "~/bri/set",
            "json_attr_t": "attrs/~",
            "uniq_id": "u1",
            "bri_scl": 100,
            "min_mirs": 153,
            "max_mirs": 500,
            "pos_t": "~/pos",
            "set_pos_t": "~/pos/set",
            "dev": {"ids": ["x"], "name": "Lamp", "sa": "Kitchen", "mf": "Acme", "mdl": "L1"},
            "o": {"name": "fw", "sw": "1.2", "url": "https://example.org"},
            "avty": [{"t": "~/status", "pl_avail": "up", "pl_not_avail": "down"}],
            "val_tpl": "{{ value }}",
        }
    )
    assert config["command_topic"] == "home/lamp/set"
    assert config["state_topic"] == "home/lamp/state"
    assert config["brightness_command_topic"] == "home/lamp/bri/set"
    assert config["json_attributes_topic"] == "attrs/home/lamp"  # ~ at the end
    assert config["position_topic"] == "home/lamp/pos"
    assert config["set_position_topic"] == "home/lamp/pos/set"
    assert config["brightness_scale"] == 100
    assert (config["min_mireds"], config["max_mireds"]) == (153, 500)
    assert config["unique_id"] == "u1"
    assert config["value_template"] == "{{ value }}"
    assert config["device"] == {
        "identifiers": ["x"],
        "name": "Lamp",
        "suggested_area": "Kitchen",
        "manufacturer": "Acme",
        "model": "L1",
    }
    assert config["origin"] == {
        "name": "fw",
        "sw_version": "1.2",
        "support_url": "https://example.org",
    }
    assert config["availability"] == [
        {"topic": "home/lamp/status", "payload_available": "up", "payload_not_available": "down"}
    ]
    assert "~" not in config


def test_abbreviation_table_expands_to_full_keys_only() -> None:
    for short, full in ha.ABBREVIATIONS.items():
        assert full not in ha.ABBREVIATIONS or ha.ABBREVIATIONS[full] == full, short
    assert ha.ABBREVIATIONS["min_k"] == "min_kelvin" and ha.ABBREVIATIONS["max_k"] == "max_kelvin"
    assert ha.ABBREVIATIONS["def_ent_id"] == "default_entity_id"


# -- lights ------------------------------------------------------------------------------------

KITCHEN = {
    "~": "home/kitchen/ceiling",
    "name": None,
    "uniq_id": "kitchen-ceiling",
    "cmd_t": "~/set",
    "stat_t": "~/state",
    "bri_cmd_t": "~/brightness/set",
    "bri_stat_t": "~/brightness",
    "bri_scl": 100,
    "clr_temp_cmd_t": "~/ct/set",
    "clr_temp_stat_t": "~/ct",
    "min_mirs": 153,
    "max_mirs": 454,
    "rgb_cmd_t": "~/rgb/set",
    "fx_cmd_t": "~/fx/set",
    "fx_list": ["rainbow", "candle"],
    "dev": {"ids": ["kc"], "name": "Kitchen Ceiling", "sa": "Kitchen"},
}


def test_default_schema_light_catalog_and_commands() -> None:
    reg = DeviceRegistry()
    assert announce(reg, "homeassistant/light/kitchen/config", KITCHEN) == []
    entity = reg.catalog().entities["light.kitchen_ceiling"]
    assert entity.name == "Kitchen Ceiling" and entity.area == "Kitchen"
    on = entity.services["turn_on"]
    assert (on["color_temp_kelvin"].minimum, on["color_temp_kelvin"].maximum) == (2203, 6535)
    assert on["effect"].enum == ("rainbow", "candle")
    assert "color_name" in on and "brightness_pct" in on
    # on_command_type "last": attributes first, then payload_on
    assert call(
        reg,
        "light.turn_on",
        entity_id="light.kitchen_ceiling",
        brightness_pct=80,
        color_temp_kelvin=2700,
        color_name="red",
        effect="candle",
    ) == [
        ("home/kitchen/ceiling/brightness/set", "80"),
        ("home/kitchen/ceiling/ct/set", "370"),
        ("home/kitchen/ceiling/rgb/set", "255,0,0"),
        ("home/kitchen/ceiling/fx/set", "candle"),
        ("home/kitchen/ceiling/set", "ON"),
    ]
    assert call(reg, "light.turn_off", entity_id="light.kitchen_ceiling") == [
        ("home/kitchen/ceiling/set", "OFF")
    ]
    # brightness_pct 0 means off, as in Home Assistant
    assert call(reg, "light.turn_on", entity_id="light.kitchen_ceiling", brightness_pct=0) == [
        ("home/kitchen/ceiling/set", "OFF")
    ]
    with pytest.raises(CallError, match=r"out of range 2203\.\.6535"):
        reg.catalog().validate(
            "light.turn_on", {"entity_id": "light.kitchen_ceiling", "color_temp_kelvin": 9000}
        )


def test_default_light_on_command_type_first_and_brightness_and_payloads() -> None:
    reg = DeviceRegistry()
    base = {
        "name": "Desk",
        "cmd_t": "d/set",
        "bri_cmd_t": "d/bri",
        "pl_on": "1",
        "pl_off": "0",
    }
    announce(reg, "homeassistant/light/desk/config", {**base, "on_cmd_type": "first"})
    assert call(reg, "light.turn_on", entity_id="light.desk", brightness_pct=50) == [
        ("d/set", "1"),
        ("d/bri", "128"),  # round(128/255*255), scale 255
    ]
    announce(reg, "homeassistant/light/desk/config", {**base, "on_cmd_type": "brightness"})
    assert call(reg, "light.turn_on", entity_id="light.desk", brightness_pct=1) == [("d/bri", "3")]
    assert call(reg, "light.turn_on", entity_id="light.desk") == [("d/set", "1")]
    assert call(reg, "light.turn_off", entity_id="light.desk") == [("d/set", "0")]


def test_default_light_kelvin_mode_hs_and_xy_and_templates() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/light/strip/config",
        {
            "name": "Strip",
            "cmd_t": "s/set",
            "clr_temp_cmd_t": "s/ct",
            "clr_temp_k": True,
            "min_k": 2700,
            "max_k": 6000,
            "hs_cmd_t": "s/hs",
            "bri_cmd_t": "s/bri",
            "bri_cmd_tpl": '{"level": {{ value }}}',
        },
    )
    spec = reg.catalog().entities["light.strip"].services["turn_on"]["color_temp_kelvin"]
    assert (spec.minimum, spec.maximum) == (2700, 6000)
    assert call(
        reg, "light.turn_on", entity_id="light.strip", color_temp_kelvin=3000, color_name="blue"
    ) == [("s/ct", "3000"), ("s/hs", "240,100"), ("s/set", "ON")]
    assert call(reg, "light.turn_on", entity_id="light.strip", brightness_pct=100)[0] == (
        "s/bri",
        {"level": 255},
    )
    announce(
        reg, "homeassistant/light/xy/config", {"name": "XY", "cmd_t": "x/set", "xy_cmd_t": "x/xy"}
    )
    assert call(reg, "light.turn_on", entity_id="light.xy", color_name="red")[0] == (
        "x/xy",
        "0.7006,0.2993",
    )


def test_default_light_state_tracking_with_templates() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/light/kitchen/config",
        {
            **KITCHEN,
            "stat_val_tpl": "{{ value_json.power }}",
            "bri_val_tpl": "{{ value_json.level }}",
        },
    )
    change = reg.handle("home/kitchen/ceiling/state", b'{"power": "ON"}')
    assert change.state_changed == ["light.kitchen_ceiling"]
    reg.handle("home/kitchen/ceiling/brightness", b'{"level": 40}')
    reg.handle("home/kitchen/ceiling/ct", b"370")
    state = reg.state("light.kitchen_ceiling")
    assert state is not None and state.state == "on"
    assert state.attributes == {"brightness_pct": 40, "color_temp_kelvin": 2703}
    # the same state again is no change
    assert reg.handle("home/kitchen/ceiling/state", b'{"power": "ON"}').state_changed == []
    bad = reg.handle("home/kitchen/ceiling/state", b'{"power": "MAYBE"}')
    assert bad.problems and "light.kitchen_ceiling" in bad.problems[0]
    assert "'MAYBE' is neither 'ON' nor 'OFF'" in bad.problems[0]


JSON_LAMP = {
    "schema": "json",
    "name": "Lamp",
    "unique_id": "lamp-1",
    "command_topic": "home/lamp/set",
    "state_topic": "home/lamp",
    "supported_color_modes": ["color_temp", "rgb"],
    "brightness_scale": 254,
    "effect": True,
    "effect_list": ["colorloop"],
    "device": {"identifiers": ["lamp"], "name": "Living Room", "suggested_area": "Living room"},
}


def test_json_schema_light_commands_and_state() -> None:
    reg = DeviceRegistry()
    assert announce(reg, "homeassistant/light/living/lamp/config", JSON_LAMP) == []
    entity = reg.catalog().entities["light.living_room_lamp"]
    assert entity.area == "Living room"
    assert set(entity.services["turn_on"]) == {
        "brightness_pct",
        "color_temp_kelvin",
        "color_name",
        "effect",
    }
    assert call(
        reg,
        "light.turn_on",
        entity_id="light.living_room_lamp",
        brightness_pct=80,
        color_temp_kelvin=2700,
    ) == [("home/lamp/set", {"state": "ON", "brightness": 203, "color_temp": 370})]
    assert call(reg, "light.turn_on", entity_id="light.living_room_lamp", color_name="green") == [
        ("home/lamp/set", {"state": "ON", "color": {"r": 0, "g": 255, "b": 0}})
    ]
    assert call(reg, "light.turn_off", entity_id="light.living_room_lamp") == [
        ("home/lamp/set", {"state": "OFF"})
    ]
    reg.handle(
        "home/lamp", b'{"state":"ON","brightness":127,"color_mode":"color_temp","color_temp":250}'
    )
    state = reg.state("light.living_room_lamp")
    assert state is not None and state.state == "on"
    assert state.attributes["brightness_pct"] == 50
    assert state.attributes["color_temp_kelvin"] == 4000


def test_json_light_hs_xy_and_brightness_only() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/light/hs/config",
        {"schema": "json", "name": "HS", "cmd_t": "hs/set", "sup_clrm": ["hs"]},
    )
    assert call(reg, "light.turn_on", entity_id="light.hs", color_name="red") == [
        ("hs/set", {"state": "ON", "color": {"h": 0.0, "s": 100.0}})
    ]
    announce(
        reg,
        "homeassistant/light/dim/config",
        {"schema": "json", "name": "Dim", "cmd_t": "dim/set", "sup_clrm": ["brightness"]},
    )
    on = reg.catalog().entities["light.dim"].services["turn_on"]
    assert set(on) == {"brightness_pct"}
    announce(
        reg,
        "homeassistant/light/plain/config",
        {"schema": "json", "name": "Plain", "cmd_t": "plain/set", "sup_clrm": ["onoff"]},
    )
    assert dict(reg.catalog().entities["light.plain"].services["turn_on"]) == {}


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            {"schema": "json", "name": "L", "state_topic": "l"},
            "command_topic (required for a json schema light) is missing",
        ),
        (
            {"schema": "json", "name": "L", "cmd_t": "l/set", "bri_cmd_t": "l/bri"},
            "brightness_command_topic belongs to the default light schema",
        ),
        (
            {"name": "L", "cmd_t": "l/set", "sup_clrm": ["rgb"]},
            "supported_color_modes belongs to the json light schema",
        ),
        (
            {
                "name": "L",
                "cmd_t": "l/set",
                "clr_temp_cmd_t": "l/ct",
                "min_mirs": 500,
                "max_mirs": 153,
            },
            "min_mireds 500 is greater than max_mireds 153",
        ),
        (
            {"name": "L", "cmd_t": "l/set", "bri_cmd_t": "l/b", "bri_scl": "100"},
            "brightness_scale has the wrong type",
        ),
        (
            {"name": "L", "cmd_t": "l/set", "bri_cmd_t": "l/b", "bri_scl": 0},
            "brightness_scale must be at least 1",
        ),
        ({"name": "L", "cmd_t": "l/+/set"}, "command_topic 'l/+/set' contains an MQTT wildcard"),
        ({"name": "L", "cmd_t": 5}, "command_topic has the wrong type"),
        (
            {"name": "L", "schema": "template", "cmd_t": "l"},
            'light schema "template" is not supported',
        ),
        (
            {"schema": "json", "name": "L", "cmd_t": "l", "sup_clrm": ["ultraviolet"]},
            "unknown mode 'ultraviolet'",
        ),
        (
            {"schema": "json", "name": "L", "cmd_t": "l", "sup_clrm": ["onoff", "rgb"]},
            "onoff cannot be combined",
        ),
        ({"schema": "json", "name": "L", "cmd_t": "l", "effect": True}, "effect_list is missing"),
        ({"name": "L", "cmd_t": "l", "qos": 3}, "qos 3 is not 0, 1 or 2"),
        (
            {"name": "L", "cmd_t": "l", "val_tpl": "{{ value_json.x "},
            "value_template is not a valid template",
        ),
        ({"name": "L", "cmd_t": "l", "dev": "kitchen"}, "device (dev) must be an object"),
        (
            {"name": "L", "cmd_t": "l", "avty": [{"pl_avail": "on"}]},
            "availability[0] needs a topic",
        ),
        (
            {"~": "x", "name": "L", "cmd_t": "~/s", "avty": True},
            "availability (avty) must be a list",
        ),
        (
            {"name": "L", "cmd_t": "l", "def_ent_id": "switch.l"},
            "default_entity_id 'switch.l' must look like light.<name>",
        ),
        ({"name": ["L"], "cmd_t": "l"}, "name has the wrong type"),
    ],
)
def test_invalid_or_lying_light_configs_are_rejected_with_topic_and_key(
    config: dict[str, Any], message: str
) -> None:
    reg = DeviceRegistry()
    problems = announce(reg, "homeassistant/light/bad/config", config)
    assert len(problems) == 1
    assert problems[0].startswith("homeassistant/light/bad/config: ")
    assert message in problems[0]
    assert len(reg.catalog()) == 0


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (b"{not json", "payload is not valid JSON"),
        (b"[1, 2]", "payload must be a JSON object"),
        (b"\xff\xfe", "payload is not valid JSON"),
        (b'"light"', "payload must be a JSON object"),
    ],
)
def test_malformed_discovery_payloads_are_problems_not_crashes(
    payload: bytes, message: str
) -> None:
    reg = DeviceRegistry()
    problems = announce(reg, "homeassistant/light/bad/config", payload)
    assert problems and message in problems[0]


def test_unsupported_component_is_a_problem() -> None:
    problems = announce(DeviceRegistry(), "homeassistant/vacuum/robo/config", {"cmd_t": "v"})
    assert problems == ["homeassistant/vacuum/robo/config: component 'vacuum' is not supported"]


def test_invalid_update_keeps_the_previous_config() -> None:
    reg = DeviceRegistry()
    announce(reg, "homeassistant/light/kitchen/config", KITCHEN)
    problems = announce(reg, "homeassistant/light/kitchen/config", {**KITCHEN, "bri_scl": -1})
    assert problems
    assert "light.kitchen_ceiling" in reg.catalog().entities


# -- other components ---------------------------------------------------------------------------


def test_switch_payloads_state_on_off_and_command_template() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/switch/heater/config",
        {
            "name": "Heater",
            "cmd_t": "heater/set",
            "stat_t": "heater/state",
            "pl_on": "POWER_ON",
            "pl_off": "POWER_OFF",
            "stat_on": "running",
            "stat_off": "idle",
        },
    )
    assert call(reg, "switch.turn_on", entity_id="switch.heater") == [("heater/set", "POWER_ON")]
    assert call(reg, "switch.turn_off", entity_id="switch.heater") == [("heater/set", "POWER_OFF")]
    reg.handle("heater/state", b"running")
    assert state_of(reg, "switch.heater").state == "on"
    # toggle resolves against tracked state
    assert call(reg, "switch.toggle", entity_id="switch.heater") == [("heater/set", "POWER_OFF")]
    announce(
        reg,
        "homeassistant/switch/pump/config",
        {"name": "Pump", "cmd_t": "pump/set", "cmd_tpl": '{"on": "{{ value }}"}'},
    )
    assert call(reg, "switch.turn_on", entity_id="switch.pump") == [("pump/set", {"on": "ON"})]


def test_read_only_switch_offers_only_state() -> None:
    reg = DeviceRegistry()
    announce(reg, "homeassistant/switch/ro/config", {"name": "RO", "stat_t": "ro"})
    assert dict(reg.catalog().entities["switch.ro"].services) == {}


def test_fan_percentage_scaling_presets_and_oscillation() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/fan/ceiling/config",
        {
            "~": "fan",
            "name": "Ceiling Fan",
            "cmd_t": "~/set",
            "stat_t": "~/state",
            "pct_cmd_t": "~/speed/set",
            "pct_stat_t": "~/speed",
            "spd_rng_min": 1,
            "spd_rng_max": 3,
            "pr_mode_cmd_t": "~/preset/set",
            "pr_modes": ["sleep", "breeze"],
            "osc_cmd_t": "~/osc/set",
        },
    )
    services = reg.catalog().entities["fan.ceiling_fan"].services
    assert set(services) == {
        "turn_on",
        "turn_off",
        "toggle",
        "set_percentage",
        "set_preset_mode",
        "oscillate",
    }
    pct = [
        call(reg, "fan.set_percentage", entity_id="fan.ceiling_fan", percentage=p)[0][1]
        for p in (0, 1, 33, 34, 66, 67, 100)
    ]
    assert pct == ["0", "1", "1", "2", "2", "3", "3"]
    assert call(reg, "fan.set_preset_mode", entity_id="fan.ceiling_fan", preset_mode="sleep") == [
        ("fan/preset/set", "sleep")
    ]
    assert call(reg, "fan.oscillate", entity_id="fan.ceiling_fan", oscillating=True) == [
        ("fan/osc/set", "oscillate_on")
    ]
    reg.handle("fan/speed", b"2")  # Home Assistant: (2 - 0) * 100 // 3
    assert state_of(reg, "fan.ceiling_fan").attributes["percentage"] == 66
    problems = announce(
        reg,
        "homeassistant/fan/bad/config",
        {"name": "Bad", "cmd_t": "b", "spd_rng_min": 5, "spd_rng_max": 2},
    )
    assert "speed_range_min 5 and speed_range_max 2 do not form a range" in problems[0]


def test_cover_payloads_position_scaling_tilt_and_state() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/cover/blind/config",
        {
            "name": "Blind",
            "dev_cla": "blind",
            "cmd_t": "blind/set",
            "stat_t": "blind/state",
            "pos_t": "blind/pos",
            "set_pos_t": "blind/pos/set",
            "pos_open": 255,
            "pos_clsd": 0,
            "pl_open": "UP",
            "pl_cls": "DOWN",
            "pl_stop": "HALT",
            "tilt_cmd_t": "blind/tilt/set",
            "tilt_opnd_val": 180,
            "tilt_clsd_val": 0,
        },
    )
    entity = reg.catalog().entities["cover.blind"]
    assert entity.device_class == "blind"
    assert set(entity.services) == {"open", "close", "stop", "set_position", "set_tilt"}
    assert call(reg, "cover.open", entity_id="cover.blind") == [("blind/set", "UP")]
    assert call(reg, "cover.close", entity_id="cover.blind") == [("blind/set", "DOWN")]
    assert call(reg, "cover.stop", entity_id="cover.blind") == [("blind/set", "HALT")]
    assert call(reg, "cover.set_position", entity_id="cover.blind", position=40) == [
        ("blind/pos/set", "102")
    ]
    assert call(reg, "cover.set_tilt", entity_id="cover.blind", tilt=50) == [
        ("blind/tilt/set", "90")
    ]
    reg.handle("blind/pos", b"51")
    assert state_of(reg, "cover.blind").attributes["current_position"] == 20
    reg.handle("blind/state", b"opening")
    assert state_of(reg, "cover.blind").state == "opening"


def test_cover_without_stop_and_position_only_cover() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/cover/garage/config",
        {"name": "Garage Door", "dev_cla": "garage", "cmd_t": "g/set", "pl_stop": None},
    )
    assert set(reg.catalog().entities["cover.garage_door"].services) == {"open", "close"}
    announce(
        reg,
        "homeassistant/cover/shade/config",
        {"name": "Shade", "set_pos_t": "s/pos/set", "pos_t": "s/pos"},
    )
    assert call(reg, "cover.open", entity_id="cover.shade") == [("s/pos/set", "100")]
    reg.handle("s/pos", b"0")
    assert state_of(reg, "cover.shade").state == "closed"


def test_valve_with_and_without_position() -> None:
    reg = DeviceRegistry()
    announce(
        reg, "homeassistant/valve/water/config", {"name": "Water", "cmd_t": "w/set", "stat_t": "w"}
    )
    assert set(reg.catalog().entities["valve.water"].services) == {"open", "close"}
    assert call(reg, "valve.open", entity_id="valve.water") == [("w/set", "OPEN")]
    reg.handle("w", b"open")
    assert state_of(reg, "valve.water").state == "open"
    announce(
        reg,
        "homeassistant/valve/gas/config",
        {
            "name": "Gas",
            "cmd_t": "g/set",
            "stat_t": "g",
            "pos": True,
            "pos_open": 10,
            "pos_clsd": 0,
        },
    )
    assert call(reg, "valve.set_position", entity_id="valve.gas", position=50) == [("g/set", "5")]
    assert call(reg, "valve.close", entity_id="valve.gas") == [("g/set", "0")]
    reg.handle("g", b"3")
    state = reg.state("valve.gas")
    assert (
        state is not None and state.state == "open" and state.attributes["current_position"] == 30
    )


def test_lock_payloads_and_states() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/lock/front/config",
        {
            "name": "Front Door",
            "cmd_t": "front/set",
            "stat_t": "front",
            "pl_lock": "L",
            "pl_unlk": "U",
            "pl_open": "O",
            "stat_locked": "is_locked",
            "stat_unlocked": "is_unlocked",
        },
    )
    assert set(reg.catalog().entities["lock.front_door"].services) == {"lock", "unlock", "open"}
    assert call(reg, "lock.lock", entity_id="lock.front_door") == [("front/set", "L")]
    assert call(reg, "lock.unlock", entity_id="lock.front_door") == [("front/set", "U")]
    assert call(reg, "lock.open", entity_id="lock.front_door") == [("front/set", "O")]
    reg.handle("front", b"is_unlocked")
    assert state_of(reg, "lock.front_door").state == "unlocked"
    announce(reg, "homeassistant/lock/back/config", {"name": "Back Door", "cmd_t": "back/set"})
    assert set(reg.catalog().entities["lock.back_door"].services) == {"lock", "unlock"}
    assert call(reg, "lock.lock", entity_id="lock.back_door") == [("back/set", "LOCK")]


def test_climate_ranges_modes_and_payloads() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/climate/living/config",
        {
            "~": "hvac",
            "name": "Thermostat",
            "min_temp": 7,
            "max_temp": 30,
            "modes": ["off", "heat", "auto"],
            "mode_cmd_t": "~/mode/set",
            "mode_stat_t": "~/mode",
            "temp_cmd_t": "~/target/set",
            "temp_stat_t": "~/target",
            "curr_temp_t": "~/current",
            "curr_temp_tpl": "{{ value_json.t }}",
            "pr_mode_cmd_t": "~/preset/set",
            "pr_modes": ["eco", "comfort"],
        },
    )
    entity = reg.catalog().entities["climate.thermostat"]
    temp = entity.services["set_temperature"]["temperature"]
    assert (temp.minimum, temp.maximum) == (7, 30)
    assert entity.services["set_hvac_mode"]["hvac_mode"].enum == ("off", "heat", "auto")
    assert call(reg, "climate.set_temperature", entity_id="climate.thermostat", temperature=21) == [
        ("hvac/target/set", "21")
    ]
    assert call(
        reg, "climate.set_temperature", entity_id="climate.thermostat", temperature=21.5
    ) == [("hvac/target/set", "21.5")]
    assert call(reg, "climate.set_hvac_mode", entity_id="climate.thermostat", hvac_mode="auto") == [
        ("hvac/mode/set", "auto")
    ]
    assert call(reg, "climate.turn_off", entity_id="climate.thermostat") == [
        ("hvac/mode/set", "off")
    ]
    assert call(reg, "climate.turn_on", entity_id="climate.thermostat") == [
        ("hvac/mode/set", "heat")
    ]
    assert call(
        reg, "climate.set_preset_mode", entity_id="climate.thermostat", preset_mode="eco"
    ) == [("hvac/preset/set", "eco")]
    with pytest.raises(CallError, match=r"out of range 7\.\.30"):
        reg.catalog().validate(
            "climate.set_temperature", {"entity_id": "climate.thermostat", "temperature": 40}
        )
    reg.handle("hvac/mode", b"heat")
    reg.handle("hvac/target", b"20.5")
    reg.handle("hvac/current", b'{"t": 19.25}')
    state = reg.state("climate.thermostat")
    assert state is not None and state.state == "heat"
    assert state.attributes == {
        "hvac_mode": "heat",
        "temperature": 20.5,
        "current_temperature": 19.25,
    }
    problems = announce(
        reg, "homeassistant/climate/bad/config", {"name": "Bad", "min_temp": 30, "max_temp": 10}
    )
    assert "min_temp 30 is greater than max_temp 10" in problems[0]


def test_sensor_binary_sensor_scene_and_button() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/sensor/bath_temp/config",
        {
            "dev_cla": "temperature",
            "unit_of_meas": "°C",
            "stat_t": "bath",
            "val_tpl": "{{ value_json.temperature | round(1) }}",
            "dev": {"ids": "bath", "name": "Bathroom Sensor", "sa": "Bathroom"},
        },
    )
    announce(
        reg,
        "homeassistant/binary_sensor/bath_motion/config",
        {
            "name": "Motion",
            "dev_cla": "motion",
            "stat_t": "bath",
            "val_tpl": "{{ 'ON' if value_json.motion else 'OFF' }}",
            "dev": {"ids": "bath", "name": "Bathroom Sensor", "sa": "Bathroom"},
        },
    )
    announce(
        reg,
        "homeassistant/scene/movie/config",
        {"name": "Movie Night", "cmd_t": "scene/movie", "pl_on": "GO"},
    )
    announce(
        reg,
        "homeassistant/button/reboot/config",
        {"name": "Router Reboot", "cmd_t": "router/reboot"},
    )
    cat = reg.catalog()
    # A sensor without a name is named after its device class, like Home Assistant does.
    assert cat.entities["sensor.bathroom_sensor_temperature"].name == "Bathroom Sensor Temperature"
    assert dict(cat.entities["sensor.bathroom_sensor_temperature"].services) == {}
    assert "binary_sensor.bathroom_sensor_motion" in cat.entities
    assert cat.validate("state.get", {"entity_id": "sensor.bathroom_sensor_temperature"})
    change = reg.handle("bath", b'{"temperature": 21.46, "motion": true}')
    assert sorted(change.state_changed) == [
        "binary_sensor.bathroom_sensor_motion",
        "sensor.bathroom_sensor_temperature",
    ]
    temp = reg.state("sensor.bathroom_sensor_temperature")
    assert temp is not None and temp.state == "21.5"
    assert temp.attributes == {"unit_of_measurement": "°C"}
    assert state_of(reg, "binary_sensor.bathroom_sensor_motion").state == "on"
    assert call(reg, "scene.turn_on", entity_id="scene.movie_night") == [("scene/movie", "GO")]
    assert call(reg, "button.press", entity_id="button.router_reboot") == [
        ("router/reboot", "PRESS")
    ]
    problems = announce(reg, "homeassistant/sensor/nostate/config", {"name": "X"})
    assert "state_topic (required for a sensor) is missing" in problems[0]


# -- per-device discovery ------------------------------------------------------------------------

DEVICE: dict[str, Any] = {
    "dev": {"ids": "hub1", "name": "Office Desk", "sa": "Office"},
    "o": {"name": "firmware", "sw": "2.1"},
    "avty": [{"t": "desk/status"}],
    "qos": 1,
    "cmps": {
        "plug": {
            "p": "switch",
            "name": "Plug",
            "cmd_t": "desk/plug/set",
            "stat_t": "desk/plug",
            "uniq_id": "desk-plug",
        },
        "wake": {"p": "button", "name": "PC Wake", "cmd_t": "desk/wake", "uniq_id": "desk-wake"},
        "temp": {
            "p": "sensor",
            "dev_cla": "temperature",
            "stat_t": "desk/temp",
            "uniq_id": "desk-temp",
        },
    },
}


def test_device_discovery_with_cmps_shared_options_and_component_removal() -> None:
    reg = DeviceRegistry()
    assert announce(reg, "homeassistant/device/hub1/config", DEVICE) == []
    cat = reg.catalog()
    assert set(cat.entities) == {
        "switch.office_desk_plug",
        "button.office_desk_pc_wake",
        "sensor.office_desk_temperature",
    }
    assert all(e.area == "Office" for e in cat.entities.values())
    assert call(reg, "switch.turn_on", entity_id="switch.office_desk_plug") == [
        ("desk/plug/set", "ON")
    ]
    # shared availability: unavailable until the device says online
    assert state_of(reg, "switch.office_desk_plug").available is False
    change = reg.handle("desk/status", b"online")
    assert sorted(change.state_changed) == sorted(cat.entities)
    assert state_of(reg, "switch.office_desk_plug").available is True
    # re-announce without the button, and with the sensor reduced to its platform: both go
    smaller = {**DEVICE, "cmps": {"plug": DEVICE["cmps"]["plug"], "temp": {"p": "sensor"}}}
    change = reg.handle("homeassistant/device/hub1/config", json.dumps(smaller).encode())
    assert change.catalog_changed
    assert set(reg.catalog().entities) == {"switch.office_desk_plug"}
    # an empty payload removes the device
    assert reg.handle("homeassistant/device/hub1/config", b"").catalog_changed
    assert len(reg.catalog()) == 0
    assert reg.state_topics() == set()


def test_device_level_base_topic_applies_to_every_component() -> None:
    reg = DeviceRegistry()
    config = {
        "~": "hub/7",
        "dev": {"ids": "h7", "name": "Garden Hub", "sa": "Garden"},
        "o": {"name": "fw"},
        "avty_t": "~/lwt",
        "cmps": {
            "pump": {"p": "switch", "name": "Pump", "cmd_t": "~/pump/set", "stat_t": "~/pump"},
            "gate": {"p": "lock", "name": "Gate", "~": "gate/1", "cmd_t": "~/set"},
        },
    }
    assert announce(reg, "homeassistant/device/h7/config", config) == []
    assert call(reg, "switch.turn_on", entity_id="switch.garden_hub_pump") == [
        ("hub/7/pump/set", "ON")
    ]
    assert call(reg, "lock.lock", entity_id="lock.garden_hub_gate") == [("gate/1/set", "LOCK")]
    assert reg.state_topics() == {"hub/7/pump", "hub/7/lwt", "gate/1/lwt"}


def test_device_discovery_problems() -> None:
    reg = DeviceRegistry()
    bad_cmp = {**DEVICE, "cmps": {**DEVICE["cmps"], "vac": {"p": "vacuum", "cmd_t": "v"}, "x": 5}}
    problems = announce(reg, "homeassistant/device/hub1/config", bad_cmp)
    assert any("component 'vac' has platform (p) \"vacuum\"" in p for p in problems)
    assert any("component 'x' must be an object" in p for p in problems)
    assert len(reg.catalog()) == 3  # the good components still count
    problems = announce(reg, "homeassistant/device/hub2/config", {"dev": {"ids": "h2"}})
    assert problems == [
        "homeassistant/device/hub2/config: components (cmps) must be an object of entity configs"
    ]
    no_origin = {k: v for k, v in DEVICE.items() if k != "o"}
    problems = announce(reg, "homeassistant/device/hub4/config", no_origin)
    assert problems == [
        "homeassistant/device/hub4/config: origin (o) with a name is required for device discovery"
    ]
    # a broken re-announce of hub1 keeps what hub1 had
    problems = announce(reg, "homeassistant/device/hub1/config", b"{oops")
    assert problems and len(reg.catalog()) == 3
    lying = {**DEVICE, "cmps": {"l": {"p": "light", "schema": "json", "stat_t": "x"}}}
    problems = announce(reg, "homeassistant/device/hub3/config", lying)
    assert problems == [
        "homeassistant/device/hub3/config component 'l': command_topic (required for a json "
        "schema light) is missing"
    ]


def test_duplicate_unique_id_inside_one_device_config() -> None:
    reg = DeviceRegistry()
    twice = {
        **DEVICE,
        "cmps": {
            "a": {"p": "switch", "name": "A", "cmd_t": "a", "uniq_id": "same"},
            "b": {"p": "switch", "name": "B", "cmd_t": "b", "uniq_id": "same"},
        },
    }
    problems = announce(reg, "homeassistant/device/hub1/config", twice)
    assert problems == [
        "homeassistant/device/hub1/config: unique_id 'same' is already used by component 'a' "
        "of the same config; this config is ignored"
    ]
    assert list(reg.catalog().entities) == ["switch.office_desk_a"]


def test_removal_by_empty_payload_and_unique_id_reannounce() -> None:
    reg = DeviceRegistry()
    announce(reg, "homeassistant/light/kitchen/config", KITCHEN)
    # the same topic and unique_id again with a new name updates, never duplicates
    change = reg.handle(
        "homeassistant/light/kitchen/config", json.dumps({**KITCHEN, "name": "Main"}).encode()
    )
    assert change.catalog_changed
    assert list(reg.catalog().entities) == ["light.kitchen_ceiling"]
    assert reg.catalog().entities["light.kitchen_ceiling"].name == "Kitchen Ceiling Main"
    # an identical re-announce changes nothing
    again = reg.handle(
        "homeassistant/light/kitchen/config", json.dumps({**KITCHEN, "name": "Main"}).encode()
    )
    assert not again.catalog_changed and not again.problems
    # another topic claiming the same unique_id is refused, like Home Assistant does
    problems = announce(reg, "homeassistant/light/kitchen2/config", KITCHEN)
    assert problems == [
        "homeassistant/light/kitchen2/config: unique_id 'kitchen-ceiling' is already used by "
        "homeassistant/light/kitchen/config; this config is ignored"
    ]
    assert reg.handle("homeassistant/light/kitchen/config", b"").catalog_changed
    assert len(reg.catalog()) == 0
    assert reg.handle("homeassistant/light/kitchen/config", b"").catalog_changed is False
    # once free, the unique_id can be announced elsewhere
    assert announce(reg, "homeassistant/light/kitchen2/config", KITCHEN) == []


def test_availability_modes_and_templates() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/switch/a/config",
        {
            "name": "A",
            "cmd_t": "a/set",
            "avty_mode": "all",
            "avty": [
                {"t": "a/one"},
                {
                    "t": "a/two",
                    "val_tpl": "{{ value_json.s }}",
                    "pl_avail": "up",
                    "pl_not_avail": "down",
                },
            ],
        },
    )
    announce(
        reg,
        "homeassistant/switch/b/config",
        {
            "name": "B",
            "cmd_t": "b/set",
            "avty_t": "b/lwt",
            "pl_avail": "alive",
            "pl_not_avail": "dead",
        },
    )
    announce(reg, "homeassistant/switch/c/config", {"name": "C", "cmd_t": "c/set"})
    assert state_of(reg, "switch.c").available is True
    assert state_of(reg, "switch.b").available is False
    reg.handle("b/lwt", b"alive")
    assert state_of(reg, "switch.b").available is True
    reg.handle("b/lwt", b"dead")
    assert state_of(reg, "switch.b").available is False
    reg.handle("a/one", b"online")
    assert state_of(reg, "switch.a").available is False
    reg.handle("a/two", b'{"s": "up"}')
    assert state_of(reg, "switch.a").available is True
    reg.handle("a/two", b'{"s": "down"}')
    assert state_of(reg, "switch.a").available is False


def test_entity_ids_from_default_entity_id_object_id_and_names() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/switch/a/config",
        {"name": "Whatever", "def_ent_id": "switch.kettle", "cmd_t": "a"},
    )
    announce(
        reg,
        "homeassistant/switch/b/config",
        {"name": "Whatever", "obj_id": "Coffee Maker", "cmd_t": "b"},
    )
    announce(reg, "homeassistant/switch/c/config", {"name": "Café Plug", "cmd_t": "c"})
    announce(reg, "homeassistant/switch/d/config", {"cmd_t": "d"})
    announce(reg, "homeassistant/switch/e/config", {"name": "Café Plug", "cmd_t": "e"})
    announce(reg, "homeassistant/switch/f/config", {"name": "Café Plug", "cmd_t": "f"})
    assert sorted(reg.catalog().entities) == [
        "switch.cafe_plug",
        "switch.cafe_plug_2",
        "switch.cafe_plug_3",
        "switch.coffee_maker",
        "switch.kettle",
        "switch.mqtt_switch",
    ]
    # the id stays with its entity when a sibling goes away
    reg.handle("homeassistant/switch/c/config", b"")
    assert call(reg, "switch.turn_on", entity_id="switch.cafe_plug_3") == [("f", "ON")]


def test_template_failure_on_state_is_a_problem() -> None:
    reg = DeviceRegistry()
    announce(
        reg,
        "homeassistant/sensor/t/config",
        {"name": "T", "stat_t": "t", "val_tpl": "{{ value_json.a / 0 }}"},
    )
    change = reg.handle("t", b'{"a": 1}')
    assert change.problems and "template" in change.problems[0]


def test_commands_for_a_vanished_entity_raise_actuation_error() -> None:
    reg = DeviceRegistry()
    announce(reg, "homeassistant/switch/a/config", {"name": "A", "cmd_t": "a"})
    valid = reg.catalog().validate("switch.turn_on", {"entity_id": "switch.a"})
    reg.handle("homeassistant/switch/a/config", b"")
    with pytest.raises(ActuationError, match=r"switch\.a is no longer announced"):
        reg.commands(valid)
