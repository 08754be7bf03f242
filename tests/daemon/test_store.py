"""The store: durable at commit, survives a crash, bounded, corrupt files set aside."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path

import pytest

from edgeward.daemon.store import ACCEPTED, ANSWERED, RequestRecord, Store, StoreError


def record(i: int, status: str = ACCEPTED) -> RequestRecord:
    return RequestRecord(
        id=f"r{i}", kind="call", status=status, payload={"n": i}, received_at=0.0, reply_topic="t"
    )


def test_committed_changes_survive_without_close(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put(record(1))
    store.commit()
    again = Store(tmp_path)  # the first was never closed: as after SIGKILL
    assert again.get("r1") is not None
    assert [r.id for r in again.unanswered()] == ["r1"]


def _writer(path: str, ready: multiprocessing.synchronize.Event) -> None:  # type: ignore[name-defined]
    store = Store(Path(path))
    i = 0
    while True:
        store.put(record(i, ANSWERED))
        store.commit()
        marker = Path(path) / "acked.tmp"
        marker.write_text(str(i))
        os.replace(marker, Path(path) / "acked")  # the marker itself must not tear
        if i == 50:
            ready.set()
        i += 1


def test_sigkill_mid_write_loses_nothing_committed(tmp_path: Path) -> None:
    ctx = multiprocessing.get_context("fork")
    ready = ctx.Event()
    proc = ctx.Process(target=_writer, args=(str(tmp_path), ready))
    proc.start()
    assert ready.wait(20)
    os.kill(proc.pid, signal.SIGKILL)
    proc.join()
    acked = int((tmp_path / "acked").read_text())
    store = Store(tmp_path)
    for i in range(acked + 1):
        assert store.get(f"r{i}") is not None, f"r{i} was committed and is lost"


def test_torn_last_journal_line_is_dropped(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put(record(1))
    store.commit()
    with open(tmp_path / "journal.jsonl", "ab") as journal:
        journal.write(b'{"op":"put_request","doc":{"id":"r2"')
    again = Store(tmp_path)
    assert again.get("r1") is not None
    assert again.get("r2") is None


def test_corrupt_snapshot_is_set_aside_not_overwritten(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Store(tmp_path).close()
    (tmp_path / "state.json").write_text("{not json")
    store = Store(tmp_path)
    aside = list(tmp_path.glob("state.json.corrupt-*"))
    assert len(aside) == 1 and aside[0].read_text() == "{not json"
    assert "unusable" in caplog.text
    assert len(store) == 0


def test_corrupt_journal_middle_is_set_aside(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put(record(1))
    store.commit()
    with open(tmp_path / "journal.jsonl", "ab") as journal:
        journal.write(
            b"garbage\n"
            + json.dumps({"op": "put_request", "doc": record(3).to_doc()}).encode()
            + b"\n"
        )
    again = Store(tmp_path)
    assert again.get("r1") is not None
    assert list(tmp_path.glob("journal.jsonl.corrupt-*"))


def test_bounded_keeps_unanswered(tmp_path: Path) -> None:
    store = Store(tmp_path, max_requests=100)
    store.put(record(-1))  # never answered: must never be forgotten
    for i in range(400):
        store.put(record(i, ANSWERED))
    store.checkpoint()
    assert len(store) <= 100
    assert store.get("r-1") is not None
    assert store.get("r399") is not None
    assert store.get("r0") is None


def test_a_second_process_cannot_share_the_state_dir(tmp_path: Path) -> None:
    first = Store(tmp_path)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()

    def other() -> None:
        try:
            Store(tmp_path)
            queue.put("opened")
        except StoreError as exc:
            queue.put(str(exc))

    proc = ctx.Process(target=other)
    proc.start()
    proc.join()
    assert "another edgeward process" in queue.get(timeout=5)
    first.close()


def test_schedules_round_trip(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put_schedule("job1", {"kind": "call", "at": 5})
    store.close()
    store = Store(tmp_path)
    assert store.schedule("job1") == {"kind": "call", "at": 5, "job_id": "job1"}
    store.drop_schedule("job1")
    store.close()
    assert Store(tmp_path).schedules() == []


def test_answers_found_in_the_journal_after_a_crash_are_listed(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.put(record(1))
    store.put(record(2))
    store.commit()
    store.update("r1", status=ANSWERED, reply={"id": "r1", "status": "done"})
    store.commit()  # no close: as after SIGKILL
    again = Store(tmp_path)
    assert again.answered_before_crash == ["r1"]
    again.close()
    assert Store(tmp_path).answered_before_crash == []  # a clean stop leaves nothing to resend
