"""The gate: the one deterministic decision every tool call and every egress passes.

``Gate.decide(request)`` returns a :class:`Decision` (``allow``, ``deny`` or ``confirm``, the
rule that decided, why, and argument constraint violations). The order is fixed:

1. **Local settings veto.** A tool or entity on the local deny lists is denied, whatever the
   policy says (the box owner's last word).
2. **No policy, or the policy expired** at the request time: allowed (the built-in default for
   actuation is the local settings).
3. **Most specific matching rule wins.** A rule matches when all its matchers and conditions
   hold. Its specificity is the sum of points for what it names: ``entity_id`` 8, ``glob`` 4,
   ``area`` 2, ``tool`` 2, ``domain`` 1, and 1 each for ``sources``, ``clients`` and ``when``.
   At equal specificity ``deny`` beats ``confirm`` beats ``allow``; then the earlier rule in
   the document wins.
4. **No rule matches:** the policy's ``default_effect`` (``deny`` unless it says otherwise).
5. **The winning rule's limits:** when it allows or asks for confirmation, its argument
   constraints must hold and its rate limit must have room (allowed and confirmed calls count
   in a sliding window per tool or per entity); otherwise the call is denied, naming the rule.

``decide_egress`` is the border's counterpart: which data classes may go to which upstream.
"""

from __future__ import annotations

import re
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from fnmatch import fnmatchcase, translate
from typing import Any
from zoneinfo import ZoneInfo

from edgeward.policies.document import (
    SOURCES,
    CronWindow,
    Effect,
    Policy,
    ResidencyAction,
    Source,
    ToolRule,
)

_EFFECT_RANK: dict[str, int] = {"deny": 0, "confirm": 1, "allow": 2}
_POINTS = {"entity_id": 8, "glob": 4, "area": 2, "tool": 2, "domain": 1}
_CACHE_LIMIT = 16384


@dataclass(frozen=True, slots=True)
class CallRequest:
    """One proposed tool call. ``domain`` defaults to the part of ``tool`` before the dot;
    ``at`` must be time-zone aware."""

    tool: str
    entity_id: str | None
    area: str | None
    args: Mapping[str, Any]
    source: Source
    client_id: str | None
    at: datetime
    domain: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError(f"CallRequest.at must be time-zone aware, got {self.at.isoformat()}")
        if self.source not in SOURCES:
            raise ValueError(f"CallRequest.source {self.source!r} is not one of {SOURCES}")


@dataclass(frozen=True, slots=True)
class Decision:
    effect: Effect
    rule_id: str | None
    reason: str
    violations: tuple[str, ...] = ()
    policy_version: int | None = None


@dataclass(frozen=True)
class LocalSettings:
    """The box's own deny lists (fnmatch patterns such as ``lock.*``)."""

    deny_tools: frozenset[str] = frozenset()
    deny_entities: frozenset[str] = frozenset()


def specificity(rule: ToolRule) -> int:
    points = sum(p for name, p in _POINTS.items() if getattr(rule, name) is not None)
    return points + sum(1 for c in (rule.sources, rule.clients, rule.when) if c is not None)


def _any_pattern(patterns: Iterable[str]) -> Callable[[str], bool]:
    ordered = sorted(patterns)
    if not ordered:
        return lambda _value: False
    regex = re.compile("|".join(f"(?:{translate(p)})" for p in ordered))
    return lambda value: regex.match(value) is not None


class _Compiled:
    __slots__ = (
        "area",
        "clients",
        "domain",
        "effect",
        "entity_id",
        "glob",
        "rule",
        "sources",
        "tool",
        "tz",
        "windows",
    )

    def __init__(self, rule: ToolRule, policy_tz: str) -> None:
        self.rule = rule
        self.effect = rule.effect
        self.tool, self.domain = rule.tool, rule.domain
        self.entity_id, self.glob, self.area = rule.entity_id, rule.glob, rule.area
        self.sources = None if rule.sources is None else frozenset(rule.sources)
        self.clients = None if rule.clients is None else _any_pattern(rule.clients)
        self.windows = None if rule.when is None else [CronWindow(w) for w in rule.when]
        self.tz = ZoneInfo(rule.timezone or policy_tz)

    def static_match(self, tool: str, domain: str, entity_id: str | None, area: str | None) -> bool:
        if self.tool is not None and self.tool != tool:
            return False
        if self.domain is not None and self.domain != domain:
            return False
        if self.entity_id is not None and self.entity_id != entity_id:
            return False
        if self.area is not None and self.area != area:
            return False
        return self.glob is None or (entity_id is not None and fnmatchcase(entity_id, self.glob))

    def dynamic_match(self, request: CallRequest) -> bool:
        if self.sources is not None and request.source not in self.sources:
            return False
        if self.clients is not None and (
            request.client_id is None or not self.clients(request.client_id)
        ):
            return False
        if self.windows is not None:
            local = request.at.astimezone(self.tz)
            return any(w.contains(local) for w in self.windows)
        return True


class SlidingWindow:
    """Timestamps of recent uses per key, pruned on access."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._uses: dict[tuple[str, str], deque[float]] = {}

    def take(self, key: tuple[str, str], limit: int, per_seconds: float) -> bool:
        """Record one use and return True when fewer than ``limit`` happened in the window."""
        with self._lock:
            now = self._clock()
            uses = self._uses.setdefault(key, deque())
            while uses and uses[0] <= now - per_seconds:
                uses.popleft()
            if len(uses) >= limit:
                return False
            uses.append(now)
            return True

    def keep_only(self, rule_ids: set[str]) -> None:
        self._uses = {k: v for k, v in self._uses.items() if k[0] in rule_ids}


class Gate:
    """The gate for one policy (or none). Deterministic for a given policy, settings, request
    sequence and clock; the only state is the rate-limit windows (safe to share between
    threads). ``update`` swaps the policy and keeps the windows of rules whose id survives;
    call it from the thread that decides, or between decisions."""

    def __init__(
        self,
        policy: Policy | None,
        local: LocalSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._local = local or LocalSettings()
        self._denied_tool = _any_pattern(self._local.deny_tools)
        self._denied_entity = _any_pattern(self._local.deny_entities)
        self._limits = SlidingWindow(clock)
        self.update(policy)

    @property
    def policy(self) -> Policy | None:
        return self._policy

    def update(self, policy: Policy | None) -> None:
        self._policy = policy
        self._rules: list[_Compiled] = []
        if policy is not None:
            indexed = [
                (-specificity(r), _EFFECT_RANK[r.effect], i, r) for i, r in enumerate(policy.rules)
            ]
            self._rules = [_Compiled(r, policy.timezone) for *_, r in sorted(indexed)]
        self._candidates: dict[tuple[str, str, str | None, str | None], tuple[_Compiled, ...]] = {}
        self._limits.keep_only({r.rule.id for r in self._rules})

    def _candidates_for(
        self, tool: str, domain: str, entity_id: str | None, area: str | None
    ) -> tuple[_Compiled, ...]:
        key = (tool, domain, entity_id, area)
        found = self._candidates.get(key)
        if found is None:
            if len(self._candidates) >= _CACHE_LIMIT:
                self._candidates.clear()
            found = tuple(r for r in self._rules if r.static_match(tool, domain, entity_id, area))
            self._candidates[key] = found
        return found

    def decide(self, request: CallRequest) -> Decision:
        policy = self._policy
        version = None if policy is None else policy.version
        if self._denied_tool(request.tool):
            return Decision(
                "deny",
                "local:deny_tools",
                f"tool {request.tool} is denied by the local settings",
                (),
                version,
            )
        if request.entity_id is not None and self._denied_entity(request.entity_id):
            return Decision(
                "deny",
                "local:deny_entities",
                f"entity {request.entity_id} is denied by the local settings",
                (),
                version,
            )
        if policy is None:
            return Decision("allow", None, "no policy: local settings allow it")
        if request.at >= policy.expires_at:
            return Decision(
                "allow", None, f"policy v{version} expired: local settings allow it", (), None
            )
        domain = request.domain or request.tool.partition(".")[0]
        for compiled in self._candidates_for(request.tool, domain, request.entity_id, request.area):
            if compiled.dynamic_match(request):
                return self._apply(compiled.rule, request, version)
        effect = policy.default_effect
        return Decision(effect, None, f"no rule matches: policy default is {effect}", (), version)

    def _apply(self, rule: ToolRule, request: CallRequest, version: int | None) -> Decision:
        if rule.effect == "deny":
            return Decision("deny", rule.id, f"denied by rule {rule.id}", (), version)
        violations = tuple(
            v
            for name, constraint in rule.args.items()
            if name in request.args
            and (v := constraint.violation(name, request.args[name])) is not None
        )
        if violations:
            reason = f"arguments outside what rule {rule.id} allows"
            return Decision("deny", rule.id, reason, violations, version)
        limit = rule.rate_limit
        if limit is not None:
            subject = request.tool if limit.scope == "tool" else (request.entity_id or request.tool)
            if not self._limits.take((rule.id, subject), limit.max, limit.per_seconds):
                reason = (
                    f"rate limit of rule {rule.id}: {limit.max} per {limit.per_seconds:g} s "
                    f"for {subject}"
                )
                return Decision("deny", rule.id, reason, (), version)
        verb = "allowed" if rule.effect == "allow" else "needs confirmation"
        return Decision(rule.effect, rule.id, f"{verb} by rule {rule.id}", (), version)


def audit_event(request: CallRequest, decision: Decision) -> dict[str, Any]:
    """A gate decision as an audit record: argument names only, never their values."""
    return {
        "kind": "gate",
        "tool": request.tool,
        "entity_id": request.entity_id,
        "area": request.area,
        "arg_names": sorted(request.args),
        "source": request.source,
        "client_id": request.client_id,
        "at": request.at.isoformat(),
        "effect": decision.effect,
        "rule_id": decision.rule_id,
        "reason": decision.reason,
        "violations": list(decision.violations),
        "policy_version": decision.policy_version,
    }


# --------------------------------------------------------------------------- egress


@dataclass(frozen=True)
class EgressDecision:
    """Whether a request holding ``actions``' data classes may go to ``destination``, and
    what the redactor must do with each class (``redact``, ``drop``, ``allow``;
    ``local_only`` classes make ``allowed`` False)."""

    allowed: bool
    destination: str
    reason: str
    actions: dict[str, ResidencyAction] = field(default_factory=dict)


def decide_egress(
    policy: Policy | None, data_classes: Iterable[str], destination: str, now: datetime
) -> EgressDecision:
    """Default deny: no policy, an expired one, an unknown or disallowed destination, or any
    class that is ``local_only`` (or not listed in the policy's residency) keeps it local."""
    if policy is None:
        return EgressDecision(False, destination, "no policy: nothing leaves the box")
    if now >= policy.expires_at:
        return EgressDecision(
            False, destination, f"policy v{policy.version} expired: nothing leaves the box"
        )
    upstream = next((u for u in policy.upstreams if u.name == destination), None)
    if upstream is None:
        return EgressDecision(
            False, destination, f"destination {destination!r} is not in the policy"
        )
    if not upstream.allowed:
        return EgressDecision(False, destination, f"destination {destination!r} may not be used")
    actions: dict[str, ResidencyAction] = {}
    for name in sorted(set(data_classes)):
        rule = policy.residency.get(name)
        actions[name] = "local_only" if rule is None else rule.action_for(destination)
    kept = [name for name, action in actions.items() if action == "local_only"]
    if kept:
        reason = f"data classes {kept} must stay local under policy v{policy.version}"
        return EgressDecision(False, destination, reason, actions)
    return EgressDecision(True, destination, f"allowed by policy v{policy.version}", actions)
