"""The durable outbox: upstream requests that can wait, kept on disk until they are delivered.

Layout and why it survives SIGKILL (and power loss) at any point
-----------------------------------------------------------------
One file per entry in ``<dir>/``, named ``<seq:016d>.entry`` with ``seq`` increasing, so the
directory listing *is* the FIFO order. An entry is written with
:func:`edgeward.policies.state_files.atomic_write` (temp file, fsync, rename, fsync of the folder)
and :meth:`Outbox.append` returns only after that, so:

- killed before the rename: only a hidden ``.*.tmp`` file exists; it was never acknowledged and is
  removed, with a log line, at the next open;
- killed after the rename: the entry is complete (renames are atomic) and is delivered;
- delivered entries are removed by ``unlink`` + fsync of the folder *after* ``send`` returned;
  killed in between, the entry is sent again with the same idempotency key (at-least-once).

Nothing is ever rewritten in place, so there is no torn record to recover, unlike an append-only
segment, and no compaction. Each file starts with a header line holding a SHA-256 of the body; a
file that fails it (or does not parse) is moved to ``<dir>/corrupt/`` with a log line, never
deleted.

What it holds
-------------
Only :class:`~edgeward.adapters.upstream.RedactedRequest` objects: text that went through the
redactor, the redacted tool catalog, the destination and the data classes and policy version the
egress decision was made on (re-check them against the policy in force when sending). Never a
vault, never raw text. :meth:`Outbox.append` refuses any other type.

Bounds and the rule when full
-----------------------------
``max_bytes`` bounds the total size of the entry files and ``max_age_s`` the age of an entry.
Expired entries are dropped, each with a WARNING line, on open, on append and on drain. When an
append would exceed ``max_bytes`` (after expired entries are dropped):

- ``on_full="reject"`` (the default): the new entry is refused with :class:`OutboxFull`; what is
  queued is kept, in order;
- ``on_full="drop_oldest"``: the oldest entries are dropped, each with a WARNING line, until the
  new one fits.

An entry larger than ``max_bytes`` on its own is always refused with :class:`OutboxFull`.

Delivery
--------
:meth:`Outbox.drain` hands entries to ``send`` oldest first and removes each one after ``send``
returns. The first exception stops the drain and leaves that entry at the head, except
:class:`Undeliverable`: ``send`` raises it for an entry that can never succeed (the upstream
refused it as invalid), and that entry is dropped with a WARNING line so it does not block the
queue until it expires. Each entry's ``idempotency_key`` is derived from its destination, request
id and purpose, stored in the file, and the same across reopen, retries and re-appends.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from edgeward.adapters.upstream import RedactedRequest
from edgeward.policies.state_files import atomic_write, fsync_dir

log = logging.getLogger(__name__)

FullPolicy = Literal["reject", "drop_oldest"]

_MAGIC = b"edgeward-outbox 1 "
_ENTRY_NAME = re.compile(r"^(\d{16})\.entry$")
_KEY = re.compile(r"^ew-[0-9a-f]{32}$")
_LOCK_NAME = ".lock"
CORRUPT_DIR = "corrupt"


class OutboxError(Exception):
    """Something the outbox cannot do; the message names the folder or entry."""


class OutboxFull(OutboxError):
    """The new entry does not fit in ``max_bytes`` and the rule is to refuse it."""

    def __init__(self, message: str, needed: int, used: int, limit: int) -> None:
        super().__init__(message)
        self.needed = needed
        self.used = used
        self.limit = limit


class OutboxLocked(OutboxError):
    """Another process has this outbox open."""


class Undeliverable(OutboxError):
    """Raised by a ``send`` callback for an entry that can never be delivered: it is dropped."""


@dataclass(frozen=True)
class Entry:
    """One queued request: ``seq`` orders it, ``created_at`` is Unix time, ``size`` its bytes."""

    seq: int
    idempotency_key: str
    created_at: float
    request: RedactedRequest
    size: int


@dataclass(frozen=True)
class DrainResult:
    """What a drain did: ``failure`` is the exception that stopped it, if any."""

    delivered: int
    dropped: int
    expired: int
    remaining: int
    failure: Exception | None


@dataclass(frozen=True)
class _Meta:
    seq: int
    key: str
    created_at: float
    size: int
    request_id: str
    destination: str
    purpose: str


def idempotency_key(request: RedactedRequest) -> str:
    """The key an entry carries upstream: the same for the same destination, request and purpose."""
    basis = json.dumps([request.destination, request.request_id, request.purpose]).encode()
    return "ew-" + hashlib.sha256(basis).hexdigest()[:32]


class Outbox:
    """A durable FIFO of :class:`RedactedRequest` in ``directory``; see the module docstring.

    One process at a time: a second :class:`Outbox` on the same folder raises
    :class:`OutboxLocked`. Thread-safe within the process. ``clock`` is Unix time, injectable.
    """

    def __init__(
        self,
        directory: Path,
        *,
        max_bytes: int,
        max_age_s: float,
        on_full: FullPolicy = "reject",
        clock: Callable[[], float] = time.time,
    ) -> None:
        if max_bytes <= 0:
            raise OutboxError(f"outbox max_bytes must be > 0, got {max_bytes}")
        if not max_age_s > 0:
            raise OutboxError(f"outbox max_age_s must be > 0, got {max_age_s}")
        if on_full not in ("reject", "drop_oldest"):
            raise OutboxError(f"outbox on_full must be 'reject' or 'drop_oldest', got {on_full!r}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.max_age_s = max_age_s
        self.on_full: FullPolicy = on_full
        self._clock = clock
        self._lock = threading.Lock()
        self._drain_lock = threading.Lock()
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lock_fd = os.open(self.directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise OutboxError(f"cannot open outbox folder {self.directory}: {exc}") from exc
        try:
            fcntl.flock(self._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._lock_fd)
            raise OutboxLocked(
                f"outbox {self.directory} is in use by another process (is edgeward running?)"
            ) from None
        self._index: dict[int, _Meta] = {}
        self._next_seq = 1
        self._load()

    # ------------------------------------------------------------------ public API

    def __len__(self) -> int:
        with self._lock:
            return len(self._index)

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the folder lock; the entries stay on disk."""
        if self._lock_fd >= 0:
            os.close(self._lock_fd)
            self._lock_fd = -1

    @property
    def bytes_used(self) -> int:
        with self._lock:
            return sum(m.size for m in self._index.values())

    def append(self, request: RedactedRequest) -> Entry:
        """Queue ``request`` durably; returns once it is on disk. Appending the same destination,
        request id and purpose again returns the queued entry instead of adding a second one."""
        if not isinstance(request, RedactedRequest):
            raise TypeError(
                "the outbox holds only RedactedRequest objects (redacted text), "
                f"got {type(request).__name__}"
            )
        key = idempotency_key(request)
        with self._lock:
            self._expire_locked()
            queued = next((m for m in self._index.values() if m.key == key), None)
            if queued is not None:
                try:
                    entry = self._read(queued)
                except (OSError, ValueError) as exc:
                    self._index.pop(queued.seq, None)
                    self._set_aside(self._path(queued.seq), str(exc))
                else:
                    log.info(
                        "outbox: request %s for %s already queued as entry %d",
                        request.request_id,
                        request.destination,
                        queued.seq,
                    )
                    return entry
            seq = self._next_seq
            created_at = self._clock()
            data = _encode(seq, key, created_at, request)
            self._make_room_locked(len(data), request)
            atomic_write(self._path(seq), data)
            self._next_seq = seq + 1
            self._index[seq] = _meta(seq, key, created_at, len(data), request)
            return Entry(seq, key, created_at, request, len(data))

    def entries(self) -> list[Entry]:
        """Every queued entry, oldest first (corrupt ones are set aside on the way)."""
        with self._lock:
            self._expire_locked()
            metas = list(self._index.values())
        out: list[Entry] = []
        for meta in metas:
            entry = self._read_or_set_aside(meta)
            if entry is not None:
                out.append(entry)
        return out

    def expire(self) -> int:
        """Drop entries older than ``max_age_s`` (each with a log line); return how many."""
        with self._lock:
            return self._expire_locked()

    def drain(self, send: Callable[[Entry], None]) -> DrainResult:
        """Hand entries to ``send`` oldest first, removing each after ``send`` returns.

        Stops at the first exception, leaving that entry at the head (``failure`` in the result),
        except :class:`Undeliverable`, which drops the entry with a log line and goes on.
        One drain runs at a time; appends may go on meanwhile and are drained too.
        """
        delivered = dropped = expired = 0
        with self._drain_lock:
            while True:
                with self._lock:
                    expired += self._expire_locked()
                    head = next(iter(self._index.values()), None)
                if head is None:
                    break
                entry = self._read_or_set_aside(head)
                if entry is None:
                    continue
                try:
                    send(entry)
                except Undeliverable as exc:
                    log.warning(
                        "outbox: entry %d (request %s for %s, %s) is undeliverable and "
                        "was dropped: %s",
                        head.seq,
                        head.request_id,
                        head.destination,
                        head.purpose,
                        exc,
                    )
                    dropped += 1
                except Exception as exc:  # noqa: BLE001 - any failure stops the drain, reported
                    with self._lock:
                        remaining = len(self._index)
                    return DrainResult(delivered, dropped, expired, remaining, exc)
                else:
                    delivered += 1
                with self._lock:
                    self._remove_locked(head.seq)
        return DrainResult(delivered, dropped, expired, 0, None)

    # ------------------------------------------------------------------ internals

    def _path(self, seq: int) -> Path:
        return self.directory / f"{seq:016d}.entry"

    def _load(self) -> None:
        found: list[tuple[int, Path]] = []
        for path in self.directory.iterdir():
            name = path.name
            match = _ENTRY_NAME.match(name)
            if match:
                found.append((int(match.group(1)), path))
            elif name.startswith(".") and name.endswith(".tmp"):
                path.unlink(missing_ok=True)
                log.info("outbox: removed %s, an entry whose write was interrupted", path)
            elif name not in (_LOCK_NAME, CORRUPT_DIR):
                log.warning("outbox: ignoring unexpected file %s", path)
        for seq, path in sorted(found):
            self._next_seq = max(self._next_seq, seq + 1)
            try:
                meta = _decode(path.read_bytes(), seq)[0]
            except (OSError, ValueError) as exc:
                self._set_aside(path, str(exc))
                continue
            self._index[seq] = meta
        fsync_dir(self.directory)
        with self._lock:
            self._expire_locked()
        if self._index:
            log.info(
                "outbox %s: %d entries waiting (%d bytes)",
                self.directory,
                len(self._index),
                sum(m.size for m in self._index.values()),
            )

    def _read(self, meta: _Meta) -> Entry:
        request = _decode(self._path(meta.seq).read_bytes(), meta.seq)[1]
        return Entry(meta.seq, meta.key, meta.created_at, request, meta.size)

    def _read_or_set_aside(self, meta: _Meta) -> Entry | None:
        try:
            return self._read(meta)
        except FileNotFoundError:
            with self._lock:
                self._index.pop(meta.seq, None)  # dropped meanwhile (drop_oldest, expiry)
            return None
        except (OSError, ValueError) as exc:
            with self._lock:
                self._index.pop(meta.seq, None)
            self._set_aside(self._path(meta.seq), str(exc))
            return None

    def _set_aside(self, path: Path, reason: str) -> None:
        corrupt = self.directory / CORRUPT_DIR
        corrupt.mkdir(exist_ok=True, mode=0o700)
        target = corrupt / f"{path.name}.{time.time_ns()}"
        try:
            os.replace(path, target)
            fsync_dir(corrupt)
            fsync_dir(self.directory)
        except OSError as exc:
            raise OutboxError(f"cannot move corrupt outbox entry {path} aside: {exc}") from exc
        log.error("outbox: entry file %s is corrupt (%s); moved to %s", path, reason, target)

    def _expire_locked(self) -> int:
        now = self._clock()
        old = [m for m in self._index.values() if now - m.created_at > self.max_age_s]
        for meta in old:
            log.warning(
                "outbox: entry %d (request %s for %s, %s) expired after %.0fs undelivered; dropped",
                meta.seq,
                meta.request_id,
                meta.destination,
                meta.purpose,
                now - meta.created_at,
            )
            self._remove_locked(meta.seq)
        return len(old)

    def _make_room_locked(self, needed: int, request: RedactedRequest) -> None:
        used = sum(m.size for m in self._index.values())
        if used + needed <= self.max_bytes:
            return
        if needed > self.max_bytes or self.on_full == "reject":
            raise OutboxFull(
                f"outbox {self.directory} is full: request {request.request_id} needs {needed} "
                f"bytes, {used} of {self.max_bytes} are used (rule: "
                f"{'entry larger than the outbox' if needed > self.max_bytes else 'reject'})",
                needed,
                used,
                self.max_bytes,
            )
        while used + needed > self.max_bytes:
            oldest = next(iter(self._index.values()))
            log.warning(
                "outbox: full, dropped oldest entry %d (request %s for %s, %s) to make room",
                oldest.seq,
                oldest.request_id,
                oldest.destination,
                oldest.purpose,
            )
            self._remove_locked(oldest.seq)
            used -= oldest.size

    def _remove_locked(self, seq: int) -> None:
        self._index.pop(seq, None)
        self._path(seq).unlink(missing_ok=True)
        fsync_dir(self.directory)


def _meta(seq: int, key: str, created_at: float, size: int, request: RedactedRequest) -> _Meta:
    return _Meta(
        seq, key, created_at, size, request.request_id, request.destination, request.purpose
    )


def _encode(seq: int, key: str, created_at: float, request: RedactedRequest) -> bytes:
    body = json.dumps(
        {"seq": seq, "key": key, "created_at": created_at, "request": request.to_json()},
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode("utf-8")
    return _MAGIC + hashlib.sha256(body).hexdigest().encode() + b"\n" + body


def _decode(data: bytes, seq: int) -> tuple[_Meta, RedactedRequest]:
    """Check and parse one entry file; ``ValueError`` says what is wrong with it."""
    header, sep, body = data.partition(b"\n")
    if not sep or not header.startswith(_MAGIC):
        raise ValueError("not an outbox entry (bad header)")
    if header[len(_MAGIC) :] != hashlib.sha256(body).hexdigest().encode():
        raise ValueError("checksum mismatch")
    try:
        doc: Any = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"body is not JSON: {exc}") from None
    if not isinstance(doc, dict) or doc.get("seq") != seq:
        raise ValueError(f"body does not belong to entry {seq}")
    key, created_at = doc.get("key"), doc.get("created_at")
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError("bad idempotency key")
    if isinstance(created_at, bool) or not isinstance(created_at, int | float):
        raise ValueError("bad created_at")
    request = RedactedRequest.from_json(doc.get("request"))
    return _meta(seq, key, float(created_at), len(data), request), request
