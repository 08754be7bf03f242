"""The rules that decide the expected plan of a request, shared by every source of training data.

They are the contract the planner learns, written once:

- An action on several entities is one call per entity, sorted by ``entity_id``. More than
  :data:`MAX_CALLS` targets is not a request the data covers.
- A request that does not say which of several entities it means (``"lock the door"`` with two
  locks, a name two entities share, ``"the thermostat"`` with several and none in the speaker's
  area) is ``ambiguous``: nothing moves, ``candidates`` are the entities it could mean, sorted.
- A sweep across a security boundary (unlocking or opening several locks, opening several garage
  doors, gates or doors at once) is ``ambiguous`` too, with every swept entity as a candidate:
  the gateway never acts on it. Locking all the locks or closing every garage door is fine.
- Lights, fans and switches of an area are a set: ``"turn off the light"`` from the kitchen turns
  off every kitchen light. A thermostat request without area uses the speaker area's thermostat,
  else the home's only one.
- A request for something the home does not have is ``unsupported`` with ``no_such_device``; a
  request that is not about the home (weather, jokes, timers, shopping) is ``unsupported`` with
  ``out_of_domain``.
- A relative change moves the current value by a fixed step (:data:`RELATIVE_STEPS`): one step for
  "a bit warmer", "brighter", ...; the current value comes from tracked state, clamped to range.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from edgeward.runtime.bounded_cache import BoundedCache
from edgeward.runtime.catalog import STATE_TOOL, Catalog, Entity
from edgeward.runtime.homes import DOMAIN_WORDS, area_key, device_word_forms, floor_key, fold
from edgeward.runtime.plan import Plan, PlannedCall, When

MAX_CALLS = 20
"""Most calls (or candidates) one generated plan holds."""

RELATIVE_STEPS: Mapping[str, float] = {
    "temperature": 1.0,  # °C, climate.set_temperature
    "brightness_pct": 20,  # percentage points, light.turn_on
    "position": 25,  # percentage points, cover.set_position
    "percentage": 25,  # percentage points, fan.set_percentage
}
"""How far one relative change ("a bit warmer", "brighter", "open a bit more") moves a value."""

SECURITY_CLASSES = frozenset({"garage", "gate", "door"})
"""Cover device classes whose opening crosses a security boundary."""

# action -> domain -> service
ACTIONS: Mapping[str, Mapping[str, str]] = {
    "on": {"light": "turn_on", "switch": "turn_on", "fan": "turn_on", "climate": "turn_on",
           "scene": "turn_on", "cover": "open", "valve": "open"},
    "off": {"light": "turn_off", "switch": "turn_off", "fan": "turn_off", "climate": "turn_off",
            "cover": "close", "valve": "close"},
    "toggle": {"light": "toggle", "switch": "toggle", "fan": "toggle"},
    "open": {"cover": "open", "valve": "open", "lock": "open"},
    "close": {"cover": "close", "valve": "close"},
    "stop": {"cover": "stop"},
    "lock": {"lock": "lock"},
    "unlock": {"lock": "unlock"},
    "activate": {"scene": "turn_on"},
    "press": {"button": "press"},
    "brightness": {"light": "turn_on"},
    "color": {"light": "turn_on"},
    "color_temp": {"light": "turn_on"},
    "temperature": {"climate": "set_temperature"},
    "hvac_mode": {"climate": "set_hvac_mode"},
    "position": {"cover": "set_position", "valve": "set_position"},
    "tilt": {"cover": "set_tilt"},
    "fan_speed": {"fan": "set_percentage"},
    "oscillate": {"fan": "oscillate"},
}  # fmt: skip

ACTION_ARG: Mapping[str, str] = {
    "brightness": "brightness_pct",
    "color": "color_name",
    "color_temp": "color_temp_kelvin",
    "temperature": "temperature",
    "hvac_mode": "hvac_mode",
    "position": "position",
    "tilt": "tilt",
    "fan_speed": "percentage",
    "oscillate": "oscillating",
}
"""The argument an action sets, for actions that set one."""


def service_of(entity: Entity, action: str) -> str | None:
    """The service ``action`` maps to on ``entity``, if the entity offers it (and its argument)."""
    service = ACTIONS.get(action, {}).get(entity.domain)
    if service is None or service not in entity.services:
        return None
    arg = ACTION_ARG.get(action)
    if arg is not None and arg not in entity.services[service]:
        return None
    return service


def is_security_sensitive(entity: Entity, action: str) -> bool:
    """Whether doing ``action`` on ``entity`` opens the home (unlock, open a door or gate)."""
    if entity.domain == "lock":
        return action in ("unlock", "open")
    if entity.domain == "cover" and entity.device_class in SECURITY_CLASSES:
        return action in ("open", "on", "position")
    return False


def select(
    home: Catalog,
    *,
    domain: str | None = None,
    area: str | None = None,
    floor: str | None = None,
    device_class: str | None = None,
    action: str | None = None,
) -> list[Entity]:
    """Entities matching every given filter (area/floor by exact name), sorted by ``entity_id``."""
    out = []
    for entity in home.entities.values():
        if domain is not None and entity.domain != domain:
            continue
        if area is not None and entity.area != area:
            continue
        if floor is not None and entity.floor != floor:
            continue
        if device_class is not None and entity.device_class != device_class:
            continue
        if action is not None and service_of(entity, action) is None:
            continue
        out.append(entity)
    return sorted(out, key=lambda e: e.entity_id)


def named(home: Catalog, name: str) -> list[Entity]:
    """Entities whose name or an alias is ``name`` (compared folded), sorted by ``entity_id``."""
    return list(_NAMED.get(home.version, lambda: _names_index(home)).get(fold(name), ()))


def _names_index(home: Catalog) -> dict[str, list[Entity]]:
    index: dict[str, list[Entity]] = {}
    for entity in sorted(home.entities.values(), key=lambda e: e.entity_id):
        for key in {fold(n) for n in (entity.name, *entity.aliases)}:
            index.setdefault(key, []).append(entity)
    return index


_NAMED: BoundedCache[str, dict[str, list[Entity]]] = BoundedCache(8)
"""Each catalog version's entities by folded name and alias."""


def meant_by(home: Catalog, name: str) -> list[Entity]:
    """The entities a frame's ``name [ ... ]`` means: those called ``name`` (:func:`named`),
    else those with it as a device word in their name (:func:`containing`)."""
    return named(home, name) or containing(home, name)


def containing(home: Catalog, words: str) -> list[Entity]:
    """Entities with ``words`` in their name or an alias, as whole words (compared folded):
    "the lamp" said of a home with a "Desk lamp" and a "Floor lamp"; sorted by ``entity_id``."""
    keys = [f" {form} " for form in device_word_forms(words)]
    return sorted(
        (
            e
            for e in home.entities.values()
            if any(k in f" {fold(n)} " for n in (e.name, *e.aliases) for k in keys)
        ),
        key=lambda e: e.entity_id,
    )


def same_area(home: Catalog, key: str) -> list[str]:
    """Area names of the home whose vocabulary key is ``key`` (``"kitchen"``)."""
    return sorted(a.name for a in home.areas.values() if area_key(a.name) == key)


def same_floor(home: Catalog, key: str) -> list[str]:
    """Floor names of the home whose vocabulary key is ``key`` (``"ground"``)."""
    floors = {a.floor for a in home.areas.values() if a.floor}
    return sorted(f for f in floors if floor_key(f) == key)


def act(
    targets: Sequence[Entity],
    action: str,
    *,
    value: Any = None,
    when: When | None = None,
    language: str = "en",
    sweep: bool = False,
) -> Plan | None:
    """The plan for ``action`` on ``targets``; None when the data does not cover it.

    ``sweep`` says the request addressed a group (an area, a floor, "all the ...") rather than
    naming each entity; ``value`` is the action's argument (brightness, temperature, ...).
    """
    if not targets:
        return unsupported("no_such_device", language)
    if len(targets) > MAX_CALLS:
        return None
    if sweep and len(targets) > 1 and any(is_security_sensitive(e, action) for e in targets):
        return ambiguous(targets, language)
    calls = []
    for entity in sorted(targets, key=lambda e: e.entity_id):
        service = service_of(entity, action)
        if service is None:
            return None
        args: dict[str, Any] = {"entity_id": entity.entity_id}
        arg = ACTION_ARG.get(action)
        if arg is not None:
            args[arg] = value
        calls.append(PlannedCall(f"{entity.domain}.{service}", args, when))
    return Plan("act", tuple(calls), language=language)


def query(targets: Sequence[Entity], language: str = "en") -> Plan | None:
    """Read the state of ``targets`` without actuating."""
    if not targets:
        return unsupported("no_such_device", language)
    if len(targets) > MAX_CALLS:
        return None
    calls = tuple(
        PlannedCall(STATE_TOOL, {"entity_id": e.entity_id})
        for e in sorted(targets, key=lambda e: e.entity_id)
    )
    return Plan("query", calls, language=language)


def ambiguous(candidates: Iterable[Entity], language: str = "en") -> Plan | None:
    ids = sorted({e.entity_id for e in candidates})
    if len(ids) > MAX_CALLS or len(ids) < 2:
        return None
    return Plan("ambiguous", candidates=tuple(ids), language=language)


def unsupported(reason: str, language: str = "en") -> Plan:
    return Plan("unsupported", reason=reason, language=language)


def merge(plans: Sequence[Plan | None], language: str) -> Plan | None:
    """Several clauses in one breath: all must act; their calls run in the order spoken."""
    if any(p is None or p.kind != "act" for p in plans):
        return None
    calls = tuple(c for p in plans if p is not None for c in p.calls)
    if len(calls) > MAX_CALLS:
        return None
    return Plan("act", calls, language=language)


def one_or_ambiguous(
    options: Sequence[Entity], action: str, language: str, **kw: Any
) -> Plan | None:
    """A request for one thing: act on it if there is exactly one, else ask which."""
    if len(options) == 1:
        return act(options, action, language=language, **kw)
    if not options:
        return unsupported("no_such_device", language)
    return ambiguous(options, language)


def climate_for(home: Catalog, area: str | None) -> list[Entity]:
    """The thermostat(s) a request without a name means: the area's, else the home's only one;
    of several, the one named "Thermostat" (in one of the four languages) if one is, as a name
    said says its device: "set the thermostat to 21" in a home with a Thermostat and a
    Radiator."""
    if area is not None:
        here = select(home, domain="climate", area=area)
        if here:
            return _the_thermostat(here)
    return _the_thermostat(select(home, domain="climate"))


_THERMOSTAT = frozenset(fold(w) for words in DOMAIN_WORDS["climate"].values() for w in words)


def _the_thermostat(options: list[Entity]) -> list[Entity]:
    named = [e for e in options if fold(e.name) in _THERMOSTAT]
    return named if len(options) > 1 and len(named) == 1 else options


def clamp(value: float, entity: Entity, service: str, arg: str) -> float:
    spec = entity.services[service][arg]
    lo = spec.minimum if spec.minimum is not None else value
    hi = spec.maximum if spec.maximum is not None else value
    return min(max(value, lo), hi)


def plan_key(plan: Plan) -> dict[str, Any]:
    """What an exact plan match compares: everything but ``say``, ``confidence`` and language."""
    doc = plan.to_json()
    for key in ("say", "confidence", "language"):
        doc.pop(key)
    return doc
