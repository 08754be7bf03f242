"""The durable outbox: order, bounds, expiry, delivery, corruption and SIGKILL at any point."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from edgeward.adapters.upstream import ChatMessage, RedactedRequest
from edgeward.daemon.outbox import (
    CORRUPT_DIR,
    Entry,
    Outbox,
    OutboxError,
    OutboxFull,
    OutboxLocked,
    Undeliverable,
    idempotency_key,
)
from edgeward.runtime.catalog import Tool

DAY = 86400.0
TOOL = Tool("light.turn_on", "turn on a light", ("light.kitchen",), {"type": "object"})


def request(n: int, size: int = 0, purpose: str = "summary") -> RedactedRequest:
    return RedactedRequest(
        request_id=f"req-{n}",
        destination="eu-llm",
        purpose=purpose,
        messages=(
            ChatMessage("system", "Summarise the day."),
            ChatMessage("user", f"<PERSON_1> opened the door {n} times" + "." * size),
        ),
        tools=(TOOL,),
        data_classes=("person_name",),
        policy_version=4,
    )


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def entry_files(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.entry"))


# --------------------------------------------------------------------------- order and reopen


def test_fifo_order_survives_reopen_with_stable_keys(tmp_path: Path) -> None:
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        appended = [box.append(request(n)) for n in range(5)]
        assert len(box) == 5
        assert [e.seq for e in appended] == [1, 2, 3, 4, 5]
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        reopened = box.entries()
        assert reopened == appended
        assert [e.request.request_id for e in reopened] == [f"req-{n}" for n in range(5)]
        assert len({e.idempotency_key for e in reopened}) == 5
        assert box.bytes_used == sum(e.size for e in appended)
        assert box.append(request(9)).seq == 6  # numbering continues after the last entry


def test_idempotency_key_is_stable_and_re_append_is_not_duplicated(tmp_path: Path) -> None:
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        first = box.append(request(1))
        again = box.append(request(1))
        assert again == first and len(box) == 1
        assert first.idempotency_key == idempotency_key(request(1))
        other = box.append(request(1, purpose="digest"))
        assert other.idempotency_key != first.idempotency_key
    assert idempotency_key(request(1)) == idempotency_key(request(1))


def test_only_redacted_requests_are_accepted(tmp_path: Path) -> None:
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        for bad in ("Alice Martin opened the door", b"raw bytes", request(1).to_json()):
            with pytest.raises(TypeError, match="only RedactedRequest"):
                box.append(bad)
        assert len(box) == 0 and entry_files(tmp_path) == []


def test_one_process_at_a_time(tmp_path: Path) -> None:
    box = Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY)
    with pytest.raises(OutboxLocked, match="in use by another process"):
        Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY)
    box.close()
    Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY).close()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_bytes": 0}, "max_bytes must be > 0"),
        ({"max_age_s": 0}, "max_age_s must be > 0"),
        ({"on_full": "drop_newest"}, "on_full must be"),
    ],
)
def test_bad_settings(tmp_path: Path, kwargs: dict[str, object], message: str) -> None:
    args: dict[str, object] = {"max_bytes": 1000, "max_age_s": 60.0}
    args.update(kwargs)
    with pytest.raises(OutboxError, match=message):
        Outbox(tmp_path, **args)


# --------------------------------------------------------------------------- bounds


def test_full_rejects_the_new_entry_and_keeps_the_queue(tmp_path: Path) -> None:
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as probe:
        size = probe.append(request(0, 500)).size
    for p in tmp_path.glob("*.entry"):
        p.unlink()
    with Outbox(tmp_path, max_bytes=3 * size + 10, max_age_s=DAY) as box:
        kept = [box.append(request(n, 500)) for n in range(3)]
        with pytest.raises(OutboxFull, match="is full: request req-3 needs") as info:
            box.append(request(3, 500))
        assert info.value.limit == 3 * size + 10
        assert info.value.used == sum(e.size for e in kept) == box.bytes_used
        assert box.entries() == kept


def test_full_drops_oldest_when_configured(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as probe:
        size = probe.append(request(0, 500)).size
    for p in tmp_path.glob("*.entry"):
        p.unlink()
    with Outbox(tmp_path, max_bytes=3 * size + 10, max_age_s=DAY, on_full="drop_oldest") as box:
        for n in range(5):
            box.append(request(n, 500))
        assert [e.request.request_id for e in box.entries()] == ["req-2", "req-3", "req-4"]
    assert caplog.text.count("full, dropped oldest entry") == 2
    assert "req-0" in caplog.text and "<PERSON_1>" not in caplog.text


def test_an_entry_larger_than_the_outbox_is_always_refused(tmp_path: Path) -> None:
    with Outbox(tmp_path, max_bytes=2000, max_age_s=DAY, on_full="drop_oldest") as box:
        box.append(request(1))
        with pytest.raises(OutboxFull, match="entry larger than the outbox"):
            box.append(request(2, 5000))
        assert len(box) == 1


def test_expired_entries_are_dropped_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    clock = Clock()
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=60, clock=clock) as box:
        box.append(request(1))
        clock.now += 30
        box.append(request(2))
        clock.now += 31  # req-1 is 61 s old, req-2 31 s
        assert box.expire() == 1
        assert [e.request.request_id for e in box.entries()] == ["req-2"]
    assert "entry 1 (request req-1 for eu-llm, summary) expired after 61s" in caplog.text
    clock.now += 30
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=60, clock=clock) as box:
        assert len(box) == 0  # expired while closed: dropped on open
    assert entry_files(tmp_path) == []


def test_expired_entries_are_not_sent(tmp_path: Path) -> None:
    clock = Clock()
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=60, clock=clock) as box:
        box.append(request(1))
        clock.now += 50
        box.append(request(2))
        clock.now += 20
        sent: list[str] = []
        result = box.drain(lambda e: sent.append(e.request.request_id))
    assert sent == ["req-2"]
    assert (result.delivered, result.expired, result.remaining) == (1, 1, 0)


# --------------------------------------------------------------------------- delivery


def test_drain_stops_at_the_first_failure_and_resumes_in_order(tmp_path: Path) -> None:
    box = Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY)
    keys = [box.append(request(n)).idempotency_key for n in range(5)]
    sent: list[str] = []
    failing = {"req-2"}

    def send(entry: Entry) -> None:
        if entry.request.request_id in failing:
            raise ConnectionError("upstream down")
        sent.append(entry.idempotency_key)

    result = box.drain(send)
    assert sent == keys[:2]
    assert (result.delivered, result.remaining) == (2, 3)
    assert isinstance(result.failure, ConnectionError)
    assert box.entries()[0].request.request_id == "req-2"  # still at the head
    assert len(entry_files(tmp_path)) == 3
    box.close()

    failing.clear()
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        result = box.drain(send)
    assert sent == keys  # in order, each once, same keys across the reopen
    assert (result.delivered, result.remaining, result.failure) == (3, 0, None)
    assert entry_files(tmp_path) == []


def test_undeliverable_entries_are_dropped_with_a_log_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        for n in range(3):
            box.append(request(n))
        sent: list[str] = []

        def send(entry: Entry) -> None:
            if entry.request.request_id == "req-1":
                raise Undeliverable("upstream refused it: HTTP 400")
            sent.append(entry.request.request_id)

        result = box.drain(send)
    assert sent == ["req-0", "req-2"]
    assert (result.delivered, result.dropped, result.remaining) == (2, 1, 0)
    assert "entry 2 (request req-1 for eu-llm, summary) is undeliverable" in caplog.text


def test_entries_appended_while_draining_are_drained_after(tmp_path: Path) -> None:
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        box.append(request(0))
        sent: list[str] = []

        def send(entry: Entry) -> None:
            sent.append(entry.request.request_id)
            if entry.request.request_id == "req-0":
                worker = threading.Thread(target=box.append, args=(request(1),))
                worker.start()
                worker.join()

        box.drain(send)
    assert sent == ["req-0", "req-1"]


# --------------------------------------------------------------------------- corruption


def test_corrupt_entries_are_set_aside_never_deleted(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        entries = [box.append(request(n)) for n in range(4)]
    flipped = tmp_path / "0000000000000002.entry"
    data = bytearray(flipped.read_bytes())
    data[-5] ^= 0x20
    flipped.write_bytes(bytes(data))
    (tmp_path / "0000000000000003.entry").write_bytes(b"")  # torn by something outside us
    (tmp_path / ".0000000000000005.entry.abc.tmp").write_bytes(b"half a wri")  # interrupted

    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        assert [e.seq for e in box.entries()] == [1, 4]
        assert box.entries()[1] == entries[3]
    aside = sorted(p.name for p in (tmp_path / CORRUPT_DIR).iterdir())
    assert [name.split(".entry")[0] for name in aside] == ["0000000000000002", "0000000000000003"]
    assert (tmp_path / CORRUPT_DIR / aside[0]).read_bytes() == bytes(data)  # kept as it was
    assert "0000000000000002.entry is corrupt (checksum mismatch)" in caplog.text
    assert "0000000000000003.entry is corrupt (not an outbox entry" in caplog.text
    assert "whose write was interrupted" in caplog.text
    assert not list(tmp_path.glob(".*.tmp"))


def test_corruption_found_while_draining_is_set_aside_and_the_drain_goes_on(
    tmp_path: Path,
) -> None:
    with Outbox(tmp_path, max_bytes=1 << 20, max_age_s=DAY) as box:
        for n in range(3):
            box.append(request(n))
        (tmp_path / "0000000000000002.entry").write_bytes(b"edgeward-outbox 1 00\n{}")
        sent: list[str] = []
        result = box.drain(lambda e: sent.append(e.request.request_id))
    assert sent == ["req-0", "req-2"] and result.remaining == 0
    assert len(list((tmp_path / CORRUPT_DIR).iterdir())) == 1


# --------------------------------------------------------------------------- SIGKILL

_APPENDER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from edgeward.adapters.upstream import ChatMessage, RedactedRequest
    from edgeward.daemon.outbox import Outbox

    directory, tag = Path(sys.argv[1]), sys.argv[2]
    box = Outbox(directory, max_bytes=1 << 30, max_age_s=86400.0)
    n = 0
    while True:
        req = RedactedRequest(
            request_id=f"{tag}-{n}", destination="eu-llm", purpose="summary",
            messages=(ChatMessage("user", f"{tag}-{n} " + "x" * 65536),),
        )
        entry = box.append(req)
        print(f"ACK {entry.seq} {entry.idempotency_key} {tag}-{n}", flush=True)
        n += 1
    """
)

_DRAINER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from edgeward.daemon.outbox import Outbox

    box = Outbox(Path(sys.argv[1]), max_bytes=1 << 30, max_age_s=86400.0)

    def send(entry):
        print(f"SENT {entry.seq} {entry.idempotency_key}", flush=True)
        time.sleep(0.002)

    box.drain(send)
    print("DONE", flush=True)
    time.sleep(60)
    """
)


def _run_until(script: str, args: list[str], lines: int) -> list[list[str]]:
    """Run ``script`` until it printed ``lines`` lines, SIGKILL it a random moment later, and
    return everything it printed before it died."""
    proc = subprocess.Popen(
        [sys.executable, "-c", script, *args], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    out: list[list[str]] = []
    try:
        while len(out) < lines:
            line = proc.stdout.readline()
            if not line:
                break
            out.append(line.split())
        threading.Event().wait(random.random() * 0.01)  # let it get into the next write
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
    out += [line.split() for line in proc.stdout.read().splitlines() if line.strip()]
    proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    assert len(out) >= lines, "the child died before doing its work"
    return out


def test_sigkill_while_appending_loses_no_acknowledged_entry(tmp_path: Path) -> None:
    acked: list[tuple[int, str, str]] = []
    for round_ in range(6):
        out = _run_until(_APPENDER, [str(tmp_path), f"r{round_}"], random.randint(2, 12))
        acked += [(int(seq), key, rid) for _, seq, key, rid in out]
        with Outbox(tmp_path, max_bytes=1 << 30, max_age_s=DAY) as box:
            present = {e.seq: e for e in box.entries()}
        for seq, key, rid in acked:
            entry = present[seq]  # every acknowledged entry is there, intact
            assert (entry.idempotency_key, entry.request.request_id) == (key, rid)
            assert entry.request.messages[0].content.startswith(f"{rid} x")
        # Anything beyond the acknowledged ones is a whole entry written just before the kill.
        extra = sorted(set(present) - {seq for seq, _, _ in acked})
        assert all(seq > max(s for s, _, _ in acked) for seq in extra)
        assert len(extra) <= 1
        acked += [(s, present[s].idempotency_key, present[s].request.request_id) for s in extra]
        assert not list(tmp_path.glob(".*.tmp")) and not (tmp_path / CORRUPT_DIR).exists()
    assert [s for s, _, _ in acked] == sorted(s for s, _, _ in acked)


def test_sigkill_while_draining_loses_nothing_and_redelivers_with_the_same_key(
    tmp_path: Path,
) -> None:
    with Outbox(tmp_path, max_bytes=1 << 30, max_age_s=DAY) as box:
        originals = [box.append(request(n, 2000)) for n in range(40)]
    by_key = {e.idempotency_key: e for e in originals}
    sent_total: list[str] = []
    for _ in range(4):
        out = _run_until(_DRAINER, [str(tmp_path)], random.randint(2, 8))
        sent = [key for tag, _, key in out if tag == "SENT"]
        sent_total += sent
        with Outbox(tmp_path, max_bytes=1 << 30, max_age_s=DAY) as box:
            remaining = box.entries()
        # What is left is a suffix of the original order: nothing lost, nothing reordered.
        assert remaining == originals[len(originals) - len(remaining) :]
        # Every entry not yet handed to send is still there; at most the one in flight was sent.
        unsent = [e for e in originals if e.idempotency_key not in sent_total]
        assert all(e in remaining for e in unsent)
        assert len(remaining) - len(unsent) <= 1
    # Delivery is in order and at least once: a key repeats only right after a kill, when the
    # entry in flight is sent again with the same key.
    assert set(sent_total) <= set(by_key)
    deduplicated = [k for i, k in enumerate(sent_total) if i == 0 or sent_total[i - 1] != k]
    assert deduplicated == [e.idempotency_key for e in originals][: len(deduplicated)]
