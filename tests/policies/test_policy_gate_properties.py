"""Property tests: the gate agrees with a brute-force reading of the documented rule order,
is deterministic, never lets an allow override a deny of equal specificity, and allows nothing
that no rule or default allows."""

from __future__ import annotations

from datetime import datetime, timedelta
from fnmatch import fnmatchcase
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from policy_builders import NOW, policy_data

from edgeward.policies.document import SOURCES, CronWindow, Policy, ToolRule, policy_from_data
from edgeward.policies.gate import CallRequest, Decision, Gate, LocalSettings, specificity

DOMAINS = ["light", "lock", "switch"]
TOOLS = [f"{d}.{s}" for d in DOMAINS for s in ("turn_on", "turn_off", "unlock")]
ENTITIES = [f"{d}.{n}" for d in DOMAINS for n in ("a", "b", "kitchen_1")]
AREAS = ["kitchen", "garage"]
CLIENTS = ["alice", "guest-1"]
WINDOWS = ["* 8-17 * * *", "* * * * 1-5", "0-29 * * * *"]
RANK = {"deny": 0, "confirm": 1, "allow": 2}


@st.composite
def rules(draw: st.DrawFn, index: int) -> dict[str, Any]:
    rule: dict[str, Any] = {"id": f"r{index}", "effect": draw(st.sampled_from(list(RANK)))}
    if draw(st.booleans()):
        tool = draw(st.sampled_from(TOOLS))
        rule["tool"] = tool
        if draw(st.booleans()):
            rule["domain"] = tool.split(".")[0]
    elif draw(st.booleans()):
        rule["domain"] = draw(st.sampled_from(DOMAINS))
    for key, values in (
        ("entity_id", ENTITIES),
        ("area", AREAS),
        ("glob", ["light.*", "*.a", "*kitchen*"]),
    ):
        if draw(st.integers(0, 3)) == 0:
            rule[key] = draw(st.sampled_from(values))
    if draw(st.integers(0, 3)) == 0:
        rule["sources"] = draw(
            st.lists(st.sampled_from(SOURCES), min_size=1, max_size=3, unique=True)
        )
    if draw(st.integers(0, 4)) == 0:
        rule["clients"] = draw(
            st.lists(st.sampled_from(["alice", "guest-*"]), min_size=1, unique=True)
        )
    if draw(st.integers(0, 4)) == 0:
        rule["when"] = [draw(st.sampled_from(WINDOWS))]
    return rule


@st.composite
def policies(draw: st.DrawFn) -> Policy:
    count = draw(st.integers(0, 12))
    drawn = [draw(rules(i)) for i in range(count)]
    default = draw(st.sampled_from(list(RANK)))
    tz = draw(st.sampled_from(["UTC", "Europe/Paris", "Asia/Kolkata"]))
    return policy_from_data(policy_data(rules=drawn, default_effect=default, timezone=tz))


@st.composite
def requests(draw: st.DrawFn) -> CallRequest:
    tool = draw(st.sampled_from(TOOLS))
    return CallRequest(
        tool=tool,
        entity_id=draw(st.sampled_from([*ENTITIES, None])),
        area=draw(st.sampled_from([*AREAS, None])),
        args={},
        source=draw(st.sampled_from(SOURCES)),
        client_id=draw(st.sampled_from([*CLIENTS, None])),
        at=NOW + timedelta(minutes=draw(st.integers(0, 7 * 24 * 60))),
    )


def matches(rule: ToolRule, request: CallRequest, policy_tz: str) -> bool:
    """The documented matching semantics, written out plainly."""
    domain = request.tool.split(".")[0]
    entity = request.entity_id
    local = request.at.astimezone(ZoneInfo(rule.timezone or policy_tz))
    return (
        (rule.tool is None or rule.tool == request.tool)
        and (rule.domain is None or rule.domain == domain)
        and (rule.entity_id is None or rule.entity_id == entity)
        and (rule.area is None or rule.area == request.area)
        and (rule.glob is None or (entity is not None and fnmatchcase(entity, rule.glob)))
        and (rule.sources is None or request.source in rule.sources)
        and (
            rule.clients is None
            or (
                request.client_id is not None
                and any(fnmatchcase(request.client_id, c) for c in rule.clients)
            )
        )
        and (rule.when is None or any(CronWindow(w).contains(local) for w in rule.when))
    )


def oracle(policy: Policy, request: CallRequest) -> tuple[str, str | None]:
    candidates = [
        (-specificity(r), RANK[r.effect], i, r)
        for i, r in enumerate(policy.rules)
        if matches(r, request, policy.timezone)
    ]
    if not candidates:
        return policy.default_effect, None
    best = min(candidates, key=lambda c: c[:3])[3]
    return best.effect, best.id


@settings(max_examples=150, deadline=None)
@given(policies(), st.lists(requests(), min_size=1, max_size=25))
def test_gate_agrees_with_the_documented_order(policy: Policy, batch: list[CallRequest]) -> None:
    gate = Gate(policy)  # one gate for the batch: its candidate cache must not change answers
    for request in batch:
        decision = gate.decide(request)
        assert (decision.effect, decision.rule_id) == oracle(policy, request)


@settings(max_examples=100, deadline=None)
@given(policies(), st.lists(requests(), min_size=1, max_size=25))
def test_deny_is_never_overridden_by_allow_at_equal_or_lower_specificity(
    policy: Policy, batch: list[CallRequest]
) -> None:
    gate = Gate(policy)
    for request in batch:
        decision = gate.decide(request)
        if decision.effect == "deny":
            continue
        matching = [r for r in policy.rules if matches(r, request, policy.timezone)]
        winner = max((specificity(r) for r in matching), default=-1)
        denies = [r for r in matching if r.effect == "deny"]
        assert all(specificity(r) < winner for r in denies), (decision, denies)


@settings(max_examples=100, deadline=None)
@given(policies(), st.lists(requests(), min_size=1, max_size=25))
def test_nothing_is_allowed_unless_a_rule_or_the_default_allows(
    policy: Policy, batch: list[CallRequest]
) -> None:
    gate = Gate(policy)
    by_id = {r.id: r for r in policy.rules}
    for request in batch:
        decision = gate.decide(request)
        if decision.effect != "allow":
            continue
        if decision.rule_id is None:
            assert policy.default_effect == "allow"
            assert not any(matches(r, request, policy.timezone) for r in policy.rules)
        else:
            rule = by_id[decision.rule_id]
            assert rule.effect == "allow" and matches(rule, request, policy.timezone)


class Tick:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        self.t += 7.0
        return self.t


@settings(max_examples=100, deadline=None)
@given(policies(), st.lists(requests(), min_size=1, max_size=30), st.integers(1, 3))
def test_decisions_are_deterministic(policy: Policy, batch: list[CallRequest], limit: int) -> None:
    data = policy.model_dump(mode="json")
    for rule in data["rules"]:
        rule["rate_limit"] = {"max": limit, "per_seconds": 30}
    limited = policy_from_data(data)
    local = LocalSettings(deny_entities=frozenset({"*.b"}))

    def run() -> list[Decision]:
        gate = Gate(limited, local, clock=Tick())
        return [gate.decide(r) for r in batch]

    assert run() == run()


@settings(max_examples=100, deadline=None)
@given(policies(), requests())
def test_local_deny_wins_whatever_the_source(policy: Policy, request: CallRequest) -> None:
    gate = Gate(policy, LocalSettings(deny_tools=frozenset({request.tool})))
    assert gate.decide(request).effect == "deny"


def test_requests_need_an_aware_time_and_a_known_source() -> None:
    with pytest.raises(ValueError, match="time-zone aware"):
        CallRequest("light.turn_on", "light.a", None, {}, "mqtt_call", None, datetime(2026, 1, 1))
    with pytest.raises(ValueError, match="'radio' is not one of"):
        CallRequest("light.turn_on", "light.a", None, {}, "radio", None, NOW)
