"""Time: delayed, timed and recurring actions, confirmations and policy expiry, on apscheduler.

Jobs are kept in the store (table ``schedules``) and registered again at start, so a restart loses
none. A job never does work on apscheduler's thread: it hands a callable to the service's worker.
A one-shot job missed by more than ``MISFIRE_GRACE_S`` while the gateway was down is dropped with
a log line rather than run late (a light switched on hours late is worse than not at all).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import tzlocal
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger

from edgeward.daemon.store import Store
from edgeward.policies.document import parse_cron_field

log = logging.getLogger(__name__)

MISFIRE_GRACE_S = 300


_DAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")


def crontab_trigger(cron: str, zone: Any) -> CronTrigger:
    """The APScheduler trigger of a standard five-field cron expression.

    APScheduler 3 numbers the days of the week from Monday (0) where cron numbers them from
    Sunday (0 or 7), and its ``from_crontab`` passes the field through: "1-5" would run Tuesday
    to Saturday. The day field is given to it as day names instead. Raises ValueError for an
    expression that is not five fields or a day field that is not cron's.
    """
    fields = cron.split()
    if len(fields) != 5:
        raise ValueError(f"a cron expression has 5 fields, got {len(fields)}")
    minute, hour, day, month, dow = fields
    return CronTrigger(minute=minute, hour=hour, day=day, month=month,
                       day_of_week=_day_names(dow), timezone=zone)  # fmt: skip


def _day_names(field: str) -> str:
    if field in ("*", "?"):
        return "*"
    days = parse_cron_field(field, "day of week", 0, 7)
    return ",".join(_DAY_NAMES[d] for d in sorted({d % 7 for d in days}))


class ScheduleError(ValueError):
    """A schedule that cannot be understood (a bad cron expression or time)."""


def local_zone(name: str | None) -> ZoneInfo:
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ScheduleError(f"unknown time zone {name!r} (setting timezone)") from None
    zone = tzlocal.get_localzone()
    return zone if isinstance(zone, ZoneInfo) else ZoneInfo("UTC")


class Scheduler:
    """Persistent jobs whose firing calls ``dispatch(job_doc)`` on the service's worker."""

    def __init__(
        self,
        store: Store,
        dispatch: Callable[[dict[str, Any]], None],
        submit: Callable[[Callable[[], None]], None],
        timezone: str | None = None,
    ) -> None:
        self.store = store
        self.zone = local_zone(timezone)
        self._dispatch = dispatch
        self._submit = submit
        self._aps = BackgroundScheduler(timezone=self.zone)

    def start(self) -> None:
        self._aps.start()
        for doc in self.store.schedules():
            if doc.get("kind") == "confirmation":
                continue  # answered by the confirm topic; expiry is checked when it comes
            try:
                self._register(doc)
            except ScheduleError as exc:
                log.error("dropping stored job %s: %s", doc.get("job_id"), exc)
                self.store.drop_schedule(doc["job_id"])
        self.store.commit()

    def stop(self) -> None:
        self._aps.shutdown(wait=False)

    def add(self, doc: dict[str, Any]) -> str:
        """Persist and register a job. ``doc`` has ``when``: {delay_s | at "HH:MM" | cron}."""
        job_id = doc.get("job_id") or uuid.uuid4().hex[:16]
        doc = {**doc, "job_id": job_id, "created": time.time()}
        when = doc.get("when") or {}
        if when.get("delay_s") is not None:
            doc["run_at"] = time.time() + float(when["delay_s"])
        elif when.get("at"):
            doc["run_at"] = self._next_time_of_day(str(when["at"])).timestamp()
        self._register(doc)  # raises ScheduleError before anything is stored
        self.store.put_schedule(job_id, doc)
        return job_id

    def cancel(self, job_id: str) -> None:
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)
        self.store.drop_schedule(job_id)

    def at(self, when: datetime, action: Callable[[], None], job_id: str) -> None:
        """A one-off internal timer (not persisted), e.g. the policy's expiry."""
        self._aps.add_job(
            lambda: self._submit(action),
            DateTrigger(run_date=when),
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    def every(self, job_id: str, cron: str, zone: str, action: Callable[[], None]) -> None:
        """A recurring internal timer (not persisted: a policy's time triggers come back with
        the policy at start), on a five-field cron expression in ``zone``."""
        try:
            trigger = crontab_trigger(cron, ZoneInfo(zone))
        except (ValueError, ZoneInfoNotFoundError) as exc:
            raise ScheduleError(f"bad cron expression {cron!r} or zone {zone!r}: {exc}") from None
        self._aps.add_job(
            lambda: self._submit(action),
            trigger,
            id=job_id,
            replace_existing=True,
            misfire_grace_time=MISFIRE_GRACE_S,
        )

    def drop(self, job_id: str) -> None:
        """Remove an internal timer (no error when there is none)."""
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    def _register(self, doc: dict[str, Any]) -> None:
        job_id = doc["job_id"]
        cron = (doc.get("when") or {}).get("cron")
        if cron:
            try:
                trigger: Any = crontab_trigger(cron, self.zone)
            except ValueError as exc:
                raise ScheduleError(f"bad cron expression {cron!r}: {exc}") from None
            grace: int | None = MISFIRE_GRACE_S
        else:
            run_at = doc.get("run_at")
            if not isinstance(run_at, int | float):
                raise ScheduleError("a job needs when.delay_s, when.at or when.cron")
            late = time.time() - run_at
            if late > MISFIRE_GRACE_S:
                log.warning(
                    "job %s was due %.0f s ago while the gateway was down: not run late",
                    job_id,
                    late,
                    extra={"event": "job_missed", "job_id": job_id},
                )
                self.store.drop_schedule(job_id)
                return
            trigger = DateTrigger(run_date=datetime.fromtimestamp(max(run_at, time.time()), UTC))
            grace = MISFIRE_GRACE_S
        self._aps.add_job(
            self._fire,
            trigger,
            args=[job_id],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=grace,
        )

    def _fire(self, job_id: str) -> None:
        def run() -> None:
            doc = self.store.schedule(job_id)
            if doc is None:
                return  # cancelled meanwhile
            if not (doc.get("when") or {}).get("cron"):
                self.store.drop_schedule(job_id)
            self._dispatch(doc)

        self._submit(run)

    def _next_time_of_day(self, hhmm: str) -> datetime:
        try:
            hour, minute = (int(part) for part in hhmm.split(":"))
            now = datetime.now(self.zone)
            target = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        except ValueError:
            raise ScheduleError(f"bad time of day {hhmm!r}: use HH:MM") from None
        return target if target > now else target + timedelta(days=1)

    def jobs(self) -> list[dict[str, Any]]:
        return [d for d in self.store.schedules() if d.get("kind") != "confirmation"]
