"""Policy acceptance: which signed policy is in force, persisted so a restart cannot roll back.

``PolicyStore`` is the state machine between the delivery paths (a file at start-up, the retained
``edgeward/<gw>/policy`` topic) and the gate::

    store = PolicyStore(state_dir, Path("/etc/edgeward/root.json"), "home-1", clock)
    store.load_file(Path("/etc/edgeward/policy.json"))   # Acceptance
    result = store.offer(message.payload)                  # Acceptance(accepted, version, reason)
    gate.update(store.active)                              # None: the built-in default
    publish("edgeward/home-1/policy/status", store.status_dict(), retain=True)

Rules: a rejected envelope never replaces the last good policy; the highest installed version and
the digest of its payload are persisted atomically *before* the new policy takes effect, so older
versions (rollback) and other content under the same version (replay) are refused after a restart
too; the trust root's rotation chain is stored and replayed from the configured root at each
start; an expired policy is not in force (``active`` is None: no egress, local actuation settings)
and the status says so. An envelope with the root payload type rotates the trust root.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edgeward.policies.document import Policy
from edgeward.policies.signing import (
    DEFAULT_MAX_BYTES,
    ROOT_TYPE,
    PolicyRejected,
    ReplayError,
    RollbackError,
    TrustRoot,
    VerifiedPolicy,
    load_root,
    parse_envelope,
    verify_policy,
    verify_root_rotation,
)
from edgeward.policies.state_files import atomic_write, set_aside

log = logging.getLogger(__name__)

STATE_FILE = "policy-state.json"
ROOT_FILE = "trust-root.json"
DEFAULT_REASON = "built-in default in force: nothing leaves the box, local actuation settings apply"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Acceptance:
    """The outcome of one offer. ``version`` is the policy version in force afterwards
    (None: the built-in default); ``code`` is ``accepted``, ``unchanged``, ``root_rotated``
    or the rejection code (``tampered``, ``rollback``, ...)."""

    accepted: bool
    version: int | None
    reason: str | None
    code: str


class PolicyStore:
    def __init__(
        self,
        state_dir: Path,
        trust_root: Path | TrustRoot,
        gateway_id: str,
        clock: Callable[[], datetime] = utc_now,
        max_bytes: int = DEFAULT_MAX_BYTES,
    ) -> None:
        self._dir = state_dir
        self._gateway = gateway_id
        self._clock = clock
        self._max = max_bytes
        self._lock = threading.Lock()
        self._root = self._initial_root(trust_root)
        self._floor_version = 0
        self._floor_digest = ""
        self._installed: VerifiedPolicy | None = None
        self._last = Acceptance(False, None, f"no policy offered yet; {DEFAULT_REASON}", "none")
        self._restore()

    # ------------------------------------------------------------------ start-up

    def _initial_root(self, trust_root: Path | TrustRoot) -> TrustRoot:
        if isinstance(trust_root, TrustRoot):
            configured = trust_root
        else:
            try:
                raw = trust_root.read_bytes()
            except OSError as exc:
                raise FileNotFoundError(
                    f"cannot read trust root {trust_root}: {exc.strerror}"
                ) from None
            try:
                configured = load_root(raw, self._max)
            except PolicyRejected as exc:
                raise type(exc)(f"trust root {trust_root}: {exc}") from None
        self._rotations: list[str] = []
        path = self._dir / ROOT_FILE
        if not path.exists():
            return configured
        # Replay the stored rotation chain from the configured root, so a root planted in the
        # state folder without the old keys' signatures is never trusted.
        root = configured
        try:
            rotations = json.loads(path.read_text(encoding="utf-8"))["rotations"]
            for text in rotations:
                envelope = str(text).encode("utf-8")
                if load_root(envelope, self._max).version > root.version:
                    root = verify_root_rotation(envelope, root, self._max)
                self._rotations.append(str(text))
        except (OSError, ValueError, KeyError, TypeError, PolicyRejected) as exc:
            set_aside(path, f"unusable trust root rotation chain: {exc}")
            self._rotations = []
            return configured
        return root

    def _restore(self) -> None:
        path = self._dir / STATE_FILE
        if not path.exists():
            return
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            version, digest = int(state["version"]), str(state["digest"])
            envelope = str(state["envelope"]).encode("utf-8")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            set_aside(path, f"unreadable policy state: {exc}")
            return
        self._floor_version, self._floor_digest = version, digest
        try:
            self._installed = verify_policy(envelope, self._root, self._gateway, None, self._max)
        except PolicyRejected as exc:
            self._last = Acceptance(
                False, None, f"stored policy v{version} no longer verifies: {exc}", exc.code
            )
            return
        self._last = Acceptance(True, version, None, "accepted")

    # ------------------------------------------------------------------ offers

    def load_file(self, path: Path) -> Acceptance:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            return self._reject(f"cannot read policy file {path}: {exc.strerror}", "unreadable")
        return self.offer(raw)

    def offer(self, envelope: bytes) -> Acceptance:
        with self._lock:
            now = self._clock()
            try:
                kind = parse_envelope(envelope, self._max).payload_type
                if kind == ROOT_TYPE:
                    return self._rotate(envelope)
                verified = verify_policy(envelope, self._root, self._gateway, now, self._max)
                return self._install(verified)
            except PolicyRejected as exc:
                log.warning("policy rejected (%s): %s", exc.code, exc)
                return self._reject(str(exc), exc.code)
            except OSError as exc:  # state could not be persisted: nothing changed
                log.error("cannot persist policy state in %s: %s", self._dir, exc)
                return self._reject(f"cannot write policy state in {self._dir}: {exc}", "storage")

    def _install(self, verified: VerifiedPolicy) -> Acceptance:
        version = verified.policy.version
        if version < self._floor_version:
            raise RollbackError(
                f"policy v{version} is older than the installed v{self._floor_version}"
            )
        if version == self._floor_version:
            if verified.digest != self._floor_digest:
                raise ReplayError(
                    f"policy v{version} is already installed with other content; "
                    "a changed policy needs a higher version"
                )
            self._installed = verified
            self._last = Acceptance(True, version, None, "unchanged")
            return self._last
        state = {
            "format": 1,
            "version": version,
            "digest": verified.digest,
            "envelope": verified.envelope.decode("utf-8"),
        }
        atomic_write(self._dir / STATE_FILE, json.dumps(state).encode("utf-8"))
        self._floor_version, self._floor_digest = version, verified.digest
        self._installed = verified
        self._last = Acceptance(True, version, None, "accepted")
        log.info("policy v%d accepted", version)
        return self._last

    def _rotate(self, envelope: bytes) -> Acceptance:
        new = verify_root_rotation(envelope, self._root, self._max)
        chain = [*self._rotations, envelope.decode("utf-8")]
        atomic_write(self._dir / ROOT_FILE, json.dumps({"format": 1, "rotations": chain}).encode())
        self._rotations = chain
        self._root = new
        reason = f"trust root rotated to v{new.version}"
        if self._installed is not None:
            try:
                self._installed = verify_policy(
                    self._installed.envelope, new, self._gateway, None, self._max
                )
            except PolicyRejected as exc:
                self._installed = None
                reason += (
                    f"; the installed policy does not verify under it ({exc}): {DEFAULT_REASON}"
                )
        log.info("%s", reason)
        self._last = Acceptance(True, self.active_version, reason, "root_rotated")
        return self._last

    def _reject(self, reason: str, code: str) -> Acceptance:
        self._last = Acceptance(False, self.active_version, reason, code)
        return self._last

    # ------------------------------------------------------------------ what is in force

    @property
    def root(self) -> TrustRoot:
        return self._root

    @property
    def active(self) -> Policy | None:
        """The policy in force now, or None for the built-in default (none, or expired)."""
        installed = self._installed
        if installed is None or self._clock() >= installed.policy.expires_at:
            return None
        return installed.policy

    @property
    def active_version(self) -> int | None:
        policy = self.active
        return None if policy is None else policy.version

    @property
    def expires_at(self) -> datetime | None:
        """When the installed policy expires (for the scheduler), None when there is none."""
        installed = self._installed
        return None if installed is None else installed.policy.expires_at

    def status_dict(self) -> dict[str, Any]:
        """The retained ``policy/status`` payload: ``{"accepted", "version", "reason"?}``."""
        installed, active = self._installed, self.active
        if installed is not None and active is None:
            reason = (
                f"policy v{installed.policy.version} expired at "
                f"{installed.policy.expires_at.isoformat()}; {DEFAULT_REASON}"
            )
            return {"accepted": False, "version": None, "reason": reason}
        status: dict[str, Any] = {"accepted": self._last.accepted, "version": self.active_version}
        if self._last.reason is not None:
            status["reason"] = self._last.reason
        elif active is None:
            status["reason"] = DEFAULT_REASON
        return status
