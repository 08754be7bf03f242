"""The policy schema: TOML and JSON loading, field-naming errors, cron windows, triggers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from policy_builders import policy_data

from edgeward.policies.document import (
    CronWindow,
    PolicyDocumentError,
    policy_canonical_bytes,
    policy_from_data,
    policy_from_json,
    policy_from_toml,
    topic_filter_matches,
)

EXAMPLE = """
version = 7
issued_at = 2026-11-01T00:00:00Z
expires_at = 2027-01-01T00:00:00+01:00
gateways = ["home-*"]
timezone = "Europe/Paris"

[[rules]]
id = "thermostat-range"
domain = "climate"
effect = "allow"
args.temperature = { min = 16, max = 24 }
rate_limit = { max = 10, per_seconds = 60, scope = "entity" }

[[rules]]
id = "no-upstream-locks"
domain = "lock"
effect = "deny"
sources = ["ask_upstream", "trigger"]
when = ["* 22-23,0-6 * * *"]

[[upstreams]]
name = "eu-llm"
url = "https://llm.example.eu/v1"
region = "eu"

[residency]
free_text = "redact"
email = { action = "local_only", destinations = { eu-llm = "redact" } }
badge_id = { action = "redact", pattern = "B-[0-9]{6}" }

[[triggers]]
id = "porch-at-night"
topic = "zigbee2mqtt/+/contact"
conditions = [
  { path = "contact", op = "eq", value = false },
  { path = "battery", op = "gt", value = 5 },
]
calls = [{ tool = "light.turn_on", args = { entity_id = "light.porch" } }]
"""


def test_toml_example_loads() -> None:
    policy = policy_from_toml(EXAMPLE)
    assert policy.version == 7 and policy.targets("home-1") and not policy.targets("office")
    assert policy.expires_at == datetime(2026, 12, 31, 23, 0, tzinfo=UTC)
    assert policy.rules[0].args["temperature"].max == 24
    assert policy.residency["email"].action_for("eu-llm") == "redact"
    assert policy.residency["email"].action_for("other") == "local_only"


def test_canonical_json_round_trip_is_stable() -> None:
    policy = policy_from_toml(EXAMPLE)
    canonical = policy_canonical_bytes(policy)
    again = policy_from_json(canonical)
    assert again == policy and policy_canonical_bytes(again) == canonical
    assert b'": ' not in canonical and b', "' not in canonical  # no insignificant white space
    assert canonical.index(b'"default_effect"') < canonical.index(b'"version"')  # sorted keys


def test_malformed_toml_says_where() -> None:
    with pytest.raises(PolicyDocumentError, match=r"not valid TOML.*line 2"):
        policy_from_toml("version = 1\nrules = = 2\n")


def test_malformed_json() -> None:
    with pytest.raises(PolicyDocumentError, match="not valid UTF-8 JSON"):
        policy_from_json(b'{"version": 1,')
    with pytest.raises(PolicyDocumentError, match="top level must be a table"):
        policy_from_json(b"[1, 2]")


@pytest.mark.parametrize(
    ("change", "field", "value"),
    [
        ({"version": "seven"}, "version", "'seven'"),
        ({"version": 0}, "version", "0"),
        ({"gateways": []}, "gateways", "list"),
        ({"default_effect": "maybe"}, "default_effect", "'maybe'"),
        ({"timezone": "Mars/Olympus"}, "timezone", "'Mars/Olympus'"),
        ({"expires_at": "2026-10-01T00:00:00Z"}, "(top level)", "expires_at must be after"),
        ({"issued_at": "2026-11-01T00:00:00"}, "issued_at", "no time zone"),
        (
            {"rules": [{"id": "x", "effect": "allow", "tool": "light.on", "domain": "lock"}]},
            "rules.0",
            "not in domain",
        ),
        (
            {"rules": [{"id": "x", "effect": "allow", "when": ["* 25 * * *"]}]},
            "rules.0.when",
            "outside 0-23",
        ),
        (
            {"rules": [{"id": "x", "effect": "allow", "sources": ["radio"]}]},
            "rules.0.sources.0",
            "'radio'",
        ),
        (
            {"rules": [{"id": "x", "effect": "allow", "args": {"t": {"min": 5, "max": 1}}}]},
            "rules.0.args.t",
            "greater than max",
        ),
        (
            {"rules": [{"id": "x", "effect": "allow", "colour": "red"}]},
            "rules.0.colour",
            "Extra inputs",
        ),
        (
            {"rules": [{"id": "x", "effect": "allow"}, {"id": "x", "effect": "deny"}]},
            "(top level)",
            "duplicate id",
        ),
        (
            {"upstreams": [{"name": "a", "url": "ftp://x", "region": "eu"}]},
            "upstreams.0.url",
            "'ftp://x'",
        ),
        ({"residency": {"shoe_size": "redact"}}, "(top level)", "custom classes need a 'pattern'"),
        (
            {"residency": {"email": {"action": "redact", "pattern": "x+"}}},
            "(top level)",
            "built-in class",
        ),
        (
            {"residency": {"email": {"action": "redact", "destinations": {"nowhere": "allow"}}}},
            "(top level)",
            "not among upstreams",
        ),
        ({"residency": {"email": "leak"}}, "residency.email.action", "'leak'"),
        (
            {"residency": {"tag": {"action": "redact", "pattern": "a*"}}},
            "residency.tag.pattern",
            "empty string",
        ),
        (
            {"triggers": [{"id": "t", "topic": "a/#/b", "ask": "hi"}]},
            "triggers.0.topic",
            "not a valid MQTT topic filter",
        ),
        (
            {"triggers": [{"id": "t", "topic": "a/b"}]},
            "triggers.0",
            "exactly one of 'calls' or 'ask'",
        ),
    ],
)
def test_wrong_values_name_the_field(change: dict[str, object], field: str, value: str) -> None:
    with pytest.raises(PolicyDocumentError) as caught:
        policy_from_data(policy_data(**change))
    message = str(caught.value)
    assert f"{field}:" in message and value in message, message


@pytest.mark.parametrize(
    ("expression", "moment", "inside"),
    [
        ("* * * * *", datetime(2026, 1, 1, 0, 0), True),
        ("*/15 9-17 * * 1-5", datetime(2026, 11, 26, 9, 30), True),  # Thursday
        ("*/15 9-17 * * 1-5", datetime(2026, 11, 26, 9, 31), False),
        ("*/15 9-17 * * 1-5", datetime(2026, 11, 28, 9, 30), False),  # Saturday
        ("0 0 * * 7", datetime(2026, 11, 29, 0, 0), True),  # Sunday as 7
        ("0 0 * * 0", datetime(2026, 11, 29, 0, 0), True),  # Sunday as 0
        ("0 0 1 * 1", datetime(2026, 11, 30, 0, 0), True),  # Monday: day fields OR
        ("0 0 1 * 1", datetime(2026, 11, 29, 0, 0), False),
        ("* * * 12 *", datetime(2026, 11, 29, 0, 0), False),
    ],
)
def test_cron_window(expression: str, moment: datetime, inside: bool) -> None:
    assert CronWindow(expression).contains(moment) is inside


@pytest.mark.parametrize(
    "expression", ["* * * *", "60 * * * *", "*/0 * * * *", "a * * * *", "5-2 * * * *"]
)
def test_cron_window_rejects(expression: str) -> None:
    with pytest.raises(ValueError, match=r"cron|minute"):
        CronWindow(expression)


@pytest.mark.parametrize(
    ("topic_filter", "topic", "matches"),
    [
        ("a/+/c", "a/b/c", True),
        ("a/+/c", "a/b/d", False),
        ("a/#", "a", True),
        ("a/#", "a/b/c", True),
        ("+/b", "$SYS/b", False),
        ("a/b", "a/b/c", False),
    ],
)
def test_topic_filters(topic_filter: str, topic: str, matches: bool) -> None:
    assert topic_filter_matches(topic_filter, topic) is matches


def test_trigger_conditions() -> None:
    trigger = policy_from_toml(EXAMPLE).triggers[0]
    assert trigger.matches("zigbee2mqtt/porch/contact", {"contact": False, "battery": 80})
    assert not trigger.matches("zigbee2mqtt/porch/contact", {"contact": True, "battery": 80})
    assert not trigger.matches("zigbee2mqtt/porch/contact", {"contact": False, "battery": "80"})
    assert not trigger.matches("zigbee2mqtt/porch/contact", {"contact": False})
    assert not trigger.matches("zigbee2mqtt/porch", {"contact": False, "battery": 80})


def test_a_trigger_has_a_topic_or_a_time_never_both() -> None:
    base = {"id": "t", "calls": [{"tool": "light.turn_on", "args": {}}]}
    from edgeward.policies.document import Trigger

    assert Trigger.model_validate({**base, "at": "30 6 * * 1-5"}).matches("a/b", {}) is False
    for bad, message in (
        ({**base}, "exactly one of 'topic'"),
        ({**base, "topic": "a/b", "at": "0 7 * * *"}, "exactly one of 'topic'"),
        ({**base, "at": "every morning"}, "5 fields"),
        ({**base, "at": "0 7 * * *", "conditions": [{"path": "x"}]}, "need 'topic'"),
    ):
        with pytest.raises(ValueError, match=message):
            Trigger.model_validate(bad)
