"""Gate throughput and policy verification time.

Run: .venv/bin/pytest tests/bench/test_bench_gate.py -m bench -s

Gate: a 200-rule policy (entity, glob, area, tool and domain rules, some with source, client,
time-window, argument and rate-limit conditions) against a 500-entity catalog, on 20,000
requests. Baseline: a bare dict lookup of (tool, entity_id) -> effect over the same requests,
the least any decision could cost in Python. Verification: a threshold-2 signed envelope of that
policy through ``verify_policy`` (size, envelope, 2 Ed25519 checks, JSON, schema); baseline:
the two bare Ed25519 verifications alone.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edgeward.policies.document import (
    SOURCES,
    canonical_json,
    policy_canonical_bytes,
    policy_from_data,
)
from edgeward.policies.gate import CallRequest, Gate, LocalSettings
from edgeward.policies.signing import (
    POLICY_TYPE,
    ROOT_TYPE,
    load_root,
    pae,
    parse_envelope,
    public_key_text,
    sign_envelope,
    verify_policy,
)

pytestmark = pytest.mark.bench

DOMAINS = {
    "light": ["turn_on", "turn_off", "toggle"],
    "switch": ["turn_on", "turn_off"],
    "climate": ["set_temperature", "set_hvac_mode"],
    "cover": ["open_cover", "close_cover", "set_position"],
    "lock": ["lock", "unlock"],
    "media_player": ["play", "pause", "volume_set"],
    "fan": ["turn_on", "turn_off"],
    "vacuum": ["start", "stop"],
}
AREAS = [f"room_{i}" for i in range(25)]
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def catalog(rng: random.Random) -> list[tuple[str, str]]:
    domains = list(DOMAINS)
    return [(f"{domains[i % len(domains)]}.device_{i}", rng.choice(AREAS)) for i in range(500)]


def big_policy(rng: random.Random, entities: list[tuple[str, str]]) -> dict[str, Any]:
    effects = ["allow", "allow", "allow", "deny", "confirm"]
    rules: list[dict[str, Any]] = []
    for i, (entity, _area) in enumerate(rng.sample(entities, 100)):
        rules.append({"id": f"entity-{i}", "entity_id": entity, "effect": rng.choice(effects)})
    for i in range(40):
        rule: dict[str, Any] = {
            "id": f"area-{i}",
            "area": rng.choice(AREAS),
            "effect": rng.choice(effects),
        }
        if i % 4 == 0:
            rule["sources"] = rng.sample(SOURCES, 2)
        rules.append(rule)
    tools = [f"{d}.{s}" for d, services in DOMAINS.items() for s in services]
    for i in range(30):
        rule = {"id": f"tool-{i}", "tool": rng.choice(tools), "effect": rng.choice(effects)}
        if i % 3 == 0:
            rule["clients"] = ["phone-*", "tablet"]
        if i % 5 == 0:
            rule["when"] = ["* 22-23,0-6 * * *"]
        rules.append(rule)
    for i in range(15):
        rules.append(
            {
                "id": f"domain-{i}",
                "domain": rng.choice(list(DOMAINS)),
                "effect": rng.choice(effects),
            }
        )
    for i in range(10):
        rules.append({"id": f"glob-{i}", "glob": f"*.device_{i}*", "effect": rng.choice(effects)})
    rules.append(
        {
            "id": "thermo",
            "domain": "climate",
            "effect": "allow",
            "args": {"temperature": {"min": 16, "max": 24}},
        }
    )
    rules.append(
        {
            "id": "vacuum-rate",
            "domain": "vacuum",
            "effect": "allow",
            "rate_limit": {"max": 1000, "per_seconds": 1},
        }
    )
    rules.extend(
        {"id": f"pad-{i}", "tool": "fan.turn_on", "area": AREAS[i], "effect": "allow"}
        for i in range(3)
    )
    assert len(rules) == 200
    return {
        "version": 1,
        "issued_at": "2026-11-01T00:00:00Z",
        "expires_at": "2027-11-01T00:00:00Z",
        "gateways": ["bench"],
        "timezone": "Europe/Paris",
        "default_effect": "deny",
        "rules": rules,
    }


def make_requests(rng: random.Random, entities: list[tuple[str, str]], n: int) -> list[CallRequest]:
    out = []
    for _ in range(n):
        entity, area = rng.choice(entities)
        domain = entity.split(".")[0]
        tool = f"{domain}.{rng.choice(DOMAINS[domain])}"
        args = {"temperature": rng.randint(10, 30)} if domain == "climate" else {}
        out.append(
            CallRequest(
                tool,
                entity,
                area,
                args,
                rng.choice(SOURCES),
                rng.choice(["phone-alice", "tablet", None]),
                NOW + timedelta(minutes=rng.randint(0, 1440)),
            )
        )
    return out


def rate(fn: Callable[[], object], count: int, repeat: int = 5) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return count / best


def test_bench_gate_and_verification() -> None:
    rng = random.Random(4)
    entities = catalog(rng)
    data = big_policy(rng, entities)
    policy = policy_from_data(data)
    requests = make_requests(rng, entities, 20_000)

    class Clock:
        t = 0.0

        def __call__(self) -> float:
            self.t += 1e-6
            return self.t

    gate = Gate(policy, LocalSettings(deny_entities=frozenset({"lock.device_4*"})), clock=Clock())
    cold_start = time.perf_counter()
    for request in requests:
        gate.decide(request)
    cold = len(requests) / (time.perf_counter() - cold_start)
    warm = rate(lambda: [gate.decide(r) for r in requests], len(requests))

    table = {(r.tool, r.entity_id): "allow" for r in requests}
    baseline = rate(lambda: [table[(r.tool, r.entity_id)] for r in requests], len(requests))

    keys = [Ed25519PrivateKey.generate() for _ in range(3)]
    root_doc = {
        "version": 1,
        "threshold": 2,
        "keys": [public_key_text(k.public_key()) for k in keys],
    }
    root = load_root(sign_envelope(canonical_json(root_doc), ROOT_TYPE, keys))
    envelope = sign_envelope(policy_canonical_bytes(policy), POLICY_TYPE, keys[:2])
    runs = 30
    verify = rate(
        lambda: [verify_policy(envelope, root, "bench", NOW) for _ in range(runs)], runs, 3
    )
    parsed = parse_envelope(envelope)
    message = pae(parsed.payload_type, parsed.payload)
    pubs = [k.public_key() for k in keys[:2]]
    sigs = [sig for _kid, sig in parsed.signatures]

    def bare() -> None:
        for _ in range(runs):
            for pub, sig in zip(pubs, sigs, strict=True):
                pub.verify(sig, message)

    bare_rate = rate(bare, runs, 3)

    effects = {
        e: sum(1 for r in requests if gate.decide(r).effect == e)
        for e in ("allow", "deny", "confirm")
    }
    print()
    print(f"{'measure':<52}{'value':>16}")
    print(f"{'gate decisions/s, warm (200 rules, 500 entities)':<52}{warm:>16,.0f}")
    print(f"{'gate decisions/s, first pass (cache filling)':<52}{cold:>16,.0f}")
    print(f"{'baseline: bare dict lookup/s':<52}{baseline:>16,.0f}")
    print(f"{'ratio baseline / gate (warm)':<52}{baseline / warm:>16.1f}")
    label = f"policy verification ({len(envelope)} B envelope), ms"
    print(f"{label:<52}{1000 / verify:>16.2f}")
    print(f"{'baseline: 2 bare Ed25519 verifications, ms':<52}{1000 / bare_rate:>16.2f}")
    print(f"{'ratio verification / bare signatures':<52}{bare_rate / verify:>16.1f}")
    print(f"{'decision mix (allow/deny/confirm)':<52}{tuple(effects.values())!s:>16}")
    assert warm > 50_000
