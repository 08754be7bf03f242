"""The planner in the daemon: which models to load, and a thread to run them on.

Planning runs on a thread of its own so that the worker keeps taking and acknowledging requests
while a model thinks (the embedded model takes milliseconds, a bring-your-own 1B model seconds).

The thread holds the cascade's local rungs: the first planner (``[model] path``, else the
embedded model) and, when ``[model] backup_path`` is set, a bring-your-own backup asked only
when the first is unsure, answers ``unsupported``, fails or is missing. Both run here, one after
the other, never on the MQTT worker; the worker gets both answers and decides.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

from edgeward.daemon.settings import ModelSettings
from edgeward.runtime.catalog import Catalog
from edgeward.runtime.errors import ModelError
from edgeward.runtime.local_model import load_model
from edgeward.runtime.plan import Plan
from edgeward.runtime.planner import (
    DEFAULT_MODEL,
    EMBEDDED_THREADS,
    Planner,
    speaks_plan_language,
)
from edgeward.runtime.schema_planner import SchemaPlanner

log = logging.getLogger(__name__)

AnyPlanner: TypeAlias = Planner | SchemaPlanner
Loaded: TypeAlias = tuple[AnyPlanner, str]


@dataclass(frozen=True)
class Planned:
    """What the local rungs said about one request: the first planner's plan (None when there is
    no first planner) and the backup's, when it was asked. A rung that raised gives its error."""

    first: Plan | BaseException | None
    backup: Plan | BaseException | None = None


Done = Callable[[Planned], None]


class PlannerUnavailable(Exception):
    """The configured model cannot be loaded; the message says which file and why."""


def _load(path: Path, name: str, settings: ModelSettings, threads: int | None = None) -> Loaded:
    """A model that speaks the embedded model's plan language gets the compact planner; any
    other chat model is asked for JSON under a schema of the catalog. ``threads`` stands in
    for ``[model] threads`` when that is not set."""
    try:
        model = load_model(path, settings.backend, settings.device, settings.threads or threads)
    except (ModelError, OSError) as exc:
        raise PlannerUnavailable(str(exc)) from exc
    if speaks_plan_language(model):
        return Planner(model), name
    return SchemaPlanner(model), name


def load_planner(settings: ModelSettings) -> Loaded:
    """The planner on ``[model] path`` (bring your own), else on the embedded model."""
    if settings.path is not None:
        return _load(settings.path, str(settings.path), settings)
    return _load(DEFAULT_MODEL, "edgeward-embedded", settings, EMBEDDED_THREADS)


def load_backup_planner(settings: ModelSettings) -> Loaded | None:
    """The planner on ``[model] backup_path``, or None when no backup is configured."""
    if settings.backup_path is None:
        return None
    return _load(settings.backup_path, str(settings.backup_path), settings)


def needs_backup(plan: Plan | BaseException | None, min_confidence: float) -> bool:
    """Whether the first rung's answer sends a request on to the next rung: no planner, an
    error, ``unsupported``, or a plan less certain than ``min_confidence``. An ``ambiguous``
    plan is an answer (the person is asked which device), whatever its confidence."""
    if plan is None or isinstance(plan, BaseException):
        return True
    if plan.kind == "ambiguous":
        return False
    return plan.kind == "unsupported" or plan.confidence < min_confidence


class PlannerThread:
    """The local rungs on one thread: ``first`` (may be None when it failed to load) and an
    optional ``backup``, asked when :func:`needs_backup` says so at ``min_confidence``."""

    def __init__(
        self,
        first: Loaded | None,
        backup: Loaded | None = None,
        *,
        min_confidence: float = 0.0,
    ) -> None:
        if first is None and backup is None:
            raise ValueError("a planner thread needs a first planner or a backup")
        self.planner: AnyPlanner | None = first[0] if first else None
        self.name: str | None = first[1] if first else None
        self.backup: AnyPlanner | None = backup[0] if backup else None
        self.backup_name: str | None = backup[1] if backup else None
        self.min_confidence = min_confidence
        self._jobs: queue.Queue[tuple[Catalog, Mapping[str, Any], Any, Done] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="edgeward-planner", daemon=True)
        self._thread.start()

    def submit(self, catalog: Catalog, body: Mapping[str, Any], states: Any, done: Done) -> None:
        """Plan ``body`` (an ``ask`` request) against ``catalog``; ``done`` gets the plans."""
        self._jobs.put((catalog, body, states, done))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            catalog, body, states, done = job
            first = self._plan(self.planner, "planning", catalog, body, states)
            backup = None
            if self.backup is not None and needs_backup(first, self.min_confidence):
                backup = self._plan(
                    self.backup, "the backup model's planning", catalog, body, states
                )
            done(Planned(first, backup))

    @staticmethod
    def _plan(
        planner: AnyPlanner | None,
        what: str,
        catalog: Catalog,
        body: Mapping[str, Any],
        states: Any,
    ) -> Plan | BaseException | None:
        if planner is None:
            return None
        try:
            return planner.plan(
                catalog, body["text"], body.get("area"), body.get("language"), states
            )
        except Exception as exc:  # a planner bug must fail one request, not the gateway
            log.exception("%s failed", what)
            return exc

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(10)
