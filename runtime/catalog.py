"""The tool catalog: the entities the home has, the areas they are in, and the tools they expose.

The catalog is the vocabulary shared by everything that proposes a tool call. Device adapters build
it from what devices announce, the planner turns it into a grammar, the daemon validates every call
against it and publishes it on ``edgeward/<gw>/tools``. One source of truth for argument types and
ranges (:class:`ArgSpec`) yields both the JSON schema and the validation, so the two never disagree.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

ArgType = Literal["integer", "number", "boolean", "string"]

STATE_TOOL = "state.get"
"""The read-only tool every entity has: answer from tracked state, never actuate."""


class CallError(ValueError):
    """A tool call that does not fit the catalog; the message names the problem."""


@dataclass(frozen=True)
class ArgSpec:
    """One typed argument of a tool, with the range or choices the device announced."""

    type: ArgType
    description: str = ""
    minimum: float | None = None
    maximum: float | None = None
    enum: tuple[str, ...] | None = None
    unit: str | None = None
    required: bool = False

    def schema(self) -> dict[str, Any]:
        """The JSON schema of this argument."""
        out: dict[str, Any] = {"type": self.type}
        if self.enum is not None:
            out["enum"] = list(self.enum)
        if self.minimum is not None:
            out["minimum"] = _plain_number(self.minimum, self.type)
        if self.maximum is not None:
            out["maximum"] = _plain_number(self.maximum, self.type)
        if self.description:
            out["description"] = self.description
        return out

    def check(self, name: str, value: Any, where: str) -> Any:
        """Return ``value`` normalised to this type, or raise :class:`CallError` naming it."""
        if self.type == "boolean":
            if not isinstance(value, bool):
                raise CallError(f"{name} must be true or false for {where}, got {_show(value)}")
            return value
        if self.type == "string":
            if not isinstance(value, str):
                raise CallError(f"{name} must be a string for {where}, got {_show(value)}")
            if self.enum is not None and value not in self.enum:
                choices = ", ".join(self.enum)
                raise CallError(f"{name} {value!r} is not one of {choices} for {where}")
            return value
        if isinstance(value, bool) or not isinstance(value, int | float):
            kind = "an integer" if self.type == "integer" else "a number"
            raise CallError(f"{name} must be {kind} for {where}, got {_show(value)}")
        if isinstance(value, float) and not math.isfinite(value):
            raise CallError(f"{name} must be a finite number for {where}, got {value}")
        if self.type == "integer":
            if isinstance(value, float):
                if not value.is_integer():
                    raise CallError(f"{name} must be an integer for {where}, got {value}")
                value = int(value)
        lo, hi = self.minimum, self.maximum
        if (lo is not None and value < lo) or (hi is not None and value > hi):
            span = f"{_fmt(lo)}..{_fmt(hi)}"
            raise CallError(f"{name} {_fmt(value)} is out of range {span} for {where}")
        return value


@dataclass(frozen=True)
class Area:
    """A room or zone, optionally on a floor, with the other names people use for it."""

    name: str
    floor: str | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Entity:
    """One controllable or observable thing, and the services it offers with their arguments.

    ``services`` maps a service name (``turn_on``) to its arguments other than ``entity_id``.
    """

    entity_id: str
    name: str
    area: str | None = None
    floor: str | None = None
    aliases: tuple[str, ...] = ()
    device_class: str | None = None
    services: Mapping[str, Mapping[str, ArgSpec]] = field(default_factory=dict)

    @property
    def domain(self) -> str:
        return self.entity_id.split(".", 1)[0]

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {"entity_id": self.entity_id, "name": self.name}
        for key in ("area", "floor", "device_class"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        if self.aliases:
            out["aliases"] = list(self.aliases)
        return out


@dataclass(frozen=True)
class Tool:
    """A callable tool in Home Assistant's ``domain.service`` form, and who offers it."""

    name: str
    description: str
    entity_ids: tuple[str, ...]
    parameters: Mapping[str, Any]

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "entities": list(self.entity_ids),
            "parameters": self.parameters,
        }


@dataclass(frozen=True)
class ValidCall:
    """A call that fits the catalog, with its arguments normalised."""

    tool: str
    entity: Entity
    args: Mapping[str, Any]

    @property
    def service(self) -> str:
        return self.tool.split(".", 1)[1]

    def to_json(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": dict(self.args)}


class Catalog:
    """An immutable snapshot of entities, areas and the tools derived from them.

    ``version`` is a content hash, so two catalogs with the same content share a version and a
    compiled grammar can be cached by it.
    """

    def __init__(
        self,
        entities: Iterable[Entity],
        areas: Iterable[Area] = (),
        descriptions: Mapping[str, str] | None = None,
    ) -> None:
        self.entities: dict[str, Entity] = {e.entity_id: e for e in entities}
        self.areas: dict[str, Area] = {a.name: a for a in areas}
        for entity in self.entities.values():
            if entity.area and entity.area not in self.areas:
                self.areas[entity.area] = Area(entity.area, entity.floor)
        self.tools: dict[str, Tool] = _derive_tools(self.entities.values(), descriptions or {})
        self.version = hashlib.sha256(
            json.dumps(self.to_json(versioned=False), sort_keys=True).encode()
        ).hexdigest()[:16]

    def __len__(self) -> int:
        return len(self.entities)

    def validate(self, tool: Any, args: Any) -> ValidCall:
        """Check one call against the catalog; raise :class:`CallError` naming what is wrong."""
        if not isinstance(tool, str) or not tool:
            raise CallError(f"tool must be a non-empty string, got {_show(tool)}")
        spec = self.tools.get(tool)
        if spec is None:
            raise CallError(f"unknown tool {tool!r}{_did_you_mean(tool, self.tools)}")
        if not isinstance(args, Mapping):
            raise CallError(f"args of {tool} must be an object, got {_show(args)}")
        entity_id = args.get("entity_id")
        if entity_id is None:
            raise CallError(f"{tool} needs an entity_id")
        if not isinstance(entity_id, str):
            raise CallError(f"entity_id must be a string, got {_show(entity_id)}")
        entity = self.entities.get(entity_id)
        if entity is None:
            raise CallError(
                f"unknown entity {entity_id!r}{_did_you_mean(entity_id, self.entities)}"
            )
        if tool == STATE_TOOL:
            arg_specs: Mapping[str, ArgSpec] = {}
        else:
            domain, service = tool.split(".", 1)
            if entity.domain != domain or service not in entity.services:
                raise CallError(f"{entity_id} does not support {tool}")
            arg_specs = entity.services[service]
        clean: dict[str, Any] = {"entity_id": entity_id}
        for name, value in args.items():
            if name == "entity_id":
                continue
            arg = arg_specs.get(name)
            if arg is None:
                known = ", ".join(sorted(arg_specs)) or "none besides entity_id"
                raise CallError(
                    f"unknown argument {name!r} for {tool} on {entity_id} (known: {known})"
                )
            clean[name] = arg.check(name, value, entity_id)
        for name, arg in arg_specs.items():
            if arg.required and name not in clean:
                raise CallError(f"{tool} on {entity_id} needs {name}")
        return ValidCall(tool, entity, clean)

    def to_json(self, *, versioned: bool = True) -> dict[str, Any]:
        """The document published retained on ``edgeward/<gw>/tools``."""
        out: dict[str, Any] = {
            "tools": [t.to_json() for t in sorted(self.tools.values(), key=lambda t: t.name)],
            "entities": [e.summary() for e in sorted(self.entities.values(), key=_by_id)],
            "areas": [
                {"name": a.name, "floor": a.floor, "aliases": list(a.aliases)}
                for a in sorted(self.areas.values(), key=lambda a: a.name)
            ],
        }
        if versioned:
            out = {"version": self.version, **out}
        return out


def _did_you_mean(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1, cutoff=0.75)
    return f" (did you mean {close[0]}?)" if close else ""


def _by_id(entity: Entity) -> str:
    return entity.entity_id


def _derive_tools(entities: Iterable[Entity], descriptions: Mapping[str, str]) -> dict[str, Tool]:
    by_tool: dict[str, list[Entity]] = {}
    everything: list[Entity] = []
    for entity in sorted(entities, key=_by_id):
        everything.append(entity)
        for service in entity.services:
            by_tool.setdefault(f"{entity.domain}.{service}", []).append(entity)
    tools = {
        name: Tool(
            name,
            descriptions.get(
                name, f"{name.split('.')[1].replace('_', ' ')} a {name.split('.')[0]}"
            ),
            tuple(e.entity_id for e in members),
            _tool_schema(name, members),
        )
        for name, members in sorted(by_tool.items())
    }
    if everything:
        tools[STATE_TOOL] = Tool(
            STATE_TOOL,
            descriptions.get(STATE_TOOL, "read the current state of an entity without changing it"),
            tuple(e.entity_id for e in everything),
            _object_schema([e.entity_id for e in everything], {}),
        )
    return tools


def _tool_schema(tool: str, members: list[Entity]) -> dict[str, Any]:
    """One object schema, or ``anyOf`` over groups of entities whose arguments differ."""
    service = tool.split(".", 1)[1]
    groups: dict[tuple[tuple[str, ArgSpec], ...], list[str]] = {}
    for entity in members:
        key = tuple(sorted(entity.services[service].items()))
        groups.setdefault(key, []).append(entity.entity_id)
    schemas = [_object_schema(ids, dict(key)) for key, ids in groups.items()]
    return schemas[0] if len(schemas) == 1 else {"anyOf": schemas}


def _object_schema(entity_ids: list[str], args: Mapping[str, ArgSpec]) -> dict[str, Any]:
    properties: dict[str, Any] = {"entity_id": {"type": "string", "enum": entity_ids}}
    properties.update({name: spec.schema() for name, spec in args.items()})
    required = ["entity_id"] + [name for name, spec in args.items() if spec.required]
    return {
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": False,
    }


def _plain_number(value: float, kind: ArgType) -> float | int:
    return int(value) if kind == "integer" or float(value).is_integer() else value


def _fmt(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _show(value: Any) -> str:
    text = repr(value) if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= 40 else text[:37] + "..."
