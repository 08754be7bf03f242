"""The device registry: every entity the home's devices announce, their tracked state, the tool
catalog built from them, and the exact messages that actuate them.

The registry is pure: it owns no MQTT client. The daemon subscribes to :meth:`subscriptions`
(static) and :meth:`state_topics` (changes as devices come and go), feeds every message to
:meth:`handle`, publishes what :meth:`commands` returns, and republishes :meth:`catalog` when a
:class:`Change` says it changed.

Entity ids follow Home Assistant: ``<domain>.<slug>`` from ``default_entity_id``, ``object_id``
or the device and entity names. An id, once given to an entity (keyed by discovery id or unique
id), stays with it while it exists; a clash gets ``_2``, ``_3``, ... in the order entities appear.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from edgeward.adapters import ha_discovery as ha
from edgeward.adapters import zigbee2mqtt as z2m
from edgeward.runtime.catalog import STATE_TOOL, Area, Catalog, Entity, ValidCall
from edgeward.runtime.services import Services

_TOGGLE_ON_STATES = frozenset({"on", "open", "opening", "unlocked"})


class ActuationError(ValueError):
    """A valid call that cannot be turned into messages now (device gone, payload impossible)."""


@dataclass(frozen=True)
class EntityOverride:
    """What the settings say about an entity (``[[entities]]``): it wins over discovery."""

    entity_id: str
    name: str | None = None
    aliases: tuple[str, ...] = ()
    area: str | None = None


@dataclass(frozen=True)
class Command:
    """One MQTT message that actuates a device."""

    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = False


@dataclass(frozen=True)
class EntityState:
    """The tracked state of one entity; ``updated_at`` is 0.0 until a state message arrived."""

    state: str | None
    attributes: Mapping[str, Any]
    available: bool
    updated_at: float


@dataclass
class Change:
    """What one message changed."""

    catalog_changed: bool = False
    state_changed: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


class Binding(Protocol):
    """What both adapters' entities offer (see ``HaEntity`` and ``Z2MEntity``)."""

    domain: str
    name: str
    object_id: str
    area: str | None
    device_class: str | None
    services: Services
    unique_id: str | None
    availability_mode: str
    available_by_default: bool

    @property
    def native_toggle(self) -> bool: ...

    def state_topics(self) -> set[str]: ...

    def availability_topics(self) -> list[str]: ...

    def decode(self, topic: str, payload: bytes) -> dict[str, Any]: ...

    def parse_availability(self, topic: str, payload: bytes) -> bool | None: ...

    def encode(self, service: str, args: Mapping[str, Any]) -> list[ha.Publish]: ...

    def refresh(self) -> list[ha.Publish]: ...


@dataclass
class _Tracked:
    state: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    updated_at: float = 0.0
    seen: dict[str, bool] = field(default_factory=dict)
    latest: bool | None = None


class DeviceRegistry:
    """Entities from Home Assistant MQTT discovery and Zigbee2MQTT, with state and actuation.

    Not thread-safe: call it from one thread (or under one lock), as the daemon's service does.
    """

    def __init__(
        self,
        discovery_prefix: str = ha.DEFAULT_PREFIX,
        z2m_base: str = z2m.DEFAULT_BASE,
        areas: Iterable[Area] = (),
        overrides: Iterable[EntityOverride] = (),
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.discovery_prefix = discovery_prefix.rstrip("/")
        self.z2m_base = z2m_base.rstrip("/")
        self._areas = list(areas)
        self._area_index: dict[str, Area] = {}
        for area in self._areas:
            for name in (area.name, *area.aliases):
                self._area_index.setdefault(_norm(name), area)
        self._overrides = {o.entity_id: o for o in overrides}
        self._clock = clock
        self._bindings: dict[str, Binding] = {}
        self._ids: dict[str, str] = {}  # key -> entity_id
        self._owner: dict[str, str] = {}  # entity_id -> key
        self._uids: dict[str, str] = {}  # HA unique_id -> key
        self._ha_groups: dict[str, set[str]] = {}  # discovery topic -> keys it announced
        self._tracked: dict[str, _Tracked] = {}
        self._topic_keys: dict[str, set[str]] = {}
        self._catalog: Catalog | None = None
        # The bridge's retained state arrives on a static subscription, often before the device
        # list: remember it for the entities that come later.
        self._bridge_state: bytes | None = None

    # -- subscriptions ----------------------------------------------------------------------

    def subscriptions(self) -> list[str]:
        """Static topic filters: discovery configs and the Zigbee2MQTT bridge."""
        return ha.subscriptions(self.discovery_prefix) + z2m.subscriptions(self.z2m_base)

    def state_topics(self) -> set[str]:
        """The state and availability topics of the entities known now."""
        return set(self._topic_keys)

    # -- messages ---------------------------------------------------------------------------

    def handle(self, topic: str, payload: bytes) -> Change:
        """Take one message; never raises for bad input (see ``Change.problems``)."""
        change = Change()
        if topic == f"{self.z2m_base}/bridge/state":
            self._bridge_state = payload
        if ha.parse_topic(self.discovery_prefix, topic) is not None:
            self._handle_discovery(topic, payload, change)
        elif topic == f"{self.z2m_base}/bridge/devices":
            self._handle_z2m_devices(payload, change)
        if topic in self._topic_keys:
            self._handle_state(topic, payload, change)
        return change

    def _handle_discovery(self, topic: str, payload: bytes, change: Change) -> None:
        parsed = ha.parse(self.discovery_prefix, topic, payload)
        change.problems.extend(parsed.problems)
        new = {f"ha:{did}": entity for did, entity in parsed.entities.items()}
        claimed: dict[str, str] = {}  # unique_id -> key, within this message
        for key, entity in list(new.items()):
            uid = entity.unique_id
            if not uid:
                continue
            owner = claimed.get(uid) or self._uids.get(uid)
            if owner is not None and owner != key:
                other = new.get(owner) or self._bindings[owner]
                where = getattr(other, "discovery_topic", owner)
                if owner in new:
                    where = f"component {owner.rsplit('/', 1)[-1]!r} of the same config"
                change.problems.append(
                    f"{topic}: unique_id {uid!r} is already used by {where}; this config is ignored"
                )
                del new[key]
            else:
                claimed[uid] = key
        old = self._ha_groups.get(topic, set())
        if any(did.endswith("/*") for did in parsed.invalid):
            keep = set(old)
        else:
            keep = {key for key in old if key[3:] in parsed.invalid}
        self._replace(old - keep, new, change)
        group = set(new) | keep
        if group:
            self._ha_groups[topic] = group
        else:
            self._ha_groups.pop(topic, None)

    def _handle_z2m_devices(self, payload: bytes, change: Change) -> None:
        parsed = z2m.parse_devices(self.z2m_base, payload)
        change.problems.extend(parsed.problems)
        if not parsed.complete:
            return
        old = {key for key in self._bindings if key.startswith("z2m:")}
        self._replace(old, dict(parsed.entities), change)

    def _replace(self, old: set[str], new: Mapping[str, Binding], change: Change) -> None:
        """Swap the entities in ``old`` for those in ``new`` (same keys update in place)."""
        before = {key: self._entity(key) for key in old | set(new) if key in self._bindings}
        for key in old - set(new):
            self._remove(key)
        for key in sorted(new):
            binding = new[key]
            previous = self._bindings.get(key)
            if previous is not None and previous.unique_id:
                if self._uids.get(previous.unique_id) == key:
                    del self._uids[previous.unique_id]
            self._bindings[key] = binding
            if isinstance(binding, ha.HaEntity) and binding.unique_id:
                self._uids[binding.unique_id] = key
            if key not in self._ids:
                self._assign_id(key, binding)
            tracked = self._tracked.setdefault(key, _Tracked())
            bridge = f"{self.z2m_base}/bridge/state"
            if self._bridge_state is not None and bridge in binding.availability_topics():
                try:
                    online = binding.parse_availability(bridge, self._bridge_state)
                except ha.PayloadError:
                    online = None
                if online is not None:
                    tracked.seen[bridge] = online
        after = {key: self._entity(key) for key in new}
        if before != after:
            change.catalog_changed = True
            self._catalog = None
        self._index_topics()

    def _remove(self, key: str) -> None:
        binding = self._bindings.pop(key)
        if binding.unique_id and self._uids.get(binding.unique_id) == key:
            del self._uids[binding.unique_id]
        entity_id = self._ids.pop(key)
        del self._owner[entity_id]
        self._tracked.pop(key, None)

    def _assign_id(self, key: str, binding: Binding) -> None:
        base = f"{binding.domain}.{binding.object_id or 'unnamed'}"
        entity_id, n = base, 2
        while entity_id in self._owner:
            entity_id, n = f"{base}_{n}", n + 1
        self._ids[key] = entity_id
        self._owner[entity_id] = key

    def _index_topics(self) -> None:
        index: dict[str, set[str]] = {}
        for key, binding in self._bindings.items():
            for topic in binding.state_topics():
                index.setdefault(topic, set()).add(key)
        self._topic_keys = index

    def _handle_state(self, topic: str, payload: bytes, change: Change) -> None:
        for key in sorted(self._topic_keys[topic]):
            binding, tracked = self._bindings[key], self._tracked[key]
            entity_id = self._ids[key]
            changed = False
            try:
                if topic in binding.availability_topics():
                    was = self._available(binding, tracked)
                    value = binding.parse_availability(topic, payload)
                    if value is not None:
                        tracked.seen[topic] = value
                        tracked.latest = value
                    changed = self._available(binding, tracked) != was
                updates = binding.decode(topic, payload)
            except ha.PayloadError as err:
                change.problems.append(f"{entity_id} ({topic}): {err}")
                continue
            if updates:
                state = updates.pop("state", tracked.state)
                attributes = {**tracked.attributes, **updates}
                if state != tracked.state or attributes != tracked.attributes:
                    tracked.state, tracked.attributes = state, attributes
                    changed = True
                tracked.updated_at = self._clock()
            if changed:
                change.state_changed.append(entity_id)

    @staticmethod
    def _available(binding: Binding, tracked: _Tracked) -> bool:
        topics = binding.availability_topics()
        if not topics:
            return True
        default = binding.available_by_default
        if binding.availability_mode == "latest":
            return default if tracked.latest is None else tracked.latest
        values = [tracked.seen.get(t, default) for t in topics]
        return all(values) if binding.availability_mode == "all" else any(values)

    # -- catalog and state ------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The tool catalog of every entity, with configured names, aliases and areas applied."""
        if self._catalog is None:
            entities = [self._entity(key) for key in self._bindings]
            self._catalog = Catalog(entities, self._areas)
        return self._catalog

    def _entity(self, key: str) -> Entity:
        binding = self._bindings[key]
        entity_id = self._ids[key]
        override = self._overrides.get(entity_id)
        name, area_name = binding.name, binding.area
        aliases: tuple[str, ...] = ()
        if override is not None:
            name = override.name or name
            aliases = override.aliases
            area_name = override.area or area_name
        area, floor = self._resolve_area(area_name)
        return Entity(
            entity_id=entity_id,
            name=name,
            area=area,
            floor=floor,
            aliases=tuple(aliases),
            device_class=binding.device_class,
            services=binding.services,
        )

    def device_identifiers(self) -> set[str]:
        """Hardware identifiers of the known devices, for the redactor: Zigbee IEEE addresses,
        discovery ``unique_id`` values, and a discovered device's ``identifiers``,
        ``connections`` and ``serial_number``. Only values with a digit are returned: they are
        serials, addresses and hashes, while a value without one ("kitchen_light") reads as
        ordinary words that a request may hold for another reason."""
        found: set[str] = set()
        for binding in self._bindings.values():
            values: list[Any] = [binding.unique_id]
            if isinstance(binding, z2m.Z2MEntity):
                values.append(binding.ieee_address)
            elif isinstance(binding, ha.HaEntity):
                device = binding.device
                ids = device.get("identifiers")
                values.extend([ids] if isinstance(ids, str) else ids or [])
                values.append(device.get("serial_number"))
                for connection in device.get("connections") or []:
                    if isinstance(connection, list | tuple) and len(connection) == 2:
                        values.append(connection[1])
            found.update(
                v.strip() for v in values if isinstance(v, str) and any(c.isdigit() for c in v)
            )
        return found

    def _resolve_area(self, name: str | None) -> tuple[str | None, str | None]:
        if not name:
            return None, None
        area = self._area_index.get(_norm(name))
        if area is None:
            return name, None
        return area.name, area.floor

    def unused_overrides(self) -> list[str]:
        """Entity ids in the settings that no device announces (worth a warning)."""
        return sorted(set(self._overrides) - set(self._owner))

    def state(self, entity_id: str) -> EntityState | None:
        """The tracked state of ``entity_id``, or ``None`` for an unknown entity."""
        key = self._owner.get(entity_id)
        if key is None:
            return None
        tracked = self._tracked[key]
        return EntityState(
            tracked.state,
            dict(tracked.attributes),
            self._available(self._bindings[key], tracked),
            tracked.updated_at,
        )

    # -- actuation --------------------------------------------------------------------------

    def commands(self, call: ValidCall) -> list[Command]:
        """The messages that carry out ``call``; ``state.get`` needs none.

        Raises :class:`ActuationError` when the entity is gone or the payload cannot be built.
        """
        if call.tool == STATE_TOOL:
            return []
        entity_id = call.entity.entity_id
        key = self._owner.get(entity_id)
        if key is None:
            raise ActuationError(f"{entity_id} is no longer announced by any device")
        binding = self._bindings[key]
        service = call.service
        if service == "toggle" and not binding.native_toggle:
            current = self._tracked[key].state
            service = "turn_off" if current in _TOGGLE_ON_STATES else "turn_on"
        args = {name: value for name, value in call.args.items() if name != "entity_id"}
        try:
            messages = binding.encode(service, args)
        except ha.PayloadError as err:
            raise ActuationError(f"{entity_id}: {err}") from err
        return [Command(t, p, max(qos, 1), retain) for t, p, qos, retain in messages]

    def refresh(self, entity_id: str) -> list[Command]:
        """Messages asking the device for fresh state (Zigbee2MQTT ``/get``); may be empty."""
        key = self._owner.get(entity_id)
        if key is None:
            raise ActuationError(f"{entity_id} is no longer announced by any device")
        return [
            Command(t, p, max(qos, 1), retain)
            for t, p, qos, retain in self._bindings[key].refresh()
        ]


def _norm(name: str) -> str:
    return " ".join(name.replace("_", " ").casefold().split())
