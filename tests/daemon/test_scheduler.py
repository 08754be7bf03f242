"""Delayed, timed and recurring actions: run on the worker, persisted, restored after a restart."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from edgeward.daemon.scheduler import MISFIRE_GRACE_S, ScheduleError, Scheduler, crontab_trigger
from edgeward.daemon.store import Store


class Worker:
    """Stands where the service's worker stands: scheduled work is queued, then run here."""

    def __init__(self) -> None:
        self.queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self.fired: list[dict[str, Any]] = []

    def run_pending(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.queue.get(timeout=0.05)()
            except queue.Empty:
                continue


def make(tmp_path: Path, worker: Worker) -> tuple[Store, Scheduler]:
    store = Store(tmp_path)
    scheduler = Scheduler(store, worker.fired.append, worker.queue.put, "Europe/Paris")
    scheduler.start()
    return store, scheduler


def test_delayed_job_fires_once_on_the_worker(tmp_path: Path) -> None:
    worker = Worker()
    store, scheduler = make(tmp_path, worker)
    job = scheduler.add(
        {"kind": "call", "calls": [{"tool": "light.turn_on"}], "when": {"delay_s": 0.3}}
    )
    store.commit()
    assert worker.fired == []
    worker.run_pending(1.5)
    assert [d["job_id"] for d in worker.fired] == [job]
    assert store.schedule(job) is None  # one-shot: gone once it ran
    scheduler.stop()


def test_jobs_survive_a_restart(tmp_path: Path) -> None:
    worker = Worker()
    store, scheduler = make(tmp_path, worker)
    delayed = scheduler.add({"kind": "call", "calls": [], "when": {"delay_s": 1.0}})
    weekly = scheduler.add({"kind": "call", "calls": [], "when": {"cron": "30 6 * * 1-5"}})
    store.commit()
    scheduler.stop()  # the process goes away before the job is due
    store.close()
    worker = Worker()
    store, scheduler = make(tmp_path, worker)
    assert {d["job_id"] for d in scheduler.jobs()} == {delayed, weekly}
    worker.run_pending(2.0)
    assert [d["job_id"] for d in worker.fired] == [delayed]
    assert store.schedule(weekly) is not None  # recurring: stays
    scheduler.stop()


def test_a_job_missed_while_down_is_dropped_not_run_late(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path)
    store.put_schedule(
        "old",
        {
            "kind": "call",
            "calls": [],
            "when": {"delay_s": 1},
            "run_at": time.time() - MISFIRE_GRACE_S - 60,
        },
    )
    store.close()
    worker = Worker()
    store, scheduler = make(tmp_path, worker)
    worker.run_pending(0.5)
    assert worker.fired == [] and store.schedule("old") is None
    assert "not run late" in caplog.text
    scheduler.stop()


def test_time_of_day_and_bad_schedules(tmp_path: Path) -> None:
    worker = Worker()
    store, scheduler = make(tmp_path, worker)
    job = scheduler.add({"kind": "call", "calls": [], "when": {"at": "07:00"}})
    due = store.schedule(job)["run_at"] - time.time()
    assert 0 < due <= 24 * 3600
    with pytest.raises(ScheduleError, match="bad cron expression"):
        scheduler.add({"kind": "call", "calls": [], "when": {"cron": "every morning"}})
    with pytest.raises(ScheduleError, match="HH:MM"):
        scheduler.add({"kind": "call", "calls": [], "when": {"at": "seven"}})
    with pytest.raises(ScheduleError, match="unknown time zone"):
        Scheduler(store, worker.fired.append, worker.queue.put, "Mars/Olympus")
    scheduler.stop()


@pytest.mark.parametrize(
    ("cron", "weekdays"),
    [
        ("30 6 * * 1-5", {"Mon", "Tue", "Wed", "Thu", "Fri"}),
        ("0 7 * * 0,6", {"Sat", "Sun"}),
        ("0 7 * * 7", {"Sun"}),
        ("0 7 * * */2", {"Sun", "Tue", "Thu", "Sat"}),
        ("0 7 * * *", {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"}),
    ],
)
def test_cron_days_of_week_count_from_sunday(cron: str, weekdays: set[str]) -> None:
    """Standard cron: 0 and 7 are Sunday, 1-5 Monday to Friday (APScheduler 3 alone would
    read "1-5" as Tuesday to Saturday)."""
    zone = ZoneInfo("Europe/Paris")
    trigger = crontab_trigger(cron, zone)
    fire = datetime(2026, 11, 27, 7, 2, tzinfo=zone)  # a Friday, after 06:30
    seen = set()
    for _ in range(14):
        fire = trigger.get_next_fire_time(None, fire + timedelta(minutes=1))
        seen.add(fire.strftime("%a"))
    assert seen == weekdays


def test_cron_expressions_that_are_not_cron_are_refused() -> None:
    for bad in ("1 2 3", "0 7 * * 8", "0 7 * * mon", "0 7 * * 1-5/0"):
        with pytest.raises(ValueError):
            crontab_trigger(bad, ZoneInfo("UTC"))
