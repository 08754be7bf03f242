"""Ed25519 signing and verification of policy and trust-root envelopes.

An envelope (in the spirit of DSSE/TUF) is UTF-8 JSON::

    {"payloadType": "application/vnd.edgeward.policy+json",
     "payload": "<base64 of the canonical JSON bytes>",
     "signatures": [{"keyid": "<sha256 hex of the raw public key>", "sig": "<base64>"}]}

Each signature covers the DSSE pre-authentication encoding of the payload type and the payload
bytes, so a signed root cannot be replayed as a policy or the other way round. Verification checks
the size cap, the signatures and the threshold *before* the payload is parsed; each key counts
once however many signatures it made. A trust root lists public keys and a threshold; it is itself
an envelope signed by a threshold of its own keys, and a new root is accepted only when signed by a
threshold of the old keys and of the new keys with version exactly one more.

Every rejection is a subclass of :class:`PolicyRejected` whose ``code`` is what
``policy/status`` publishes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from edgeward.policies.document import (
    Policy,
    PolicyDocumentError,
    canonical_json,
    parse_json,
    policy_from_data,
)

POLICY_TYPE = "application/vnd.edgeward.policy+json"
ROOT_TYPE = "application/vnd.edgeward.root+json"
DEFAULT_MAX_BYTES = 256 * 1024


# --------------------------------------------------------------------------- rejections


class PolicyRejected(Exception):
    """Base of every reason a policy or root envelope is not accepted."""

    code: ClassVar[str] = "rejected"


class OversizedError(PolicyRejected):
    code = "oversized"


class MalformedError(PolicyRejected):
    code = "malformed"


class UnsignedError(PolicyRejected):
    code = "unsigned"


class UnknownKeyError(PolicyRejected):
    code = "unknown_key"


class TamperedError(PolicyRejected):
    code = "tampered"


class BelowThresholdError(PolicyRejected):
    code = "below_threshold"


class WrongTypeError(PolicyRejected):
    code = "wrong_type"


class WrongGatewayError(PolicyRejected):
    code = "wrong_gateway"


class ExpiredError(PolicyRejected):
    code = "expired"


class RollbackError(PolicyRejected):
    code = "rollback"


class ReplayError(PolicyRejected):
    code = "replay"


class RootVersionError(PolicyRejected):
    code = "root_version"


class KeyFileError(ValueError):
    """A key file is missing, unreadable, in the wrong format or too widely readable."""


# --------------------------------------------------------------------------- keys


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def public_key_text(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode("ascii")


def public_key_from_text(text: str) -> Ed25519PublicKey:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
        return Ed25519PublicKey.from_public_bytes(raw)
    except (binascii.Error, ValueError) as exc:
        raise ValueError(f"{text[:60]!r} is not a base64 Ed25519 public key (32 bytes)") from exc


def write_keypair(prefix: Path) -> tuple[Path, Path, str]:
    """Create ``<prefix>.key`` (PKCS#8 PEM, mode 0600, never overwritten) and
    ``<prefix>.pub`` (one base64 line). Returns both paths and the key id."""
    private = Ed25519PrivateKey.generate()
    key_path, pub_path = (
        prefix.with_name(prefix.name + ".key"),
        prefix.with_name(prefix.name + ".pub"),
    )
    for path in (key_path, pub_path):
        if path.exists():
            raise KeyFileError(f"{path} already exists; refusing to overwrite a key")
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    public = private.public_key()
    pub_path.write_text(public_key_text(public) + "\n", encoding="ascii")
    return key_path, pub_path, key_id(public)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except OSError as exc:
        raise KeyFileError(f"cannot read private key {path}: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyFileError(
            f"private key {path} is readable by others (mode {stat.S_IMODE(mode):o}); "
            f"run: chmod 600 {path}"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise KeyFileError(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path} holds a {type(key).__name__}, not an Ed25519 key")
    return key


# --------------------------------------------------------------------------- envelopes


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE pre-authentication encoding: what a signature actually covers."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %b %d %b" % (len(t), t, len(payload), payload)


def sign_envelope(
    payload: bytes,
    payload_type: str,
    keys: list[Ed25519PrivateKey],
    existing: list[dict[str, str]] | None = None,
) -> bytes:
    """An envelope over ``payload`` signed by every key in ``keys``, keeping ``existing``
    signatures (co-signing) but never two by the same key."""
    signatures = list(existing or [])
    seen = {s["keyid"] for s in signatures}
    message = pae(payload_type, payload)
    for key in keys:
        kid = key_id(key.public_key())
        if kid in seen:
            continue
        seen.add(kid)
        sig = base64.b64encode(key.sign(message)).decode("ascii")
        signatures.append({"keyid": kid, "sig": sig})
    envelope = {
        "payloadType": payload_type,
        "payload": base64.b64encode(payload).decode("ascii"),
        "signatures": signatures,
    }
    return canonical_json(envelope)


@dataclass(frozen=True)
class Envelope:
    payload_type: str
    payload: bytes
    signatures: list[tuple[str, bytes]]
    raw_signatures: list[dict[str, str]]


def parse_envelope(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> Envelope:
    """The envelope's fields, decoded but not verified; the payload stays opaque bytes."""
    if len(raw) > max_bytes:
        raise OversizedError(f"envelope is {len(raw)} bytes; the limit is {max_bytes}")
    try:
        data = parse_json(raw, "envelope")
    except PolicyDocumentError as exc:
        raise MalformedError(str(exc)) from None
    if not isinstance(data, dict) or not {"payloadType", "payload", "signatures"} <= set(data):
        raise MalformedError("envelope: needs the fields payloadType, payload and signatures")
    ptype, payload, sigs = data["payloadType"], data["payload"], data["signatures"]
    if not isinstance(ptype, str) or not isinstance(payload, str) or not isinstance(sigs, list):
        raise MalformedError("envelope: payloadType and payload must be strings, signatures a list")
    try:
        body = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedError("envelope.payload: not valid base64") from None
    decoded: list[tuple[str, bytes]] = []
    for index, entry in enumerate(sigs):
        if (
            not isinstance(entry, dict)
            or not isinstance(entry.get("keyid"), str)
            or not isinstance(entry.get("sig"), str)
        ):
            raise MalformedError(f"envelope.signatures.{index}: needs string keyid and sig")
        try:
            decoded.append((entry["keyid"], base64.b64decode(entry["sig"], validate=True)))
        except (binascii.Error, ValueError):
            raise MalformedError(f"envelope.signatures.{index}.sig: not valid base64") from None
    raw_sigs = [{"keyid": e["keyid"], "sig": e["sig"]} for e in sigs]
    return Envelope(ptype, body, decoded, raw_sigs)


# --------------------------------------------------------------------------- trust root


class RootDocument(BaseModel):
    """The signed content of a trust root."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    version: int = Field(ge=1)
    threshold: int = Field(ge=1)
    keys: list[str] = Field(min_length=1)
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("keys")
    @classmethod
    def _keys(cls, value: list[str]) -> list[str]:
        ids = [key_id(public_key_from_text(text)) for text in value]
        if len(set(ids)) != len(ids):
            raise ValueError("the same public key is listed twice")
        return value


@dataclass(frozen=True)
class TrustRoot:
    version: int
    threshold: int
    keys: dict[str, Ed25519PublicKey]
    envelope: bytes

    @classmethod
    def from_document(cls, doc: RootDocument, envelope: bytes) -> TrustRoot:
        if doc.threshold > len(doc.keys):
            raise MalformedError(
                f"root.threshold {doc.threshold} is more than its {len(doc.keys)} key(s)"
            )
        keys = {key_id(k): k for k in map(public_key_from_text, doc.keys)}
        return cls(doc.version, doc.threshold, keys, envelope)


def count_valid(envelope: Envelope, keys: dict[str, Ed25519PublicKey]) -> tuple[set[str], int, int]:
    """Key ids with a valid signature (each key once), bad signatures by known keys,
    and signatures by keys not in ``keys``."""
    valid: set[str] = set()
    bad = unknown = 0
    message = pae(envelope.payload_type, envelope.payload)
    for kid, sig in envelope.signatures:
        key = keys.get(kid)
        if key is None:
            unknown += 1
            continue
        if kid in valid:
            continue
        try:
            key.verify(sig, message)
        except InvalidSignature:
            bad += 1
        else:
            valid.add(kid)
    return valid, bad, unknown


def check_threshold(
    envelope: Envelope, keys: dict[str, Ed25519PublicKey], threshold: int, who: str
) -> None:
    if not envelope.signatures:
        raise UnsignedError("envelope carries no signatures")
    valid, bad, unknown = count_valid(envelope, keys)
    if len(valid) >= threshold:
        return
    if bad:
        raise TamperedError(
            f"{bad} signature(s) by {who} keys do not match the payload: it was changed after "
            "signing or the signature is corrupt"
        )
    if not valid:
        raise UnknownKeyError(
            f"none of the {unknown} signature(s) is by a key of the {who}; sign with a key it lists"
        )
    raise BelowThresholdError(
        f"{len(valid)} distinct valid signature(s) by {who} keys, {threshold} needed "
        "(several signatures by one key count once)"
    )


def _root_document(payload: bytes) -> RootDocument:
    try:
        return RootDocument.model_validate(parse_json(payload, "root"))
    except PolicyDocumentError as exc:
        raise MalformedError(str(exc)) from None
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
        )
        raise MalformedError(f"root: {fields}") from None


def load_root(raw: bytes, max_bytes: int = DEFAULT_MAX_BYTES) -> TrustRoot:
    """A trust root installed by hand: an envelope signed by a threshold of its own keys.
    (Its own signatures prove the key holders agreed; trust comes from who installed it.)"""
    envelope = parse_envelope(raw, max_bytes)
    if envelope.payload_type != ROOT_TYPE:
        raise WrongTypeError(
            f"expected a root envelope ({ROOT_TYPE}), got {envelope.payload_type!r}"
        )
    if not envelope.signatures:
        raise UnsignedError("root envelope carries no signatures")
    doc = _root_document(envelope.payload)  # keys come from the payload itself
    root = TrustRoot.from_document(doc, raw)
    check_threshold(envelope, root.keys, root.threshold, "root")
    return root


def verify_root_rotation(
    raw: bytes, current: TrustRoot, max_bytes: int = DEFAULT_MAX_BYTES
) -> TrustRoot:
    """A new root, accepted only when signed by a threshold of the current keys (checked
    before parsing) and of its own keys, with version exactly current + 1."""
    envelope = parse_envelope(raw, max_bytes)
    if envelope.payload_type != ROOT_TYPE:
        raise WrongTypeError(
            f"expected a root envelope ({ROOT_TYPE}), got {envelope.payload_type!r}"
        )
    check_threshold(envelope, current.keys, current.threshold, f"current root v{current.version}")
    new = TrustRoot.from_document(_root_document(envelope.payload), raw)
    check_threshold(envelope, new.keys, new.threshold, f"new root v{new.version}")
    if new.version != current.version + 1:
        raise RootVersionError(
            f"new root has version {new.version}; only {current.version + 1} can follow "
            f"the installed version {current.version}"
        )
    return new


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True)
class VerifiedPolicy:
    policy: Policy
    digest: str  # sha256 hex of the signed payload bytes
    envelope: bytes


def verify_policy(
    raw: bytes,
    root: TrustRoot,
    gateway_id: str | None,
    now: datetime | None,
    max_bytes: int = DEFAULT_MAX_BYTES,
) -> VerifiedPolicy:
    """Every check that needs no installed state: size, envelope, signatures and threshold
    (before parsing), schema, target gateway and expiry at ``now`` (each skipped when None)."""
    envelope = parse_envelope(raw, max_bytes)
    if envelope.payload_type != POLICY_TYPE:
        raise WrongTypeError(
            f"expected a policy envelope ({POLICY_TYPE}), got {envelope.payload_type!r}"
        )
    check_threshold(envelope, root.keys, root.threshold, f"trust root v{root.version}")
    try:
        policy = policy_from_data(parse_json(envelope.payload))
    except PolicyDocumentError as exc:
        raise MalformedError(str(exc)) from None
    if gateway_id is not None and not policy.targets(gateway_id):
        raise WrongGatewayError(
            f"policy v{policy.version} is for gateways {policy.gateways}, not {gateway_id!r}"
        )
    if now is not None and now >= policy.expires_at:
        raise ExpiredError(f"policy v{policy.version} expired at {policy.expires_at.isoformat()}")
    digest = hashlib.sha256(envelope.payload).hexdigest()
    return VerifiedPolicy(policy, digest, raw)
