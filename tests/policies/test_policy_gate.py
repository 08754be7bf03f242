"""Gate decision tables for the documented rule order, limits, windows and egress."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from policy_builders import NOW, policy_data

from edgeward.policies.document import Policy, policy_from_data
from edgeward.policies.gate import (
    CallRequest,
    Gate,
    LocalSettings,
    audit_event,
    decide_egress,
    specificity,
)

RULES: list[dict[str, Any]] = [
    {"id": "light-domain", "domain": "light", "effect": "allow"},
    {
        "id": "light-on-args",
        "tool": "light.turn_on",
        "effect": "allow",
        "args": {"brightness": {"min": 0, "max": 255}, "flash": {"enum": ["short"]}},
    },
    {"id": "garage-area", "area": "garage", "effect": "allow"},
    {"id": "cover-open-deny", "tool": "cover.open_cover", "effect": "deny"},
    {"id": "front-door", "entity_id": "lock.front_door", "effect": "allow"},
    {"id": "lock-unlock", "tool": "lock.unlock", "effect": "deny"},
    {"id": "lock-domain", "domain": "lock", "effect": "allow"},
    {"id": "upstream-no-locks", "domain": "lock", "sources": ["ask_upstream"], "effect": "deny"},
    {"id": "kitchen-glob", "glob": "switch.kitchen_*", "effect": "confirm"},
    {"id": "kitchen-area", "area": "kitchen", "effect": "allow"},
    {"id": "fan-allow", "domain": "fan", "effect": "allow"},
    {"id": "fan-confirm", "domain": "fan", "effect": "confirm"},
    {"id": "fan-guests", "domain": "fan", "clients": ["guest-*"], "effect": "deny"},
    {
        "id": "media-a",
        "domain": "media_player",
        "effect": "allow",
        "args": {"volume_level": {"max": 0.5}},
    },
    {"id": "media-b", "domain": "media_player", "effect": "allow"},
    {
        "id": "quiet-hours",
        "domain": "media_player",
        "when": ["* 22-23,0-6 * * *"],
        "effect": "deny",
    },
    {
        "id": "thermostat",
        "domain": "climate",
        "effect": "allow",
        "args": {"temperature": {"min": 16, "max": 24}},
    },
]

POLICY = policy_from_data(policy_data(rules=RULES, timezone="Europe/Paris"))
PARIS_2330 = datetime(2026, 11, 26, 22, 30, tzinfo=UTC)  # 23:30 in Paris (UTC+1)


def req(
    tool: str,
    entity: str | None = None,
    area: str | None = None,
    source: str = "mqtt_call",
    client: str | None = None,
    at: datetime = NOW,
    **args: Any,
) -> CallRequest:
    return CallRequest(tool, entity, area, args, source, client, at)


TABLE = [
    # (why, request, effect, rule)
    ("domain allow", req("light.turn_off", "light.hall"), "allow", "light-domain"),
    (
        "tool beats domain",
        req("light.turn_on", "light.hall", brightness=10),
        "allow",
        "light-on-args",
    ),
    ("area allow", req("switch.turn_on", "switch.saw", "garage"), "allow", "garage-area"),
    (
        "deny beats allow at equal specificity (tool vs area)",
        req("cover.open_cover", "cover.garage", "garage"),
        "deny",
        "cover-open-deny",
    ),
    ("entity beats tool", req("lock.unlock", "lock.front_door"), "allow", "front-door"),
    ("tool deny beats domain allow", req("lock.unlock", "lock.back_door"), "deny", "lock-unlock"),
    (
        "domain allow for other lock tools",
        req("lock.lock", "lock.back_door"),
        "allow",
        "lock-domain",
    ),
    (
        "source condition is more specific",
        req("lock.lock", "lock.back_door", source="ask_upstream"),
        "deny",
        "upstream-no-locks",
    ),
    (
        "glob beats area",
        req("switch.turn_on", "switch.kitchen_kettle", "kitchen"),
        "confirm",
        "kitchen-glob",
    ),
    (
        "area when glob misses",
        req("switch.turn_on", "switch.radio", "kitchen"),
        "allow",
        "kitchen-area",
    ),
    (
        "confirm beats allow at equal specificity",
        req("fan.turn_on", "fan.attic"),
        "confirm",
        "fan-confirm",
    ),
    (
        "client condition",
        req("fan.turn_on", "fan.attic", client="guest-phone"),
        "deny",
        "fan-guests",
    ),
    (
        "client condition misses",
        req("fan.turn_on", "fan.attic", client="alice"),
        "confirm",
        "fan-confirm",
    ),
    (
        "earlier rule wins a full tie",
        req("media_player.volume_set", "media_player.tv", volume_level=0.3),
        "allow",
        "media-a",
    ),
    (
        "time window in the policy time zone",
        req("media_player.play", "media_player.tv", at=PARIS_2330),
        "deny",
        "quiet-hours",
    ),
    ("no rule: policy default", req("vacuum.start", "vacuum.robo"), "deny", None),
]


@pytest.mark.parametrize(("why", "request_", "effect", "rule"), TABLE, ids=[t[0] for t in TABLE])
def test_rule_order_table(why: str, request_: CallRequest, effect: str, rule: str | None) -> None:
    decision = Gate(POLICY).decide(request_)
    assert (decision.effect, decision.rule_id) == (effect, rule), decision.reason
    assert decision.policy_version == POLICY.version


def test_specificity_points_are_as_documented() -> None:
    points = {r.id: specificity(r) for r in POLICY.rules}
    assert points["front-door"] == 8
    assert points["kitchen-glob"] == 4
    assert points["garage-area"] == points["lock-unlock"] == 2
    assert points["light-domain"] == 1
    assert points["upstream-no-locks"] == points["fan-guests"] == points["quiet-hours"] == 2


@pytest.mark.parametrize(
    ("temperature", "effect", "violation"),
    [
        (16, "allow", None),
        (24.0, "allow", None),
        (30, "deny", "temperature=30 is above the maximum 24"),
        (5, "deny", "temperature=5 is below the minimum 16"),
        ("hot", "deny", "temperature='hot' is not a number"),
        (True, "deny", "temperature=True is not a number"),
    ],
)
def test_argument_range(temperature: Any, effect: str, violation: str | None) -> None:
    decision = Gate(POLICY).decide(
        req("climate.set_temperature", "climate.living", temperature=temperature)
    )
    assert decision.effect == effect
    assert decision.violations == (() if violation is None else (violation,))
    assert decision.rule_id == "thermostat"


def test_several_violations_are_all_reported() -> None:
    decision = Gate(POLICY).decide(req("light.turn_on", "light.hall", brightness=300, flash="long"))
    assert decision.effect == "deny" and len(decision.violations) == 2
    assert "flash='long' is not one of ['short']" in decision.violations


def test_local_settings_veto_a_policy_allow() -> None:
    local = LocalSettings(
        deny_tools=frozenset({"cover.*"}), deny_entities=frozenset({"lock.front_door"})
    )
    gate = Gate(POLICY, local)
    assert gate.decide(req("lock.unlock", "lock.front_door")).rule_id == "local:deny_entities"
    decision = gate.decide(req("cover.close_cover", "cover.garage", "garage"))
    assert (decision.effect, decision.rule_id) == ("deny", "local:deny_tools")


def test_no_policy_allows_unless_local_settings_deny() -> None:
    gate = Gate(None, LocalSettings(deny_tools=frozenset({"lock.unlock"})))
    assert gate.decide(req("lock.lock", "lock.front_door")).effect == "allow"
    assert gate.decide(req("lock.unlock", "lock.front_door")).effect == "deny"


def test_expired_policy_falls_back_to_local_settings() -> None:
    late = POLICY.expires_at + timedelta(seconds=1)
    decision = Gate(POLICY).decide(req("vacuum.start", "vacuum.robo", at=late))
    assert decision.effect == "allow" and "expired" in decision.reason


def test_time_window_outside_hours_lets_the_next_rule_decide() -> None:
    noon = Gate(POLICY).decide(req("media_player.play", "media_player.tv", at=NOW))
    assert noon.rule_id == "media-a"


def test_time_window_weekdays_and_rule_time_zone() -> None:
    rules = [
        {"id": "default", "effect": "allow"},
        {
            "id": "workdays",
            "domain": "lock",
            "effect": "deny",
            "when": ["0-59 8-17 * * 1-5"],
            "timezone": "America/New_York",
        },
    ]
    gate = Gate(policy_from_data(policy_data(rules=rules)))
    thursday_9_ny = datetime(2026, 11, 26, 14, 0, tzinfo=UTC)
    saturday_9_ny = datetime(2026, 11, 28, 14, 0, tzinfo=UTC)
    thursday_7_ny = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    assert gate.decide(req("lock.lock", "lock.a", at=thursday_9_ny)).rule_id == "workdays"
    assert gate.decide(req("lock.lock", "lock.a", at=saturday_9_ny)).rule_id == "default"
    assert gate.decide(req("lock.lock", "lock.a", at=thursday_7_ny)).rule_id == "default"


class FakeMonotonic:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def _limited(scope: str) -> Policy:
    rule = {
        "id": "switch-rate",
        "domain": "switch",
        "effect": "allow",
        "rate_limit": {"max": 2, "per_seconds": 60, "scope": scope},
    }
    return policy_from_data(policy_data(rules=[rule]))


def test_rate_limit_per_tool_sliding_window() -> None:
    clock = FakeMonotonic()
    gate = Gate(_limited("tool"), clock=clock)
    on = [gate.decide(req("switch.turn_on", f"switch.s{i}")).effect for i in range(3)]
    assert on == ["allow", "allow", "deny"]
    assert gate.decide(req("switch.turn_off", "switch.s0")).effect == "allow"  # other tool
    clock.t += 59
    assert gate.decide(req("switch.turn_on", "switch.s0")).effect == "deny"
    clock.t += 1.5
    denied = gate.decide(req("switch.turn_on", "switch.s0"))
    assert denied.effect == "allow"


def test_rate_limit_per_entity_and_reason() -> None:
    gate = Gate(_limited("entity"), clock=FakeMonotonic())
    for _ in range(2):
        assert gate.decide(req("switch.turn_on", "switch.a")).effect == "allow"
    decision = gate.decide(req("switch.toggle", "switch.a"))
    assert (
        decision.effect == "deny"
        and "rate limit of rule switch-rate: 2 per 60 s" in decision.reason
    )
    assert gate.decide(req("switch.turn_on", "switch.b")).effect == "allow"


def test_rate_limit_windows_survive_a_policy_update_for_the_same_rule() -> None:
    gate = Gate(_limited("tool"), clock=FakeMonotonic())
    gate.decide(req("switch.turn_on", "switch.a"))
    gate.decide(req("switch.turn_on", "switch.a"))
    gate.update(
        policy_from_data(policy_data(version=3, rules=[_limited("tool").rules[0].model_dump()]))
    )
    assert gate.decide(req("switch.turn_on", "switch.a")).effect == "deny"


def test_audit_event_carries_no_argument_values() -> None:
    request = req("notify.send", "notify.phone", message="call Alice at 555-0100")
    event = audit_event(request, Gate(None).decide(request))
    assert event["arg_names"] == ["message"]
    assert "Alice" not in str(event)


# --------------------------------------------------------------------------- egress

EGRESS = policy_from_data(
    policy_data(
        upstreams=[
            {"name": "eu-llm", "url": "https://llm.example.eu/v1", "region": "eu"},
            {
                "name": "us-llm",
                "url": "https://llm.example.com/v1",
                "region": "us",
                "allowed": False,
            },
            {"name": "local-llm", "url": "http://127.0.0.1:8080/v1", "region": "home"},
        ],
        residency={
            "free_text": "redact",
            "person_name": {"action": "redact", "destinations": {"local-llm": "allow"}},
            "email": {"action": "local_only", "destinations": {"local-llm": "drop"}},
            "badge_id": {"action": "drop", "pattern": "B-[0-9]{6}"},
        },
    )
)


@pytest.mark.parametrize(
    ("classes", "destination", "allowed", "actions"),
    [
        ({"free_text"}, "eu-llm", True, {"free_text": "redact"}),
        (
            {"free_text", "person_name"},
            "local-llm",
            True,
            {"free_text": "redact", "person_name": "allow"},
        ),
        ({"free_text", "email"}, "eu-llm", False, {"free_text": "redact", "email": "local_only"}),
        ({"email", "badge_id"}, "local-llm", True, {"email": "drop", "badge_id": "drop"}),
        ({"health"}, "eu-llm", False, {"health": "local_only"}),  # unlisted class stays local
        ({"free_text"}, "us-llm", False, {}),  # destination not allowed
        ({"free_text"}, "elsewhere", False, {}),  # unknown destination
    ],
)
def test_egress_table(
    classes: set[str], destination: str, allowed: bool, actions: dict[str, str]
) -> None:
    decision = decide_egress(EGRESS, classes, destination, NOW)
    assert decision.allowed is allowed, decision.reason
    assert decision.actions == actions


def test_egress_default_is_nothing_leaves() -> None:
    assert not decide_egress(None, set(), "eu-llm", NOW).allowed
    late = EGRESS.expires_at
    expired = decide_egress(EGRESS, {"free_text"}, "eu-llm", late)
    assert not expired.allowed and "expired" in expired.reason


def test_custom_patterns_for_the_redactor() -> None:
    assert EGRESS.custom_patterns() == {"badge_id": "B-[0-9]{6}"}
