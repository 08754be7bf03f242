"""The simulated home on a real Mosquitto, seen through a plain paho subscriber feeding the
registry: discovery of every device, areas and ranges, and commands that change device state."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from edgeward.adapters.devices import DeviceRegistry, EntityState
from edgeward.adapters.simulator import DEMO_AREAS, SimulatedHome, SimulatorError, StateChange
from tests.mosquitto import Mosquitto, free_port


def state_of(reg: DeviceRegistry, entity_id: str) -> EntityState:
    state = reg.state(entity_id)
    assert state is not None, f"{entity_id} is unknown"
    return state


class Feeder:
    """A bare paho client that subscribes to what the registry asks for and feeds it."""

    def __init__(self, broker: Mosquitto, registry: DeviceRegistry) -> None:
        self.registry = registry
        self.lock = threading.Lock()
        self.problems: list[str] = []
        self.subscribed: set[str] = set()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="feeder")
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        for topic in registry.subscriptions():
            self.client.subscribe(topic, qos=1)

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self.lock:
            change = self.registry.handle(message.topic, bytes(message.payload))
            self.problems += change.problems
            for topic in sorted(self.registry.state_topics() - self.subscribed):
                client.subscribe(topic, qos=1)
                self.subscribed.add(topic)

    def wait(self, predicate: Callable[[DeviceRegistry], bool], timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if predicate(self.registry):
                    return
            time.sleep(0.02)
        raise AssertionError(f"condition not met within {timeout}s")

    def act(self, tool: str, **args: Any) -> int:
        with self.lock:
            valid = self.registry.catalog().validate(tool, args)
            commands = self.registry.commands(valid)
        for cmd in commands:
            self.client.publish(
                cmd.topic, cmd.payload, qos=cmd.qos, retain=cmd.retain
            ).wait_for_publish(5)
        return len(commands)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def home(broker: Mosquitto) -> Iterator[SimulatedHome]:
    sim = SimulatedHome(broker.host, broker.port, client_id="sim-under-test")
    sim.start()
    yield sim
    sim.stop()


@pytest.fixture
def feeder(broker: Mosquitto, home: SimulatedHome) -> Iterator[Feeder]:
    feed = Feeder(broker, DeviceRegistry(areas=DEMO_AREAS))
    yield feed
    feed.close()


def _state(reg: DeviceRegistry, entity_id: str) -> str | None:
    state = reg.state(entity_id)
    return state.state if state is not None else None


def _attr(reg: DeviceRegistry, entity_id: str, name: str) -> Any:
    state = reg.state(entity_id)
    return state.attributes.get(name) if state is not None else None


def test_the_registry_discovers_the_whole_home(home: SimulatedHome, feeder: Feeder) -> None:
    # every entity with a state topic has received its retained state
    feeder.wait(
        lambda r: (
            len(r.catalog()) == 30
            and all(
                state_of(r, e).updated_at > 0
                for e in r.catalog().entities
                if e.split(".")[0] not in ("scene", "button")
            )
        )
    )
    assert feeder.problems == []
    assert len(home.device_names) >= 14
    cat = feeder.registry.catalog()
    where = {e.entity_id: (e.area, e.floor) for e in cat.entities.values()}
    assert where["light.kitchen_ceiling_light"] == ("Kitchen", "Ground floor")
    assert where["light.living_room_lamp"] == ("Living room", "Ground floor")
    assert where["light.hallway_light"] == ("Hallway", "Ground floor")
    assert where["cover.garage_door"] == ("Garage", "Ground floor")
    assert where["valve.irrigation_valve"] == ("Garden", "Ground floor")
    assert where["binary_sensor.motion_sensor_occupancy"] == ("Garden", "Ground floor")
    assert where["light.bedside_lamp"] == ("Bedroom", "First floor")
    assert where["sensor.bathroom_sensor_humidity"] == ("Bathroom", "First floor")
    assert where["switch.office_desk_plug"] == ("Office", "First floor")
    assert where["cover.blinds"] == ("Living room", "Ground floor")
    assert sorted(cat.tools["lock.lock"].entity_ids) == [
        "lock.back_door_lock",
        "lock.front_door_lock",
    ]
    kitchen = cat.entities["light.kitchen_ceiling_light"].services["turn_on"]["color_temp_kelvin"]
    assert (kitchen.minimum, kitchen.maximum) == (2203, 6535)
    thermostat = cat.entities["climate.thermostat"].services["set_temperature"]["temperature"]
    assert (thermostat.minimum, thermostat.maximum) == (7, 30)
    radiator = cat.entities["climate.radiator"].services["set_temperature"]["temperature"]
    assert (radiator.minimum, radiator.maximum) == (5, 30)
    assert cat.entities["cover.garage_door"].device_class == "garage"
    assert {e.domain for e in cat.entities.values()} >= {
        "light",
        "switch",
        "fan",
        "cover",
        "valve",
        "lock",
        "climate",
        "sensor",
        "binary_sensor",
        "scene",
        "button",
    }
    reg = feeder.registry
    assert _state(reg, "lock.front_door_lock") == "locked"
    assert _state(reg, "lock.back_door_lock") == "locked"
    assert _attr(reg, "climate.thermostat", "current_temperature") == 19.5
    assert _state(reg, "sensor.bathroom_sensor_temperature") == "22.4"
    assert state_of(reg, "light.kitchen_ceiling_light").available


def test_commands_change_the_simulated_devices(home: SimulatedHome, feeder: Feeder) -> None:
    seen: list[StateChange] = []
    home.on_change = seen.append
    feeder.wait(
        lambda r: len(r.catalog()) == 30 and _state(r, "light.kitchen_ceiling_light") == "off"
    )
    sent = feeder.act("light.turn_on", entity_id="light.kitchen_ceiling_light", brightness_pct=80)
    feeder.wait(
        lambda r: (
            _state(r, "light.kitchen_ceiling_light") == "on"
            and _attr(r, "light.kitchen_ceiling_light", "brightness_pct") == 80
        )
    )
    sent += feeder.act("light.turn_on", entity_id="light.living_room_lamp", color_temp_kelvin=2700)
    feeder.wait(lambda r: _attr(r, "light.living_room_lamp", "color_temp_kelvin") == 2703)
    sent += feeder.act("lock.unlock", entity_id="lock.front_door_lock")
    sent += feeder.act("lock.unlock", entity_id="lock.back_door_lock")
    feeder.wait(
        lambda r: (
            _state(r, "lock.front_door_lock") == "unlocked"
            and _state(r, "lock.back_door_lock") == "unlocked"
        )
    )
    sent += feeder.act("cover.set_position", entity_id="cover.blinds", position=40)
    sent += feeder.act("cover.open", entity_id="cover.garage_door")
    sent += feeder.act("climate.set_temperature", entity_id="climate.radiator", temperature=21.5)
    sent += feeder.act("fan.set_percentage", entity_id="fan.ceiling_fan", percentage=100)
    sent += feeder.act("valve.open", entity_id="valve.irrigation_valve")
    sent += feeder.act("light.toggle", entity_id="light.bedside_lamp")
    feeder.wait(
        lambda r: (
            _attr(r, "cover.blinds", "current_position") == 40
            and _state(r, "cover.garage_door") == "open"
            and _attr(r, "climate.radiator", "temperature") == 21.5
            and _attr(r, "fan.ceiling_fan", "percentage") == 100
            and _state(r, "valve.irrigation_valve") == "open"
            and _state(r, "light.bedside_lamp") == "on"
        )
    )
    sent += feeder.act("scene.turn_on", entity_id="scene.movie_night")
    sent += feeder.act("button.press", entity_id="button.office_desk_pc_wake")
    deadline = time.monotonic() + 5
    while len(home.received) < sent and time.monotonic() < deadline:
        time.sleep(0.02)
    assert len(home.received) == sent == 13  # every command arrived exactly once
    assert ("sim/office/desk/wake", b"PRESS") in home.received
    assert ("sim/living_room/scene/movie_night", b"ACTIVATE") in home.received
    assert (
        "zigbee2mqtt/bedroom/Radiator/set",
        b'{"occupied_heating_setpoint": 21.5}',
    ) in home.received
    described = [str(c) for c in seen]
    assert "Office Desk: pressed" in described and "Movie Night: activated" in described
    assert "Radiator: occupied_heating_setpoint 21.5" in " | ".join(described)
    assert "Kitchen Ceiling Light: 80" in described
    assert home.changes.qsize() == len(seen)
    assert feeder.problems == []


def test_refresh_and_removal(home: SimulatedHome, feeder: Feeder) -> None:
    feeder.wait(lambda r: len(r.catalog()) == 30 and _state(r, "lock.back_door_lock") == "locked")
    with feeder.lock:
        [get] = feeder.registry.refresh("lock.back_door_lock")
    feeder.client.publish(get.topic, get.payload, qos=1).wait_for_publish(5)
    home.set_values("hallway/Front Door Sensor", contact=False)
    feeder.wait(lambda r: _state(r, "binary_sensor.front_door_sensor_contact") == "on")
    home.remove("garage/Workbench Plug")
    home.remove("Garage Door")
    feeder.wait(lambda r: len(r.catalog()) == 26)
    cat = feeder.registry.catalog()
    assert "switch.workbench_plug" not in cat.entities and "cover.garage_door" not in cat.entities
    assert ("zigbee2mqtt/kitchen/Back Door Lock/get", b'{"state": ""}') in home.received
    home.announce()  # the bridge still has the plug removed; the garage door comes back
    feeder.wait(lambda r: "cover.garage_door" in r.catalog().entities)
    assert "switch.workbench_plug" not in feeder.registry.catalog().entities


def test_simulator_reports_an_unreachable_broker() -> None:
    sim = SimulatedHome("127.0.0.1", free_port())
    with pytest.raises(SimulatorError, match=r"cannot reach the broker at 127\.0\.0\.1"):
        sim.start(timeout=2)


def test_stop_with_forget_clears_everything_retained(broker: Mosquitto) -> None:
    sim = SimulatedHome(broker.host, broker.port, client_id="sim-forget")
    sim.start()
    sim.stop(forget=True)
    feed = Feeder(broker, DeviceRegistry())
    try:
        time.sleep(0.5)  # time for any retained message to arrive: there must be none
        with feed.lock:
            assert len(feed.registry.catalog()) == 0 and feed.subscribed == set()
    finally:
        feed.close()


def test_birth_message_and_broker_restart_make_the_home_announce_again(
    broker: Mosquitto, home: SimulatedHome
) -> None:
    fresh: list[str] = []
    watcher = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="watcher")
    watcher.on_message = lambda c, u, m: None if m.retain else fresh.append(m.topic)
    watcher.connect(broker.host, broker.port)
    watcher.loop_start()
    try:
        watcher.subscribe("homeassistant/light/kitchen_ceiling/config", qos=1)
        time.sleep(0.3)
        assert fresh == []  # only the retained copy so far
        watcher.publish("homeassistant/status", b"online", qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 5
        while not fresh and time.monotonic() < deadline:
            time.sleep(0.02)
        assert fresh == ["homeassistant/light/kitchen_ceiling/config"]
    finally:
        watcher.disconnect()
        watcher.loop_stop()
    # a broker that lost everything gets the home back when the simulator reconnects
    (broker.workdir / "mosquitto.db").unlink(missing_ok=True)
    broker.stop()
    (broker.workdir / "mosquitto.db").unlink(missing_ok=True)
    broker.start()
    feed = Feeder(broker, DeviceRegistry(areas=DEMO_AREAS))
    try:
        feed.wait(lambda r: len(r.catalog()) == 30, timeout=15)
    finally:
        feed.close()
