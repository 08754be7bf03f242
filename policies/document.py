"""The policy document: schema, TOML/JSON loading and canonical JSON.

People write policies in TOML; gateways receive them as canonical JSON (sorted keys, no
insignificant white space, UTF-8), which is what gets signed. Every validation error names the
field path and the bad value, for example ``rules.3.args.temperature.min: Input should be a
valid number (got 'warm')``.

A minimal policy::

    version = 7
    issued_at = 2026-11-01T00:00:00Z
    expires_at = 2027-01-01T00:00:00Z
    gateways = ["home-*"]
    timezone = "Europe/Paris"
    default_effect = "deny"

    [[rules]]
    id = "thermostat-range"
    domain = "climate"
    effect = "allow"
    args.temperature = { min = 16, max = 24 }

    [[upstreams]]
    name = "eu-llm"
    url = "https://llm.example.eu/v1"
    region = "eu"

    [residency]
    free_text = "redact"
    email = { action = "local_only", destinations = { eu-llm = "redact" } }
    badge_id = { action = "redact", pattern = "B-[0-9]{6}" }
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from fnmatch import fnmatchcase
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

Effect = Literal["allow", "deny", "confirm"]
Source = Literal["mqtt_call", "ask_local", "ask_upstream", "trigger", "schedule"]
ResidencyAction = Literal["local_only", "redact", "allow", "drop"]

SOURCES: tuple[Source, ...] = ("mqtt_call", "ask_local", "ask_upstream", "trigger", "schedule")

BUILTIN_DATA_CLASSES: frozenset[str] = frozenset(
    {
        "person_name",
        "email",
        "phone",
        "street_address",
        "gps_location",
        "ip_address",
        "mac_address",
        "device_id",
        "iban",
        "card_number",
        "free_text",
        "camera_audio",
        "health",
    }
)

Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^\S+$")]
_CLASS_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class PolicyDocumentError(ValueError):
    """A policy or root document is not valid; the message names the field and the value."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- cron windows


_CRON_FIELDS: tuple[tuple[str, int, int], ...] = (
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
)


def parse_cron_field(text: str, name: str, low: int, high: int) -> frozenset[int]:
    """The values one field of a cron expression names, within ``low``..``high``; ValueError
    naming the field for anything else."""
    values: set[int] = set()
    for part in text.split(","):
        step = 1
        if "/" in part:
            part, step_text = part.split("/", 1)
            if not step_text.isdigit() or int(step_text) == 0:
                raise ValueError(f"{name}: bad step {step_text!r}")
            step = int(step_text)
        if part == "*":
            start, end = low, high
        elif "-" in part:
            a, b = part.split("-", 1)
            if not (a.isdigit() and b.isdigit()):
                raise ValueError(f"{name}: bad range {part!r}")
            start, end = int(a), int(b)
        elif part.isdigit():
            start = end = int(part)
            if step != 1:
                end = high
        else:
            raise ValueError(f"{name}: bad value {part!r}")
        if not (low <= start <= end <= high):
            raise ValueError(f"{name}: {part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return frozenset(values)


class CronWindow:
    """A five-field cron expression (minute hour day-of-month month day-of-week) used as a
    time window: a moment is inside the window when its minute matches the expression.
    Day of week 0 and 7 are Sunday. As in cron, when both day fields are restricted a day
    matches if either does."""

    __slots__ = ("dom", "dom_any", "dow", "dow_any", "expression", "hours", "minutes", "months")

    def __init__(self, expression: str) -> None:
        fields = expression.split()
        if len(fields) != 5:
            raise ValueError(
                f"cron window {expression!r} needs 5 fields (minute hour day month weekday)"
            )
        parsed = [
            parse_cron_field(text, name, low, high)
            for text, (name, low, high) in zip(fields, _CRON_FIELDS, strict=True)
        ]
        self.expression = expression
        self.minutes, self.hours, self.dom, self.months, dow = parsed
        self.dow = frozenset(d % 7 for d in dow)
        self.dom_any = fields[2] == "*"
        self.dow_any = fields[4] == "*"

    def contains(self, moment: datetime) -> bool:
        if moment.minute not in self.minutes or moment.hour not in self.hours:
            return False
        if moment.month not in self.months:
            return False
        dom_ok = moment.day in self.dom
        dow_ok = (moment.isoweekday() % 7) in self.dow
        if self.dom_any or self.dow_any:
            return dom_ok and dow_ok
        return dom_ok or dow_ok


def _check_timezone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {value!r} (use an IANA name such as 'Europe/Paris')"
        ) from exc
    return value


# --------------------------------------------------------------------------- tool rules


class ArgConstraint(_Strict):
    """Bounds for one argument: a numeric range, a set of allowed values, a regex."""

    min: float | None = None
    max: float | None = None
    enum: list[str | int | float | bool] | None = Field(default=None, min_length=1)
    pattern: str | None = None

    @model_validator(mode="after")
    def _consistent(self) -> ArgConstraint:
        if self.min is None and self.max is None and self.enum is None and self.pattern is None:
            raise ValueError("give at least one of min, max, enum, pattern")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is greater than max {self.max}")
        if self.pattern is not None:
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern {self.pattern!r} is not a valid regex: {exc}") from exc
        return self

    def violation(self, name: str, value: Any) -> str | None:
        """Why ``value`` breaks this constraint, or None when it does not."""
        if self.enum is not None and value not in self.enum:
            return f"{name}={value!r} is not one of {self.enum!r}"
        if self.min is not None or self.max is not None:
            if isinstance(value, bool) or not isinstance(value, int | float):
                return f"{name}={value!r} is not a number"
            if self.min is not None and value < self.min:
                return f"{name}={value!r} is below the minimum {self.min:g}"
            if self.max is not None and value > self.max:
                return f"{name}={value!r} is above the maximum {self.max:g}"
        if self.pattern is not None and (
            not isinstance(value, str) or re.fullmatch(self.pattern, value) is None
        ):
            return f"{name}={value!r} does not match {self.pattern!r}"
        return None


class RateLimit(_Strict):
    """At most ``max`` allowed calls per ``per_seconds`` sliding window, counted per tool
    or per entity (``scope``) for the rule that carries it."""

    max: int = Field(ge=1)
    per_seconds: float = Field(gt=0, le=31 * 24 * 3600)
    scope: Literal["tool", "entity"] = "tool"


class ToolRule(_Strict):
    """One rule. Every given matcher must match for the rule to apply; a rule with no
    matcher applies to every call. See ``edgeward.policies.gate`` for the order."""

    id: Name
    effect: Effect
    tool: Name | None = None
    domain: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+$")] | None = None
    entity_id: Name | None = None
    area: Name | None = None
    glob: Name | None = Field(default=None, description="fnmatch pattern on the entity id")
    sources: list[Source] | None = Field(default=None, min_length=1)
    clients: list[Name] | None = Field(default=None, min_length=1)
    when: list[str] | None = Field(default=None, min_length=1)
    timezone: str | None = None
    args: dict[str, ArgConstraint] = Field(default_factory=dict)
    rate_limit: RateLimit | None = None
    description: str | None = Field(default=None, max_length=500)

    @field_validator("when")
    @classmethod
    def _cron(cls, value: list[str] | None) -> list[str] | None:
        for expression in value or ():
            CronWindow(expression)
        return value

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str | None) -> str | None:
        return _check_timezone(value)

    @model_validator(mode="after")
    def _tool_domain(self) -> ToolRule:
        if self.tool is not None and self.domain is not None:
            if self.tool.split(".", 1)[0] != self.domain:
                raise ValueError(f"tool {self.tool!r} is not in domain {self.domain!r}")
        return self


# --------------------------------------------------------------------------- residency


class Upstream(_Strict):
    name: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
    url: str
    region: Annotated[str, StringConstraints(min_length=1, max_length=64)]
    allowed: bool = True

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"{value!r} is not an http(s) URL with a host")
        return value


class ResidencyRule(_Strict):
    """What may happen to one data class on its way out: ``local_only`` (its presence keeps
    the request on the box), ``redact`` (replaced by a placeholder, re-identified locally),
    ``drop`` (removed without a placeholder) or ``allow`` (sent as is)."""

    action: ResidencyAction
    destinations: dict[str, ResidencyAction] = Field(default_factory=dict)
    pattern: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        return {"action": value} if isinstance(value, str) else value

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                compiled = re.compile(value)
            except re.error as exc:
                raise ValueError(f"pattern {value!r} is not a valid regex: {exc}") from exc
            if compiled.match(""):
                raise ValueError(f"pattern {value!r} matches the empty string")
        return value

    def action_for(self, destination: str) -> ResidencyAction:
        return self.destinations.get(destination, self.action)


# --------------------------------------------------------------------------- triggers


class PayloadCondition(_Strict):
    """A test on one field of a JSON payload; ``path`` is dot separated (``"a.b.0"``),
    empty for the whole payload."""

    path: str = ""
    op: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in", "exists"] = "eq"
    value: Any = None

    def holds(self, payload: Any) -> bool:
        found, current = True, payload
        for key in self.path.split(".") if self.path else ():
            if isinstance(current, Mapping) and key in current:
                current = current[key]
            elif isinstance(current, list) and key.isdigit() and int(key) < len(current):
                current = current[int(key)]
            else:
                found = False
                break
        if self.op == "exists":
            return found == (self.value is not False)
        if not found:
            return False
        if self.op == "eq":
            return bool(current == self.value)
        if self.op == "ne":
            return bool(current != self.value)
        if self.op == "in":
            return isinstance(self.value, list) and current in self.value
        if isinstance(current, bool) or not isinstance(current, int | float):
            return False
        if isinstance(self.value, bool) or not isinstance(self.value, int | float):
            return False
        return {
            "gt": current > self.value,
            "gte": current >= self.value,
            "lt": current < self.value,
            "lte": current <= self.value,
        }[self.op]


class ToolCall(_Strict):
    tool: Name
    args: dict[str, Any] = Field(default_factory=dict)


def topic_filter_matches(topic_filter: str, topic: str) -> bool:
    """MQTT topic filter matching with ``+`` and ``#`` wildcards."""
    parts, levels = topic_filter.split("/"), topic.split("/")
    if levels and levels[0].startswith("$") and parts[0] in {"+", "#"}:
        return False
    for index, part in enumerate(parts):
        if part == "#":
            return True
        if index >= len(levels) or (part != "+" and part != levels[index]):
            return False
    return len(parts) == len(levels)


class Trigger(_Strict):
    """When a message on ``topic`` (an MQTT filter) satisfies every condition, or at the times
    of ``at`` (a five-field cron expression in the policy's time zone), run ``calls`` or hand
    ``ask`` to the planner; either way each call passes the gate as source ``trigger``."""

    id: Name
    topic: Annotated[str, StringConstraints(min_length=1, max_length=512)] | None = None
    at: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    conditions: list[PayloadCondition] = Field(default_factory=list)
    calls: list[ToolCall] | None = Field(default=None, min_length=1)
    ask: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None
    area: Name | None = None
    can_wait: bool = False
    """For an ``ask`` going upstream: when the upstream is unreachable, the redacted request
    waits in the outbox and goes when it is back (for reports and summaries, not for actions a
    person waits for)."""

    @field_validator("topic")
    @classmethod
    def _filter(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = value.split("/")
        for index, part in enumerate(parts):
            if ("#" in part and (part != "#" or index != len(parts) - 1)) or (
                "+" in part and part != "+"
            ):
                raise ValueError(f"{value!r} is not a valid MQTT topic filter")
        return value

    @field_validator("at")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None:
            CronWindow(value)  # raises with the field named
        return value

    @model_validator(mode="after")
    def _one_action(self) -> Trigger:
        if (self.calls is None) == (self.ask is None):
            raise ValueError("give exactly one of 'calls' or 'ask'")
        if (self.topic is None) == (self.at is None):
            raise ValueError("give exactly one of 'topic' (a message) or 'at' (a cron time)")
        if self.at is not None and self.conditions:
            raise ValueError("'conditions' test a message's payload: they need 'topic'")
        if self.can_wait and self.ask is None:
            raise ValueError("'can_wait' is for an 'ask' (calls never wait)")
        return self

    def matches(self, topic: str, payload: Any) -> bool:
        return (
            self.topic is not None
            and topic_filter_matches(self.topic, topic)
            and all(c.holds(payload) for c in self.conditions)
        )


# --------------------------------------------------------------------------- the policy


class Policy(_Strict):
    version: int = Field(ge=1)
    issued_at: datetime
    expires_at: datetime
    gateways: list[Name] = Field(min_length=1)
    timezone: str = "UTC"
    default_effect: Effect = "deny"
    rules: list[ToolRule] = Field(default_factory=list)
    upstreams: list[Upstream] = Field(default_factory=list)
    residency: dict[str, ResidencyRule] = Field(default_factory=dict)
    triggers: list[Trigger] = Field(default_factory=list)
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("timezone")
    @classmethod
    def _tz(cls, value: str) -> str:
        return _check_timezone(value) or "UTC"

    @field_validator("issued_at", "expires_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} has no time zone (add Z or +01:00)")
        return value.astimezone(UTC)

    @model_validator(mode="after")
    def _cross_checks(self) -> Policy:
        if self.expires_at <= self.issued_at:
            raise ValueError("expires_at must be after issued_at")
        for label, ids in (
            ("rules", [r.id for r in self.rules]),
            ("triggers", [t.id for t in self.triggers]),
            ("upstreams", [u.name for u in self.upstreams]),
        ):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{label}: duplicate id(s) {dupes}")
        names = {u.name for u in self.upstreams}
        for cls_name, rule in self.residency.items():
            if not _CLASS_NAME.match(cls_name):
                raise ValueError(f"residency.{cls_name}: class names are lower_snake_case")
            if cls_name in BUILTIN_DATA_CLASSES and rule.pattern is not None:
                raise ValueError(
                    f"residency.{cls_name}: built-in class has its own detector; "
                    "define a custom class name for a pattern"
                )
            if cls_name not in BUILTIN_DATA_CLASSES and rule.pattern is None:
                raise ValueError(
                    f"residency.{cls_name}: unknown data class; custom classes need a 'pattern' "
                    f"(built-in: {', '.join(sorted(BUILTIN_DATA_CLASSES))})"
                )
            unknown = sorted(set(rule.destinations) - names)
            if unknown:
                raise ValueError(
                    f"residency.{cls_name}.destinations: {unknown} not among upstreams"
                )
        return self

    def targets(self, gateway_id: str) -> bool:
        return any(fnmatchcase(gateway_id, pattern) for pattern in self.gateways)

    def custom_patterns(self) -> dict[str, str]:
        """Custom data classes and their regexes, for the redactor."""
        return {n: r.pattern for n, r in self.residency.items() if r.pattern is not None}


# --------------------------------------------------------------------------- (de)serialising


def _describe(exc: ValidationError, what: str) -> PolicyDocumentError:
    lines = []
    for error in exc.errors(include_url=False):
        field = ".".join(str(p) for p in error["loc"]) or "(top level)"
        got = error.get("input")
        shown = repr(got) if not isinstance(got, dict | list) else type(got).__name__
        lines.append(f"{field}: {error['msg']} (got {shown[:80]})")
    return PolicyDocumentError(f"{what}: " + "; ".join(lines))


def policy_from_data(data: Any, what: str = "policy") -> Policy:
    if not isinstance(data, dict):
        raise PolicyDocumentError(f"{what}: the top level must be a table/object")
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise _describe(exc, what) from None


def parse_toml(text: str, what: str = "policy") -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyDocumentError(f"{what}: not valid TOML: {exc}") from None


def parse_json(raw: bytes, what: str = "policy") -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PolicyDocumentError(f"{what}: not valid UTF-8 JSON: {exc}") from None


def policy_from_toml(text: str, what: str = "policy") -> Policy:
    return policy_from_data(parse_toml(text, what), what)


def policy_from_json(raw: bytes, what: str = "policy") -> Policy:
    return policy_from_data(parse_json(raw, what), what)


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no white space, UTF-8: the bytes that are signed."""
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def policy_canonical_bytes(policy: Policy) -> bytes:
    return canonical_json(policy.model_dump(mode="json", exclude_none=True))
