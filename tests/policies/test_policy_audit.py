"""The tamper-evident audit log: every kind of tampering is found and located."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from edgeward.policies.audit import AuditLog, AuditLogError, tail, verify


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    path = tmp_path / "audit" / "audit.jsonl"
    log = AuditLog(path)
    for i in range(5):
        log.append({"effect": "allow", "tool": "light.turn_on", "n": i})
    log.close()
    return path


def lines(path: Path) -> list[bytes]:
    return path.read_bytes().splitlines(keepends=True)


def test_intact_log_verifies(log_path: Path) -> None:
    report = verify(log_path)
    assert report.ok and report.records == 5
    assert log_path.stat().st_mode & 0o777 == 0o600


def test_reopen_continues_the_chain(log_path: Path) -> None:
    log = AuditLog(log_path)
    assert log.append({"n": 5})["seq"] == 6
    log.close()
    assert verify(log_path).ok


def test_edited_record_is_named(log_path: Path) -> None:
    content = lines(log_path)
    content[2] = content[2].replace(b'"allow"', b'"deny"')
    log_path.write_bytes(b"".join(content))
    report = verify(log_path)
    assert not report.ok and report.line == 3 and "edited" in (report.problem or "")


def test_deleted_record_is_named(log_path: Path) -> None:
    content = lines(log_path)
    del content[1]
    log_path.write_bytes(b"".join(content))
    report = verify(log_path)
    assert not report.ok and report.line == 2 and "2..2 were deleted" in (report.problem or "")


def test_deleted_first_record(log_path: Path) -> None:
    log_path.write_bytes(b"".join(lines(log_path)[1:]))
    report = verify(log_path)
    assert not report.ok and report.line == 1


def test_inserted_record_is_named(log_path: Path) -> None:
    content = lines(log_path)
    forged = json.loads(content[1])
    forged["event"] = {"effect": "allow", "tool": "lock.unlock"}
    content.insert(2, json.dumps(forged).encode() + b"\n")
    log_path.write_bytes(b"".join(content))
    report = verify(log_path)
    assert not report.ok and report.line == 3 and "inserted" in (report.problem or "")


def test_deleted_tail_needs_the_anchor(log_path: Path) -> None:
    log = AuditLog(log_path)
    anchor = log.head()
    log.close()
    log_path.write_bytes(b"".join(lines(log_path)[:3]))
    assert verify(log_path).ok  # a chain alone cannot see a cut tail
    report = verify(log_path, anchor)
    assert not report.ok and "deleted from the end" in (report.problem or "")
    assert verify(log_path, (3, "f" * 64)).problem == "differs from the recorded head"


def test_torn_final_record_is_cut_at_open(log_path: Path) -> None:
    with log_path.open("ab") as handle:
        handle.write(b'{"seq": 6, "ts": "2026')
    assert verify(log_path).line == 6
    log = AuditLog(log_path)
    assert log.torn_bytes == len(b'{"seq": 6, "ts": "2026')
    log.append({"after": "crash"})
    log.close()
    assert verify(log_path).ok and verify(log_path).records == 6


def test_garbage_last_line_refuses_to_open(log_path: Path) -> None:
    with log_path.open("ab") as handle:
        handle.write(b"not json\n")
    with pytest.raises(AuditLogError, match="audit verify"):
        AuditLog(log_path)


def test_tail(log_path: Path) -> None:
    assert [r["event"]["n"] for r in tail(log_path, 2)] == [3, 4]
