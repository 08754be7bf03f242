"""The device registry: overrides, configured areas and floors, catalog caching, subscriptions,
and that no message, however bad, makes it raise."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from edgeward.adapters.devices import Change, DeviceRegistry, EntityOverride, EntityState
from edgeward.runtime.catalog import Area

AREAS = [
    Area("Kitchen", "Ground floor", ("cuisine", "küche")),
    Area("Living room", "Ground floor", ("lounge",)),
    Area("Office", "First floor"),
]

LIGHT = {
    "name": None,
    "uniq_id": "k1",
    "cmd_t": "k/set",
    "stat_t": "k/state",
    "dev": {"ids": "k1", "name": "Ceiling", "sa": "KITCHEN"},
}


def state_of(reg: DeviceRegistry, entity_id: str) -> EntityState:
    state = reg.state(entity_id)
    assert state is not None, f"{entity_id} is unknown"
    return state


def test_subscriptions_are_static_filters_for_both_adapters() -> None:
    reg = DeviceRegistry(discovery_prefix="ha/", z2m_base="zb")
    assert reg.subscriptions() == [
        "ha/+/+/config",
        "ha/+/+/+/config",
        "zb/bridge/devices",
        "zb/bridge/state",
    ]
    assert reg.state_topics() == set()


def test_suggested_area_matched_case_insensitively_and_by_alias() -> None:
    reg = DeviceRegistry(areas=AREAS)
    reg.handle("homeassistant/light/k/config", json.dumps(LIGHT).encode())
    alias = {
        **LIGHT,
        "uniq_id": "k2",
        "cmd_t": "k2",
        "dev": {"ids": "k2", "name": "Spot", "sa": "cuisine"},
    }
    reg.handle("homeassistant/light/k2/config", json.dumps(alias).encode())
    other = {
        **LIGHT,
        "uniq_id": "k3",
        "cmd_t": "k3",
        "dev": {"ids": "k3", "name": "Shed", "sa": "Shed"},
    }
    reg.handle("homeassistant/light/k3/config", json.dumps(other).encode())
    cat = reg.catalog()
    assert (cat.entities["light.ceiling"].area, cat.entities["light.ceiling"].floor) == (
        "Kitchen",
        "Ground floor",
    )
    assert cat.entities["light.spot"].area == "Kitchen"
    assert (cat.entities["light.shed"].area, cat.entities["light.shed"].floor) == ("Shed", None)
    assert {a.name for a in cat.areas.values()} == {"Kitchen", "Living room", "Office", "Shed"}
    assert cat.areas["Kitchen"].aliases == ("cuisine", "küche")


def test_overrides_rename_alias_and_move_entities() -> None:
    overrides = [
        EntityOverride(
            "light.ceiling", name="Big Light", aliases=("main light", "plafonnier"), area="lounge"
        ),
        EntityOverride("switch.nothing_here", name="Ghost"),
    ]
    reg = DeviceRegistry(areas=AREAS, overrides=overrides)
    reg.handle("homeassistant/light/k/config", json.dumps(LIGHT).encode())
    entity = reg.catalog().entities["light.ceiling"]
    assert entity.name == "Big Light"
    assert entity.aliases == ("main light", "plafonnier")
    assert (entity.area, entity.floor) == ("Living room", "Ground floor")
    assert reg.unused_overrides() == ["switch.nothing_here"]
    summary = reg.catalog().to_json()["entities"][0]
    assert summary["aliases"] == ["main light", "plafonnier"]


def test_catalog_is_cached_until_something_changes() -> None:
    reg = DeviceRegistry(areas=AREAS)
    empty = reg.catalog()
    assert reg.catalog() is empty
    change = reg.handle("homeassistant/light/k/config", json.dumps(LIGHT).encode())
    assert change == Change(catalog_changed=True)
    first = reg.catalog()
    assert first is not empty and len(first) == 1
    reg.handle("k/state", b"ON")  # state never rebuilds the catalog
    assert reg.catalog() is first
    reg.handle("homeassistant/light/k/config", json.dumps(LIGHT).encode())
    assert reg.catalog() is first
    reg.handle("homeassistant/light/k/config", json.dumps({**LIGHT, "name": "Lamp"}).encode())
    second = reg.catalog()
    assert second is not first and second.version != first.version


def test_state_of_unknown_entity_and_before_any_message() -> None:
    ticks = iter([100.0, 200.0])
    reg = DeviceRegistry(clock=lambda: next(ticks))
    reg.handle("homeassistant/light/k/config", json.dumps(LIGHT).encode())
    assert reg.state("light.nope") is None
    before = reg.state("light.ceiling")
    assert before is not None and before.state is None and before.updated_at == 0.0
    reg.handle("k/state", b"ON")
    after = reg.state("light.ceiling")
    assert after is not None and after.state == "on" and after.updated_at == 100.0
    # a state message that repeats the state refreshes updated_at but reports no change
    assert reg.handle("k/state", b"ON").state_changed == []
    assert state_of(reg, "light.ceiling").updated_at == 200.0


def test_state_get_needs_no_commands() -> None:
    reg = DeviceRegistry()
    reg.handle("homeassistant/light/k/config", json.dumps(LIGHT).encode())
    valid = reg.catalog().validate("state.get", {"entity_id": "light.ceiling"})
    assert reg.commands(valid) == []


def test_commands_are_qos1_at_least_and_keep_retain() -> None:
    reg = DeviceRegistry()
    reg.handle(
        "homeassistant/switch/s/config",
        json.dumps({"name": "S", "cmd_t": "s", "qos": 2, "ret": True}).encode(),
    )
    reg.handle("homeassistant/switch/t/config", json.dumps({"name": "T", "cmd_t": "t"}).encode())
    [s] = reg.commands(reg.catalog().validate("switch.turn_on", {"entity_id": "switch.s"}))
    [t] = reg.commands(reg.catalog().validate("switch.turn_on", {"entity_id": "switch.t"}))
    assert (s.qos, s.retain) == (2, True)
    assert (t.qos, t.retain) == (1, False)


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-10, 1000)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=6)
    ),
    max_leaves=20,
)
_keys = st.sampled_from(
    [
        "cmd_t",
        "stat_t",
        "name",
        "schema",
        "sup_clrm",
        "bri_scl",
        "min_mirs",
        "max_mirs",
        "dev",
        "cmps",
        "avty",
        "~",
        "pl_on",
        "modes",
        "min_temp",
        "max_temp",
        "val_tpl",
        "p",
        "pos_open",
        "pos_clsd",
        "spd_rng_min",
        "spd_rng_max",
        "fx_list",
        "effect",
        "uniq_id",
        "def_ent_id",
        "obj_id",
    ]
)
_configs = st.dictionaries(_keys, _json_values, max_size=10)
_topics = st.sampled_from(
    [
        "homeassistant/light/x/config",
        "homeassistant/device/d/config",
        "homeassistant/climate/n/o/config",
        "homeassistant/cover/c/config",
        "homeassistant/fan/f/config",
        "zigbee2mqtt/bridge/devices",
    ]
)


@settings(max_examples=300, deadline=None)
@given(messages=st.lists(st.tuples(_topics, _configs | _json_values), max_size=6))
def test_no_message_makes_the_registry_raise(messages: list[tuple[str, object]]) -> None:
    reg = DeviceRegistry(areas=AREAS)
    for topic, body in messages:
        change = reg.handle(topic, json.dumps(body).encode())
        assert isinstance(change, Change)
        for state_topic in sorted(reg.state_topics()):
            reg.handle(state_topic, json.dumps(body).encode())
    reg.catalog().to_json()


_VALID: list[tuple[str, dict[str, object]]] = [
    (
        "homeassistant/light/a/config",
        {
            "~": "a",
            "name": "A",
            "cmd_t": "~/s",
            "stat_t": "~/t",
            "bri_cmd_t": "~/b",
            "bri_stat_t": "~/bs",
            "clr_temp_cmd_t": "~/c",
            "clr_temp_stat_t": "~/cs",
            "rgb_cmd_t": "~/r",
            "fx_cmd_t": "~/f",
            "fx_list": ["x"],
            "bri_scl": 100,
            "min_mirs": 153,
            "max_mirs": 500,
        },
    ),
    (
        "homeassistant/light/b/config",
        {
            "schema": "json",
            "name": "B",
            "cmd_t": "b/s",
            "stat_t": "b",
            "sup_clrm": ["color_temp", "hs"],
            "bri_scl": 255,
            "effect": True,
            "fx_list": ["y"],
        },
    ),
    (
        "homeassistant/fan/c/config",
        {
            "name": "C",
            "cmd_t": "c/s",
            "stat_t": "c",
            "pct_cmd_t": "c/p",
            "pct_stat_t": "c/ps",
            "spd_rng_min": 1,
            "spd_rng_max": 4,
            "pr_mode_cmd_t": "c/m",
            "pr_modes": ["eco"],
            "osc_cmd_t": "c/o",
        },
    ),
    (
        "homeassistant/cover/d/config",
        {
            "name": "D",
            "cmd_t": "d/s",
            "stat_t": "d",
            "pos_t": "d/p",
            "set_pos_t": "d/sp",
            "tilt_cmd_t": "d/t",
            "tilt_status_t": "d/ts",
            "pos_open": 10,
            "pos_clsd": 0,
        },
    ),
    ("homeassistant/valve/e/config", {"name": "E", "cmd_t": "e/s", "stat_t": "e", "pos": True}),
    ("homeassistant/lock/f/config", {"name": "F", "cmd_t": "f/s", "stat_t": "f", "pl_open": "O"}),
    (
        "homeassistant/climate/g/config",
        {
            "name": "G",
            "temp_cmd_t": "g/t",
            "temp_stat_t": "g/ts",
            "mode_cmd_t": "g/m",
            "mode_stat_t": "g/ms",
            "curr_temp_t": "g/c",
            "modes": ["off", "heat"],
            "fan_mode_cmd_t": "g/f",
            "pr_mode_cmd_t": "g/p",
            "pr_modes": ["eco"],
            "pow_cmd_t": "g/pw",
        },
    ),
    ("homeassistant/switch/h/config", {"name": "H", "cmd_t": "h/s", "stat_t": "h"}),
    (
        "homeassistant/sensor/i/config",
        {"name": "I", "stat_t": "i", "val_tpl": "{{ value_json.v }}"},
    ),
    ("homeassistant/binary_sensor/j/config", {"name": "J", "stat_t": "j"}),
]


def _extreme_args(reg: DeviceRegistry) -> list[tuple[str, dict[str, object]]]:
    out: list[tuple[str, dict[str, object]]] = []
    for entity in reg.catalog().entities.values():
        for service, specs in entity.services.items():
            for pick in (0, -1):
                args: dict[str, object] = {"entity_id": entity.entity_id}
                for name, spec in specs.items():
                    if spec.enum:
                        args[name] = spec.enum[pick]
                    elif spec.type == "boolean":
                        args[name] = pick == 0
                    elif spec.minimum is not None and spec.maximum is not None:
                        value = spec.minimum if pick == 0 else spec.maximum
                        args[name] = int(value) if spec.type == "integer" else value
                out.append((f"{entity.domain}.{service}", args))
    return out


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, len(_VALID) - 1),
    mutations=st.dictionaries(
        _keys
        | st.sampled_from(
            [
                "bri_scl",
                "spd_rng_max",
                "pos_open",
                "tilt_opnd_val",
                "tilt_clsd_val",
                "min_temp",
                "pl_stop",
                "on_cmd_type",
                "clr_temp_k",
                "min_k",
                "max_k",
                "temp_unit",
            ]
        ),
        _json_values,
        max_size=3,
    ),
    state=_json_values,
)
def test_mutated_valid_configs_never_crash_parsing_state_or_commands(
    index: int, mutations: dict[str, object], state: object
) -> None:
    topic, config = _VALID[index]
    reg = DeviceRegistry()
    reg.handle(topic, json.dumps({**config, **mutations}).encode())
    for state_topic in sorted(reg.state_topics()):
        reg.handle(state_topic, json.dumps(state).encode())
    for tool, args in _extreme_args(reg):
        valid = reg.catalog().validate(tool, args)
        for command in reg.commands(valid):
            assert command.topic and "+" not in command.topic and "#" not in command.topic


def test_every_valid_config_actuates_at_both_ends_of_every_range() -> None:
    reg = DeviceRegistry()
    for topic, config in _VALID:
        assert reg.handle(topic, json.dumps(config).encode()).problems == []
    calls = _extreme_args(reg)
    assert len(calls) > 40
    for tool, args in calls:
        assert reg.commands(reg.catalog().validate(tool, args)), tool


def _feature(kind: str, name: str, access: int = 7, **extra: object) -> dict[str, object]:
    return {"type": kind, "name": name, "property": name, "access": access, **extra}


_Z2M_EXPOSES: list[dict[str, object]] = [
    {"type": "light", "features": [
        _feature("binary", "state", value_on="ON", value_off="OFF", value_toggle="TOGGLE"),
        _feature("numeric", "brightness", value_min=0, value_max=254),
        _feature("numeric", "color_temp", value_min=150, value_max=500),
        {"type": "composite", "name": "color_hs", "property": "color", "access": 7,
         "features": [_feature("numeric", "hue"), _feature("numeric", "saturation")]}]},
    _feature("enum", "effect", 2, values=["blink"]),
    {"type": "cover", "features": [_feature("enum", "state", 3, values=["OPEN", "CLOSE"]),
                                   _feature("numeric", "position", value_min=0, value_max=100),
                                   _feature("numeric", "tilt", value_min=0, value_max=100)]},
    {"type": "climate", "features": [
        _feature("numeric", "current_heating_setpoint", value_min=5, value_max=30),
        _feature("enum", "system_mode", values=["off", "heat"]),
        _feature("enum", "preset", values=["eco"]), _feature("enum", "fan_mode", values=["low"])]},
    {"type": "lock", "features": [_feature("binary", "state", value_on="LOCK", value_off="UNLOCK")]},
    {"type": "fan", "features": [_feature("binary", "state", value_on="ON", value_off="OFF",
                                          property="fan_state"),
                                 _feature("enum", "mode", values=["low", "high"]),
                                 _feature("numeric", "speed", value_min=0, value_max=254)]},
    _feature("binary", "contact", 1),
    _feature("numeric", "temperature", 5, unit="°C"),
    _feature("binary", "led_indicator", 7, value_on="ON", value_off="OFF"),
]  # fmt: skip
_expose_keys = st.sampled_from(
    ["type", "name", "property", "access", "value_min", "value_max", "values", "value_on",
     "value_off", "value_toggle", "features", "endpoint", "unit"]
)  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    index=st.integers(0, len(_Z2M_EXPOSES) - 1),
    feature=st.integers(0, 4),
    mutations=st.dictionaries(_expose_keys, _json_values, max_size=3),
    state=_json_values,
)
def test_mutated_z2m_exposes_never_crash_parsing_state_or_commands(
    index: int, feature: int, mutations: dict[str, object], state: object
) -> None:
    exposes = json.loads(json.dumps(_Z2M_EXPOSES))
    target = exposes[index]
    features = target.get("features")
    if isinstance(features, list) and feature < len(features):
        target = features[feature]
    target.update(mutations)
    device = {"ieee_address": "0x1", "friendly_name": "room/Thing", "type": "Router",
              "definition": {"exposes": exposes}}  # fmt: skip
    reg = DeviceRegistry()
    reg.handle("zigbee2mqtt/bridge/devices", json.dumps([device]).encode())
    for state_topic in sorted(reg.state_topics()):
        reg.handle(state_topic, json.dumps(state).encode())
        reg.handle(state_topic, json.dumps({"state": state, "position": state}).encode())
    for tool, args in _extreme_args(reg):
        for command in reg.commands(reg.catalog().validate(tool, args)):
            assert command.topic == "zigbee2mqtt/room/Thing/set"
            json.loads(command.payload)


def test_unmutated_z2m_exposes_actuate_at_both_ends_of_every_range() -> None:
    device = {
        "ieee_address": "0x1",
        "friendly_name": "room/Thing",
        "definition": {"exposes": _Z2M_EXPOSES},
    }
    reg = DeviceRegistry()
    assert reg.handle("zigbee2mqtt/bridge/devices", json.dumps([device]).encode()).problems == []
    calls = _extreme_args(reg)
    assert len(calls) > 30
    for tool, args in calls:
        assert reg.commands(reg.catalog().validate(tool, args)), tool


def test_device_identifiers_are_the_hardware_ids_with_a_digit() -> None:
    """What the redactor gets: Zigbee addresses, unique_ids, device identifiers, connections and
    serial numbers; ids without a digit ("kitchen_light") read as words and are left out."""
    reg = DeviceRegistry()
    zigbee = {
        "ieee_address": "0x00124b0001a2b3c4",
        "friendly_name": "hall/Lamp",
        "definition": {"exposes": [_Z2M_EXPOSES[0]]},
    }
    reg.handle("zigbee2mqtt/bridge/devices", json.dumps([zigbee]).encode())
    config = {
        "name": "Air",
        "state_topic": "home/air",
        "unique_id": "air_quality_sensor",
        "device": {
            "ids": ["AQ2231X7", "sensor_hub"],
            "sn": "SN88412K",
            "cns": [["mac", "02:42:ac:11:00:02"]],
        },
    }
    assert reg.handle("homeassistant/sensor/air/config", json.dumps(config).encode()).problems == []
    assert reg.device_identifiers() == {
        "0x00124b0001a2b3c4",
        "0x00124b0001a2b3c4_light_zigbee2mqtt",
        "AQ2231X7",
        "SN88412K",
        "02:42:ac:11:00:02",
    }
