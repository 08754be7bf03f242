"""One test per attack on policy delivery, in the spirit of python-tuf's attack tests.

Each offers a hostile envelope to a store that already holds a good policy (v2) and checks the
rejection code, that the good policy stays in force, and that policy/status carries the reason."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from policy_builders import GATEWAY, Clock, make_keys, policy_data, root_envelope, signed_policy

from edgeward.policies.document import canonical_json
from edgeward.policies.signing import (
    POLICY_TYPE,
    ROOT_TYPE,
    TrustRoot,
    key_id,
    load_root,
    pae,
    sign_envelope,
)
from edgeward.policies.trust import PolicyStore

Keys = list[Ed25519PrivateKey]


@pytest.fixture(scope="module")
def keys() -> Keys:
    return make_keys(4)


@pytest.fixture
def root(keys: Keys) -> TrustRoot:
    """Threshold 2 of keys 0, 1, 2; key 3 is not in the root."""
    return load_root(root_envelope(keys[:3], threshold=2))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, root: TrustRoot, keys: Keys, clock: Clock) -> PolicyStore:
    store = PolicyStore(tmp_path, root, GATEWAY, clock)
    assert store.offer(signed_policy(keys[:2])).accepted
    return store


def rejected(store: PolicyStore, envelope: bytes, code: str) -> str:
    result = store.offer(envelope)
    assert not result.accepted
    assert result.code == code, result.reason
    assert result.version == 2
    assert store.active is not None and store.active.version == 2
    status = store.status_dict()
    assert status == {"accepted": False, "version": 2, "reason": result.reason}
    assert result.reason
    return result.reason


def edit(envelope: bytes, **fields: object) -> bytes:
    data = json.loads(envelope)
    data.update(fields)
    return json.dumps(data).encode()


def test_tampered_payload(store: PolicyStore, keys: Keys) -> None:
    good = json.loads(signed_policy(keys[:2], version=3))
    payload = json.loads(base64.b64decode(good["payload"]))
    payload["default_effect"] = "allow"
    forged = edit(
        signed_policy(keys[:2], version=3),
        payload=base64.b64encode(canonical_json(payload)).decode(),
    )
    reason = rejected(store, forged, "tampered")
    assert "changed after signing" in reason


def test_tampered_signature_bytes(store: PolicyStore, keys: Keys) -> None:
    good = json.loads(signed_policy(keys[:2], version=3))
    sig = bytearray(base64.b64decode(good["signatures"][0]["sig"]))
    sig[0] ^= 1
    good["signatures"][0]["sig"] = base64.b64encode(bytes(sig)).decode()
    rejected(store, json.dumps(good).encode(), "tampered")


def test_payload_type_swapped_after_signing(store: PolicyStore, keys: Keys) -> None:
    # a policy signature must not be usable under the root type (or vice versa)
    swapped = edit(signed_policy(keys[:2], version=3), payloadType=ROOT_TYPE)
    rejected(store, swapped, "tampered")


def test_unsigned(store: PolicyStore, keys: Keys) -> None:
    rejected(store, edit(signed_policy(keys[:2], version=3), signatures=[]), "unsigned")


def test_signed_by_unknown_key(store: PolicyStore, keys: Keys) -> None:
    outsiders = [keys[3], *make_keys(1)]
    reason = rejected(store, signed_policy(outsiders, version=3), "unknown_key")
    assert "none of the 2 signature(s)" in reason


def test_unknown_key_claiming_a_trusted_key_id(store: PolicyStore, keys: Keys) -> None:
    mallory = keys[3]
    envelope = json.loads(signed_policy([mallory], version=3))
    envelope["signatures"] = [
        {"keyid": key_id(keys[0].public_key()), "sig": envelope["signatures"][0]["sig"]},
        {"keyid": key_id(keys[1].public_key()), "sig": envelope["signatures"][0]["sig"]},
    ]
    rejected(store, json.dumps(envelope).encode(), "tampered")


def test_below_threshold(store: PolicyStore, keys: Keys) -> None:
    reason = rejected(store, signed_policy([keys[0], keys[3]], version=3), "below_threshold")
    assert "1 distinct valid signature(s)" in reason and "2 needed" in reason


def test_duplicate_signatures_by_one_key_counted_once(store: PolicyStore, keys: Keys) -> None:
    envelope = json.loads(signed_policy([keys[0]], version=3))
    payload = base64.b64decode(envelope["payload"])
    second = base64.b64encode(keys[0].sign(pae(POLICY_TYPE, payload))).decode()
    envelope["signatures"] += [
        envelope["signatures"][0],
        {**envelope["signatures"][0], "sig": second},
    ]
    assert len(envelope["signatures"]) == 3
    rejected(store, json.dumps(envelope).encode(), "below_threshold")


def test_sign_envelope_never_adds_a_second_signature_by_one_key(keys: Keys) -> None:
    envelope = json.loads(signed_policy([keys[0], keys[0], keys[1]]))
    assert len(envelope["signatures"]) == 2


def test_expired(store: PolicyStore, keys: Keys, clock: Clock) -> None:
    data = policy_data(version=3, expires_at="2026-11-26T11:59:00Z")
    reason = rejected(store, signed_policy(keys[:2], **data), "expired")
    assert "expired at 2026-11-26T11:59:00" in reason


def test_installed_policy_expiring_falls_back_to_default(
    store: PolicyStore, keys: Keys, clock: Clock
) -> None:
    clock.advance(days=60)
    assert store.active is None
    status = store.status_dict()
    assert status["accepted"] is False and status["version"] is None
    assert "expired" in status["reason"] and "nothing leaves the box" in status["reason"]
    # the expired version still blocks rollback and replay
    assert (
        store.offer(signed_policy(keys[:2], version=1, expires_at="2027-06-01T00:00:00Z")).code
        == "rollback"
    )


def test_rollback_to_older_version(store: PolicyStore, keys: Keys) -> None:
    reason = rejected(store, signed_policy(keys[:2], version=1), "rollback")
    assert "older than the installed v2" in reason


def test_rollback_across_restart(
    tmp_path: Path, store: PolicyStore, keys: Keys, clock: Clock
) -> None:
    assert store.offer(signed_policy(keys[:2], version=5)).accepted
    restarted = PolicyStore(tmp_path, store.root, GATEWAY, clock)
    assert restarted.active is not None and restarted.active.version == 5
    result = restarted.offer(signed_policy(keys[:2], version=4))
    assert result.code == "rollback" and restarted.active.version == 5


def test_replay_of_current_version_with_other_content(store: PolicyStore, keys: Keys) -> None:
    reason = rejected(store, signed_policy(keys[:2], default_effect="allow"), "replay")
    assert "needs a higher version" in reason


def test_redelivery_of_the_same_policy_is_accepted_unchanged(
    store: PolicyStore, keys: Keys
) -> None:
    # a retained message arrives again after every reconnect; signatures may differ in order
    result = store.offer(signed_policy([keys[1], keys[0]]))
    assert result.accepted and result.code == "unchanged" and result.version == 2


def test_replay_across_restart(
    tmp_path: Path, store: PolicyStore, keys: Keys, clock: Clock
) -> None:
    restarted = PolicyStore(tmp_path, store.root, GATEWAY, clock)
    assert restarted.offer(signed_policy(keys[:2], default_effect="allow")).code == "replay"


def test_policy_for_another_gateway(store: PolicyStore, keys: Keys) -> None:
    reason = rejected(
        store, signed_policy(keys[:2], version=3, gateways=["office-*"]), "wrong_gateway"
    )
    assert "'home-1'" in reason


def test_oversized(store: PolicyStore, keys: Keys) -> None:
    padded = signed_policy(keys[:2], version=3) + b" " * (256 * 1024)
    reason = rejected(store, padded, "oversized")
    assert "limit is 262144" in reason


def test_malformed_json_envelope(store: PolicyStore) -> None:
    rejected(store, b'{"payloadType": "x", "payload": ', "malformed")
    rejected(store, b"\xff\xfe not utf-8", "malformed")
    rejected(store, b'{"payloadType": 1, "payload": "", "signatures": []}', "malformed")
    rejected(store, b'{"payloadType": "x", "payload": "!!", "signatures": []}', "malformed")


def test_malformed_json_payload_signed(store: PolicyStore, keys: Keys) -> None:
    envelope = sign_envelope(b"{not json", POLICY_TYPE, keys[:2])
    rejected(store, envelope, "malformed")


def test_wrong_types_name_the_field(store: PolicyStore, keys: Keys) -> None:
    data = policy_data(version=3)
    data["rules"][1]["args"]["temperature"]["min"] = "warm"
    payload = canonical_json(data)
    reason = rejected(store, sign_envelope(payload, POLICY_TYPE, keys[:2]), "malformed")
    assert "rules.1.args.temperature.min" in reason and "'warm'" in reason


def test_signatures_checked_before_payload_is_parsed(store: PolicyStore, keys: Keys) -> None:
    # garbage payload signed by an outsider: the signature verdict comes first
    envelope = sign_envelope(b"{not json", POLICY_TYPE, [keys[3]])
    rejected(store, envelope, "unknown_key")


def test_root_rotation_without_old_key_signatures(
    tmp_path: Path, store: PolicyStore, keys: Keys, clock: Clock
) -> None:
    new_keys = make_keys(2)
    rotation = root_envelope(new_keys, threshold=2, version=2)
    rejected(store, rotation, "unknown_key")
    # one old key is not a threshold of the old root either
    partial = root_envelope(new_keys, threshold=2, version=2, signers=[*new_keys, keys[0]])
    rejected(store, partial, "below_threshold")
    assert store.root.version == 1


def test_root_rotation_without_new_key_signatures(store: PolicyStore, keys: Keys) -> None:
    new_keys = make_keys(2)
    rotation = root_envelope(new_keys, threshold=2, version=2, signers=keys[:2])
    rejected(store, rotation, "unknown_key")
    assert store.root.version == 1


def test_root_rotation_skipping_a_version(store: PolicyStore, keys: Keys) -> None:
    new_keys = make_keys(2)
    rotation = root_envelope(new_keys, threshold=2, version=3, signers=[*keys[:2], *new_keys])
    reason = rejected(store, rotation, "root_version")
    assert "only 2 can follow" in reason


def test_root_rotation_accepted_persists_and_retires_old_keys(
    tmp_path: Path, store: PolicyStore, root: TrustRoot, keys: Keys, clock: Clock
) -> None:
    new_keys = make_keys(2)
    rotation = root_envelope(new_keys, threshold=2, version=2, signers=[*keys[:2], *new_keys])
    result = store.offer(rotation)
    assert result.accepted and result.code == "root_rotated"
    assert "does not verify" in (result.reason or "") and store.active is None
    assert store.offer(signed_policy(keys[:2], version=3)).code == "unknown_key"
    assert store.offer(signed_policy(new_keys, version=3)).accepted
    # a restart configured with the original v1 root keeps using the rotated v2 root
    restarted = PolicyStore(tmp_path, root, GATEWAY, clock)
    assert root.version == 1 and restarted.root.version == 2
    assert restarted.active is not None and restarted.active.version == 3


def test_corrupt_state_file_is_set_aside(tmp_path: Path, root: TrustRoot, clock: Clock) -> None:
    (tmp_path / "policy-state.json").write_text("{half")
    store = PolicyStore(tmp_path, root, GATEWAY, clock)
    assert store.active is None
    assert list(tmp_path.glob("policy-state.json.corrupt-*"))


def test_state_written_atomically_and_private(tmp_path: Path, store: PolicyStore) -> None:
    state = tmp_path / "policy-state.json"
    assert state.stat().st_mode & 0o777 == 0o600
    assert json.loads(state.read_text())["version"] == 2
    assert not list(tmp_path.glob("*.tmp"))


def test_load_file_missing_is_a_rejection_with_reason(tmp_path: Path, store: PolicyStore) -> None:
    result = store.load_file(tmp_path / "nope.json")
    assert not result.accepted and "nope.json" in (result.reason or "")
    assert store.active is not None


def test_root_planted_in_the_state_folder_is_not_trusted(
    tmp_path: Path, root: TrustRoot, keys: Keys, clock: Clock
) -> None:
    mallory = make_keys(2)
    planted = root_envelope(mallory, threshold=1, version=2)
    chain = {"format": 1, "rotations": [planted.decode()]}
    (tmp_path / "trust-root.json").write_text(json.dumps(chain))
    store = PolicyStore(tmp_path, root, GATEWAY, clock)
    assert store.root.version == 1
    assert list(tmp_path.glob("trust-root.json.corrupt-*"))
    assert store.offer(signed_policy(mallory, version=9)).code == "unknown_key"


def test_unwritable_state_keeps_the_last_good_policy(
    tmp_path: Path, store: PolicyStore, keys: Keys
) -> None:
    (tmp_path / "policy-state.json").unlink()
    (tmp_path / "policy-state.json").mkdir()  # os.replace onto a folder fails like a full disk
    result = store.offer(signed_policy(keys[:2], version=3))
    assert not result.accepted and result.code == "storage"
    assert store.active is not None and store.active.version == 2
