"""The planner in the daemon: which model to load, and a thread to run it on.

Planning runs on a thread of its own so that the worker keeps taking and acknowledging requests
while a model thinks (the embedded model takes milliseconds, a bring-your-own 1B model seconds).
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Mapping
from typing import Any

from edgeward.daemon.settings import ModelSettings
from edgeward.runtime.catalog import Catalog
from edgeward.runtime.errors import ModelError
from edgeward.runtime.local_model import load_model
from edgeward.runtime.plan import Plan
from edgeward.runtime.planner import DEFAULT_MODEL, Planner, speaks_plan_language
from edgeward.runtime.schema_planner import SchemaPlanner

log = logging.getLogger(__name__)

Done = Callable[[Plan | BaseException], None]


class PlannerUnavailable(Exception):
    """The configured model cannot be loaded; the message says which file and why."""


def load_planner(settings: ModelSettings) -> tuple[Planner | SchemaPlanner, str]:
    """The planner on ``[model] path`` (bring your own), else on the embedded model.

    A model whose tokenizer has the embedded model's entity references speaks its compact plan
    language; any other chat model is asked for JSON under a schema of the catalog.
    """
    path = settings.path or DEFAULT_MODEL
    name = str(settings.path) if settings.path else "edgeward-embedded"
    try:
        model = load_model(path, settings.backend, settings.device, settings.threads)
    except (ModelError, OSError) as exc:
        raise PlannerUnavailable(str(exc)) from exc
    if speaks_plan_language(model):
        return Planner(model), name
    return SchemaPlanner(model), name


class PlannerThread:
    def __init__(self, loaded: tuple[Planner | SchemaPlanner, str]) -> None:
        self.planner, self.name = loaded
        self._jobs: queue.Queue[tuple[Catalog, Mapping[str, Any], Any, Done] | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="edgeward-planner", daemon=True)
        self._thread.start()

    def submit(self, catalog: Catalog, body: Mapping[str, Any], states: Any, done: Done) -> None:
        """Plan ``body`` (an ``ask`` request) against ``catalog``; ``done`` gets the plan."""
        self._jobs.put((catalog, body, states, done))

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            catalog, body, states, done = job
            try:
                plan: Plan | BaseException = self.planner.plan(
                    catalog, body["text"], body.get("area"), body.get("language"), states
                )
            except Exception as exc:  # a planner bug must fail one request, not the gateway
                log.exception("planning failed")
                plan = exc
            done(plan)

    def stop(self) -> None:
        self._jobs.put(None)
        self._thread.join(10)
