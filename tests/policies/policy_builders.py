"""Builders for the policy tests: real Ed25519 keys, real envelopes, a settable clock."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edgeward.policies.document import canonical_json, policy_canonical_bytes, policy_from_data
from edgeward.policies.signing import (
    POLICY_TYPE,
    ROOT_TYPE,
    public_key_text,
    sign_envelope,
)

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
GATEWAY = "home-1"


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


BASE_POLICY: dict[str, Any] = {
    "version": 2,
    "issued_at": "2026-11-01T00:00:00Z",
    "expires_at": "2027-01-01T00:00:00Z",
    "gateways": ["home-*"],
    "default_effect": "deny",
    "rules": [
        {"id": "lights", "domain": "light", "effect": "allow"},
        {
            "id": "thermostat",
            "domain": "climate",
            "effect": "allow",
            "args": {"temperature": {"min": 16, "max": 24}},
        },
        {"id": "locks", "domain": "lock", "effect": "confirm"},
    ],
    "upstreams": [{"name": "eu-llm", "url": "https://llm.example.eu/v1", "region": "eu"}],
    "residency": {"free_text": "redact", "email": "local_only"},
}


def valid_now(days: float = 1) -> dict[str, str]:
    """``issued_at`` and ``expires_at`` around the real clock, for tests of a running gateway."""
    now = datetime.now(UTC)
    return {
        "issued_at": (now - timedelta(days=days)).isoformat(),
        "expires_at": (now + timedelta(days=days)).isoformat(),
    }


def policy_data(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE_POLICY)
    data.update(changes)
    return data


def make_keys(n: int) -> list[Ed25519PrivateKey]:
    return [Ed25519PrivateKey.generate() for _ in range(n)]


def root_envelope(
    keys: list[Ed25519PrivateKey],
    threshold: int,
    version: int = 1,
    signers: list[Ed25519PrivateKey] | None = None,
) -> bytes:
    doc = {
        "version": version,
        "threshold": threshold,
        "keys": [public_key_text(k.public_key()) for k in keys],
    }
    return sign_envelope(canonical_json(doc), ROOT_TYPE, keys if signers is None else signers)


def signed_policy(keys: list[Ed25519PrivateKey], **changes: Any) -> bytes:
    payload = policy_canonical_bytes(policy_from_data(policy_data(**changes)))
    return sign_envelope(payload, POLICY_TYPE, keys)
