"""The durable store: every accepted request, its progress and its reply, and scheduled actions.

Layout in ``state_dir``:

- ``state.json``: a TinyDB database (tables ``requests`` and ``schedules``), the snapshot. It is
  only ever replaced atomically (temp file, fsync, rename, fsync dir).
- ``journal.jsonl``: the changes since the snapshot, one JSON object per line, appended and
  fsynced at each :meth:`Store.commit`. Rewriting a whole snapshot for every request would cost
  milliseconds per request; an append costs microseconds. Every change is idempotent, so replaying
  the journal over a snapshot that already holds some of it is harmless. A torn last line (a crash
  mid-append) is dropped; anything else unreadable is set aside and reported.

Once the journal reaches a few MiB (and at :meth:`Store.close`) the snapshot is rewritten and the journal
emptied. The ``requests`` table is bounded: past ``max_requests`` the oldest answered requests are
forgotten, so a request id is de-duplicated within the most recent ``max_requests`` requests.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from tinydb import TinyDB
from tinydb.storages import Storage

from edgeward.policies.state_files import atomic_write, fsync_dir, set_aside

log = logging.getLogger(__name__)

ACCEPTED = "accepted"
EXECUTING = "executing"
ANSWERED = "answered"


class StoreError(Exception):
    """The store cannot be opened or written (for example: the disk is full)."""


def _lock(path: Path) -> IO[bytes]:
    """Hold a POSIX lock on ``path`` for the life of the store: one process per state folder."""
    handle = open(path, "a+b")
    try:
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise StoreError(
            f"another edgeward process is using {path.parent} (state_dir); stop it first"
        ) from None
    return handle


class AtomicJSONStorage(Storage):
    """TinyDB storage that keeps everything in memory and writes the file only on :meth:`save`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._data: dict[str, dict[str, Any]] | None = None
        if path.exists():
            try:
                loaded = json.loads(path.read_bytes())
                if not isinstance(loaded, dict):
                    raise ValueError("top level is not an object")
                self._data = loaded
            except (ValueError, UnicodeDecodeError) as exc:
                set_aside(path, str(exc))

    def read(self) -> dict[str, dict[str, Any]] | None:
        return self._data

    def write(self, data: dict[str, dict[str, Any]]) -> None:
        self._data = data

    def save(self) -> None:
        payload = json.dumps(self._data or {}, separators=(",", ":")).encode()
        atomic_write(self.path, payload)

    def close(self) -> None:
        pass


@dataclass
class RequestRecord:
    """One request as the store knows it."""

    id: str
    kind: str
    status: str
    payload: dict[str, Any]
    received_at: float
    reply_topic: str
    correlation: str | None = None  # hex of the MQTT 5 correlation data
    client: str | None = None
    reply: dict[str, Any] | None = None
    started: list[int] = field(default_factory=list)  # indexes of calls whose actuation began

    def to_doc(self) -> dict[str, Any]:
        return self.__dict__.copy()

    @classmethod
    def from_doc(cls, doc: dict[str, Any]) -> RequestRecord:
        return cls(**{k: doc[k] for k in cls.__dataclass_fields__ if k in doc})


class Store:
    """Requests and schedules, durable at each :meth:`commit`. Thread-safe.

    The live state is two ordered dicts; TinyDB is the snapshot's format (``edgeward doctor`` and
    people can read it with TinyDB's queries). TinyDB's own update path copies a whole table per
    change, far too slow to run per request, so it is written only at checkpoints.
    """

    CHECKPOINT_BYTES = 8 * 1024 * 1024
    """Rewrite the snapshot once the journal is this big: a snapshot costs tens of milliseconds,
    replaying 8 MiB of journal at start about a quarter of a second."""

    def __init__(self, state_dir: Path, max_requests: int = 10000) -> None:
        self.dir = state_dir
        self.max_requests = max_requests
        self._lock = threading.RLock()
        self._snapshot_path = state_dir / "state.json"
        self._journal_path = state_dir / "journal.jsonl"
        try:
            state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
            self._lockfile = _lock(state_dir / "lock")
            self._db = TinyDB(self._snapshot_path, storage=AtomicJSONStorage)
        except OSError as exc:
            raise StoreError(f"cannot open the store in {state_dir}: {exc.strerror}") from exc
        self._requests: dict[str, dict[str, Any]] = {
            doc["id"]: dict(doc) for doc in self._db.table("requests").all()
        }
        self._schedules: dict[str, dict[str, Any]] = {
            doc["job_id"]: dict(doc) for doc in self._db.table("schedules").all()
        }
        self._pending_lines: list[bytes] = []
        self._journal_bytes = 0
        # Requests answered since the last snapshot, found in the journal of a process that did
        # not stop cleanly: their replies may not have left it, so they are sent again.
        self.answered_before_crash: list[str] = []
        self._replay_journal()
        self._journal = open(self._journal_path, "ab")
        self._journal_size = self._journal.seek(0, os.SEEK_END)

    # -- opening -----------------------------------------------------------------------------

    def _replay_journal(self) -> None:
        if not self._journal_path.exists():
            return
        raw = self._journal_path.read_bytes()
        lines = raw.split(b"\n")
        replayed = 0
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                change = json.loads(line)
                self._apply(change)
                replayed += 1
                if change.get("fields", change.get("doc", {})).get("status") == ANSWERED:
                    self.answered_before_crash.append(change.get("id") or change["doc"]["id"])
            except (ValueError, KeyError, TypeError) as exc:
                if number == len(lines):
                    log.warning("dropped a torn last journal line (a crash mid-write)")
                    break
                self._write_snapshot()
                set_aside(self._journal_path, f"line {number}: {exc}")
                return
        if replayed:
            log.info("replayed %d journal changes", replayed, extra={"event": "journal_replay"})
        self._write_snapshot()
        self._journal_path.unlink()
        fsync_dir(self.dir)

    # -- changes -----------------------------------------------------------------------------

    def _apply(self, change: dict[str, Any]) -> None:
        op = change["op"]
        if op == "put_request":
            doc = change["doc"]
            self._requests[doc["id"]] = doc
        elif op == "set_request":
            self._requests[change["id"]].update(change["fields"])
        elif op == "put_schedule":
            doc = change["doc"]
            self._schedules[doc["job_id"]] = doc
        elif op == "drop_schedule":
            self._schedules.pop(change["job_id"], None)
        else:
            raise KeyError(f"unknown journal op {op!r}")

    def _change(self, change: dict[str, Any]) -> None:
        with self._lock:
            self._apply(change)
            self._pending_lines.append(json.dumps(change, separators=(",", ":")).encode() + b"\n")

    def commit(self) -> None:
        """Make every change so far durable. Raises StoreError when the disk refuses."""
        with self._lock:
            if not self._pending_lines:
                return
            data = b"".join(self._pending_lines)
            start = self._journal_size
            try:
                self._journal.write(data)
                self._journal.flush()
                os.fdatasync(self._journal.fileno())
            except OSError as exc:
                # Keep the lines for the next commit and cut any half-written tail, so the
                # journal never holds a torn line in its middle; nothing accepted is dropped.
                self._reopen_journal(start)
                raise StoreError(f"cannot write {self._journal_path}: {exc.strerror}") from exc
            self._journal_bytes += len(data)
            self._journal_size += len(data)
            self._pending_lines.clear()
            if self._journal_bytes >= self.CHECKPOINT_BYTES:
                self.checkpoint()

    def _reopen_journal(self, size: int) -> None:
        try:
            self._journal.close()
        except OSError:
            pass  # the buffered bytes that failed are in _pending_lines, rewritten next commit
        with open(self._journal_path, "r+b") as handle:
            handle.truncate(size)
        self._journal = open(self._journal_path, "ab")

    def checkpoint(self) -> None:
        """Forget the oldest answered requests past the bound, rewrite the snapshot, empty the
        journal."""
        with self._lock:
            self.commit()
            excess = len(self._requests) - self.max_requests
            if excess > 0:
                old = [k for k, d in self._requests.items() if d["status"] == ANSWERED][:excess]
                for key in old:
                    del self._requests[key]
            try:
                self._write_snapshot()
                self._journal.truncate(0)
                self._journal.seek(0)
                self._journal_size = 0
                os.fsync(self._journal.fileno())
            except OSError as exc:
                raise StoreError(f"cannot write {self._snapshot_path}: {exc.strerror}") from exc
            self._journal_bytes = 0

    def _write_snapshot(self) -> None:
        self._db.drop_tables()
        self._db.table("requests", cache_size=0).insert_multiple(self._requests.values())
        self._db.table("schedules", cache_size=0).insert_multiple(self._schedules.values())
        storage = self._db.storage
        assert isinstance(storage, AtomicJSONStorage)
        storage.save()

    def close(self) -> None:
        with self._lock:
            try:
                self.checkpoint()
            finally:
                self._journal.close()
                self._db.close()
                self._lockfile.close()

    # -- requests ----------------------------------------------------------------------------

    def get(self, request_id: str) -> RequestRecord | None:
        with self._lock:
            doc = self._requests.get(request_id)
            return None if doc is None else RequestRecord.from_doc(doc)

    def put(self, record: RequestRecord) -> None:
        """Record a new request or its progress (durable at the next commit)."""
        self._change({"op": "put_request", "doc": record.to_doc()})

    def update(self, request_id: str, **fields: Any) -> None:
        """Record progress of a stored request (only the changed fields go to the journal)."""
        self._change({"op": "set_request", "id": request_id, "fields": fields})

    def unanswered(self) -> Iterator[RequestRecord]:
        """Requests accepted before a restart and not yet answered, oldest first."""
        with self._lock:
            docs = [d for d in self._requests.values() if d["status"] != ANSWERED]
        for doc in docs:
            yield RequestRecord.from_doc(doc)

    def __len__(self) -> int:
        return len(self._requests)

    # -- schedules ---------------------------------------------------------------------------

    def put_schedule(self, job_id: str, doc: dict[str, Any]) -> None:
        self._change({"op": "put_schedule", "doc": {**doc, "job_id": job_id}})

    def drop_schedule(self, job_id: str) -> None:
        self._change({"op": "drop_schedule", "job_id": job_id})

    def schedule(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            doc = self._schedules.get(job_id)
            return None if doc is None else dict(doc)

    def schedules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(d) for d in self._schedules.values()]
