"""What ``edgeward policy keygen|sign|verify|show|diff`` and ``edgeward audit verify|tail`` do.

Plain functions with no argument parsing: each returns a :class:`CliResult` (exit code and the
text to print). Exit codes: 0 success, 1 a check failed (bad signature, broken audit chain,
policies differ), 2 the input could not be used (missing file, bad key, invalid document).
Private keys are never printed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import ValidationError

from edgeward.policies import audit
from edgeward.policies.document import (
    Policy,
    PolicyDocumentError,
    canonical_json,
    parse_json,
    parse_toml,
    policy_canonical_bytes,
    policy_from_data,
)
from edgeward.policies.signing import (
    POLICY_TYPE,
    ROOT_TYPE,
    KeyFileError,
    PolicyRejected,
    RootDocument,
    load_private_key,
    load_root,
    parse_envelope,
    sign_envelope,
    verify_policy,
    verify_root_rotation,
    write_keypair,
)
from edgeward.policies.state_files import atomic_write


@dataclass(frozen=True)
class CliResult:
    code: int
    text: str


class _InputError(Exception):
    pass


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise _InputError(f"cannot read {path}: {exc.strerror}") from None


def _is_envelope(raw: bytes) -> bool:
    return raw.lstrip().startswith(b"{")


def _payload_data(path: Path) -> tuple[dict[str, Any], str]:
    """The document in ``path`` (TOML or an unverified envelope) as data, and its kind."""
    raw = _read(path)
    if _is_envelope(raw):
        envelope = parse_envelope(raw, max_bytes=len(raw))
        kind = {POLICY_TYPE: "policy", ROOT_TYPE: "root"}.get(envelope.payload_type, "unknown")
        data = parse_json(envelope.payload, str(path))
    else:
        text = raw.decode("utf-8", errors="replace")
        data = parse_toml(text, str(path))
        kind = "root" if "threshold" in data else "policy"
    if not isinstance(data, dict):
        raise _InputError(f"{path}: the document is not a table/object")
    return data, kind


def _guard(action: Any) -> CliResult:
    try:
        result: CliResult = action()
    except PolicyRejected as exc:
        return CliResult(1, f"rejected ({exc.code}): {exc}")
    except (_InputError, PolicyDocumentError, KeyFileError, ValueError) as exc:
        return CliResult(2, f"error: {exc}")
    except OSError as exc:
        return CliResult(2, f"error: {exc.filename}: {exc.strerror}")
    return result


# --------------------------------------------------------------------------- policy verbs


def keygen(prefix: Path) -> CliResult:
    def run() -> CliResult:
        key_path, pub_path, kid = write_keypair(prefix)
        public = pub_path.read_text(encoding="ascii").strip()
        return CliResult(
            0,
            f"private key: {key_path} (mode 0600, keep it offline)\n"
            f"public key:  {pub_path}\nkey id:      {kid}\n"
            f"add to a root document's keys: {public!r}",
        )

    return _guard(run)


def sign(
    document: Path, keys: list[Path], out: Path, kind: Literal["policy", "root"] | None = None
) -> CliResult:
    """Sign a TOML policy or root (``kind`` guessed from the content when None) into an
    envelope at ``out``; given an envelope, add the keys' signatures to it (co-signing)."""

    def run() -> CliResult:
        if not keys:
            raise _InputError("give at least one private key to sign with")
        private = [load_private_key(k) for k in keys]
        raw = _read(document)
        if _is_envelope(raw):
            envelope = parse_envelope(raw, max_bytes=len(raw))
            result = sign_envelope(
                envelope.payload, envelope.payload_type, private, envelope.raw_signatures
            )
            what = "co-signed"
        else:
            data, guessed = _payload_data(document)
            if (kind or guessed) == "root":
                try:
                    root = RootDocument.model_validate(data)
                except ValidationError as exc:
                    raise _InputError(f"{document}: {_fields(exc)}") from None
                payload, ptype = canonical_json(root.model_dump(exclude_none=True)), ROOT_TYPE
            else:
                policy = policy_from_data(data, str(document))
                payload, ptype = policy_canonical_bytes(policy), POLICY_TYPE
            result = sign_envelope(payload, ptype, private)
            what = "signed"
        atomic_write(out, result + b"\n", mode=0o644)
        count = len(parse_envelope(result, max_bytes=len(result)).signatures)
        return CliResult(0, f"{what} {document} -> {out} ({count} signature(s))")

    return _guard(run)


def _fields(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(map(str, e['loc'])) or '(top level)'}: {e['msg']}" for e in exc.errors()
    )


def verify(
    envelope_path: Path, root_path: Path, gateway_id: str | None, now: datetime
) -> CliResult:
    """Verify a policy envelope (signatures, threshold, schema, expiry, and the gateway when
    given) or a root rotation envelope against the root in ``root_path``."""

    def run() -> CliResult:
        root_raw = _read(root_path)
        root = load_root(root_raw, max_bytes=len(root_raw))
        raw = _read(envelope_path)
        if parse_envelope(raw, max_bytes=len(raw)).payload_type == ROOT_TYPE:
            new = verify_root_rotation(raw, root, max_bytes=len(raw))
            return CliResult(
                0, f"OK: root v{new.version} may follow v{root.version} ({len(new.keys)} keys)"
            )
        verified = verify_policy(raw, root, gateway_id, now, max_bytes=len(raw))
        policy = verified.policy
        target = f" for {gateway_id}" if gateway_id else ""
        return CliResult(
            0,
            f"OK: policy v{policy.version}{target}, valid until "
            f"{policy.expires_at.isoformat()}, sha256 {verified.digest}",
        )

    return _guard(run)


def _policy_lines(policy: Policy) -> list[str]:
    lines = [
        f"policy v{policy.version}  issued {policy.issued_at.isoformat()}  "
        f"expires {policy.expires_at.isoformat()}",
        f"gateways: {', '.join(policy.gateways)}  timezone: {policy.timezone}  "
        f"default effect: {policy.default_effect}",
        f"rules ({len(policy.rules)}):",
    ]
    for rule in policy.rules:
        matchers = ", ".join(
            f"{name}={getattr(rule, name)}"
            for name in (
                "tool",
                "domain",
                "entity_id",
                "area",
                "glob",
                "sources",
                "clients",
                "when",
            )
            if getattr(rule, name) is not None
        )
        extra = ""
        if rule.args:
            extra += f"  args: {', '.join(sorted(rule.args))}"
        if rule.rate_limit:
            extra += f"  rate: {rule.rate_limit.max}/{rule.rate_limit.per_seconds:g}s"
        lines.append(f"  {rule.effect:<7} {rule.id}: {matchers or '(every call)'}{extra}")
    lines.append(f"upstreams ({len(policy.upstreams)}):")
    for up in policy.upstreams:
        lines.append(
            f"  {up.name} {up.url} region={up.region}{'' if up.allowed else ' (not allowed)'}"
        )
    lines.append("residency (classes not listed stay local):")
    for name, res in sorted(policy.residency.items()):
        per = ", ".join(f"{d}: {a}" for d, a in sorted(res.destinations.items()))
        pattern = f" pattern={res.pattern!r}" if res.pattern else ""
        lines.append(f"  {name}: {res.action}{pattern}{f' ({per})' if per else ''}")
    lines.append(f"triggers ({len(policy.triggers)}):")
    for trig in policy.triggers:
        then = f"ask {trig.ask!r}" if trig.ask else ", ".join(c.tool for c in trig.calls or [])
        when = f"on {trig.topic}" if trig.topic else f"at {trig.at!r}"
        lines.append(f"  {trig.id}: {when} -> {then}")
    return lines


def show(path: Path) -> CliResult:
    """A readable summary of a TOML document or an envelope (whose signatures are listed,
    not verified: use ``verify`` for that)."""

    def run() -> CliResult:
        data, kind = _payload_data(path)
        raw = _read(path)
        header: list[str] = []
        if _is_envelope(raw):
            sigs = parse_envelope(raw, max_bytes=len(raw)).raw_signatures
            header = [f"envelope ({kind}), {len(sigs)} signature(s), NOT verified:"]
            header += [f"  key {s['keyid']}" for s in sigs]
        if kind == "root":
            return CliResult(0, "\n".join([*header, json.dumps(data, indent=2, sort_keys=True)]))
        return CliResult(0, "\n".join(header + _policy_lines(policy_from_data(data, str(path)))))

    return _guard(run)


def _diff_named(label: str, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    lines = [
        f"+ {label} {k}: {json.dumps(new[k], sort_keys=True)}"
        for k in sorted(new.keys() - old.keys())
    ]
    lines += [f"- {label} {k}" for k in sorted(old.keys() - new.keys())]
    for key in sorted(old.keys() & new.keys()):
        if old[key] != new[key]:
            lines.append(f"~ {label} {key}:")
            lines.append(f"    was {json.dumps(old[key], sort_keys=True)}")
            lines.append(f"    now {json.dumps(new[key], sort_keys=True)}")
    return lines


def diff(old_path: Path, new_path: Path) -> CliResult:
    """What changes from one policy to another (TOML or envelopes): exit 0 when equal,
    1 when they differ."""

    def run() -> CliResult:
        old_data, _ = _payload_data(old_path)
        new_data, _ = _payload_data(new_path)
        old = policy_from_data(old_data, str(old_path)).model_dump(mode="json", exclude_none=True)
        new = policy_from_data(new_data, str(new_path)).model_dump(mode="json", exclude_none=True)
        lines: list[str] = []
        for key in sorted(
            (old.keys() | new.keys()) - {"rules", "upstreams", "residency", "triggers"}
        ):
            if old.get(key) != new.get(key):
                lines.append(f"~ {key}: {old.get(key)!r} -> {new.get(key)!r}")
        for label, key, ident in (
            ("rule", "rules", "id"),
            ("upstream", "upstreams", "name"),
            ("trigger", "triggers", "id"),
        ):
            lines += _diff_named(
                label,
                {item[ident]: item for item in old.get(key, [])},
                {item[ident]: item for item in new.get(key, [])},
            )
        lines += _diff_named("residency", old.get("residency", {}), new.get("residency", {}))
        old_ids = [r["id"] for r in old.get("rules", [])]
        new_ids = [r["id"] for r in new.get("rules", [])]
        if sorted(old_ids) == sorted(new_ids) and old_ids != new_ids:
            lines.append("~ rule order changed (ties at equal specificity follow it)")
        if not lines:
            return CliResult(0, "no differences")
        return CliResult(1, "\n".join(lines))

    return _guard(run)


# --------------------------------------------------------------------------- audit verbs


def audit_verify(path: Path, anchor: tuple[int, str] | None = None) -> CliResult:
    def run() -> CliResult:
        report = audit.verify(path, anchor)
        return CliResult(0 if report.ok else 1, str(report))

    return _guard(run)


def audit_tail(path: Path, count: int = 20) -> CliResult:
    def run() -> CliResult:
        if count < 1:
            raise _InputError(f"count must be at least 1, got {count}")
        lines = []
        for record in audit.tail(path, count):
            event = record.get("event", {})
            summary = " ".join(
                f"{k}={event[k]}"
                for k in ("effect", "tool", "entity_id", "source", "rule_id", "reason")
                if event.get(k) is not None
            )
            lines.append(f"{record.get('seq')} {record.get('ts')} {summary or json.dumps(event)}")
        return CliResult(0, "\n".join(lines) if lines else "audit log is empty")

    return _guard(run)
