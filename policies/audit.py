"""Tamper-evident audit log: an append-only JSON-lines file, one record per line.

Each record is ``{"seq": n, "ts": "...", "prev": "<sha256 hex of the previous line>", "event":
{...}}`` (the first record's ``prev`` is 64 zeros). Appends are fsynced before they return.
``verify`` recomputes the chain and names the first line that was edited, inserted or deleted;
deleting the newest records is only detectable against a head recorded elsewhere (``head()``,
e.g. published on the status topic), which ``verify(anchor=...)`` checks. A record torn by a
crash mid-append (no final newline) was never acknowledged and is cut off at open.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

GENESIS = "0" * 64


class AuditLogError(Exception):
    """The audit log cannot be opened or written."""


@dataclass(frozen=True)
class AuditReport:
    ok: bool
    records: int
    line: int | None = None  # 1-based line of the first problem
    problem: str | None = None

    def __str__(self) -> str:
        if self.ok:
            return f"audit log intact: {self.records} record(s)"
        return f"audit log broken at line {self.line}: {self.problem}"


def _digest(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


class AuditLog:
    def __init__(
        self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._path = path
        self._clock = clock
        self._lock = threading.Lock()
        self.torn_bytes = 0
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o600)
        except OSError as exc:
            raise AuditLogError(f"cannot open audit log {path}: {exc.strerror}") from None
        self._fd = fd
        self._seq, self._prev = 0, GENESIS
        self._buffer: list[bytes] = []
        self._recover()

    def _recover(self) -> None:
        data = self._path.read_bytes()
        if data and not data.endswith(b"\n"):
            keep = data.rfind(b"\n") + 1
            self.torn_bytes = len(data) - keep
            os.ftruncate(self._fd, keep)
            os.fsync(self._fd)
            data = data[:keep]
        if data:
            last = data.rstrip(b"\n").rsplit(b"\n", 1)[-1]
            try:
                self._seq = int(json.loads(last)["seq"])
            except (ValueError, KeyError, TypeError):
                raise AuditLogError(
                    f"last record of {self._path} is not an audit record; "
                    "run `edgeward audit verify` and move the file aside"
                ) from None
            self._prev = _digest(last)

    def append(self, event: dict[str, Any], *, sync: bool = True) -> dict[str, Any]:
        """Write one record; returns it. With ``sync=False`` it is durable at the next
        :meth:`sync` (callers that decide in batches pay one fsync per batch)."""
        with self._lock:
            seq = self._seq + 1
            record: dict[str, Any] = {
                "seq": seq,
                "ts": self._clock().isoformat(),
                "prev": self._prev,
                "event": event,
            }
            line = json.dumps(record, sort_keys=True, separators=(",", ":")).encode("utf-8")
            self._buffer.append(line + b"\n")
            self._seq, self._prev = seq, _digest(line)
            if sync:
                self._flush()
            return record

    def sync(self) -> None:
        """Write and fsync every record appended so far."""
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._buffer:
            data = b"".join(self._buffer)
            self._buffer.clear()
            os.write(self._fd, data)
            os.fdatasync(self._fd)

    def head(self) -> tuple[int, str]:
        """Sequence number and hash of the newest record (0 and zeros when empty)."""
        return self._seq, self._prev

    def close(self) -> None:
        with self._lock:
            self._flush()
            os.close(self._fd)


def verify(path: Path, anchor: tuple[int, str] | None = None) -> AuditReport:
    """Check the whole chain; with ``anchor`` (a ``head()`` taken earlier) also that the log
    still reaches that record unchanged."""
    prev, seq, count = GENESIS, 0, 0
    anchored = anchor is None or anchor[0] == 0
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.endswith(b"\n"):
                return AuditReport(False, count, number, "record is cut off (torn write)")
            line = raw[:-1]
            try:
                record = json.loads(line)
                record_seq, record_prev = int(record["seq"]), str(record["prev"])
            except (ValueError, KeyError, TypeError):
                return AuditReport(False, count, number, "not a JSON audit record")
            if record_seq > seq + 1:
                problem = f"record(s) {seq + 1}..{record_seq - 1} were deleted before this line"
                return AuditReport(False, count, number, problem)
            if record_seq <= seq:
                problem = f"sequence number {record_seq} after {seq}: a record was inserted"
                return AuditReport(False, count, number, problem)
            if record_prev != prev:
                if number == 1:
                    return AuditReport(False, count, 1, "first record does not start the chain")
                problem = "record was edited: its hash differs from the one the next line carries"
                return AuditReport(False, count - 1, number - 1, problem)
            prev, seq, count = _digest(line), record_seq, count + 1
            if anchor is not None and seq == anchor[0]:
                if prev != anchor[1]:
                    return AuditReport(False, count, number, "differs from the recorded head")
                anchored = True
    if anchor is not None and not anchored:
        return AuditReport(
            False, count, count + 1, f"records up to seq {anchor[0]} were deleted from the end"
        )
    return AuditReport(True, count)


def tail(path: Path, n: int) -> list[dict[str, Any]]:
    """The newest ``n`` records (unverified)."""
    with path.open("rb") as handle:
        lines = deque(handle, maxlen=n)
    return [json.loads(line) for line in lines if line.endswith(b"\n")]
