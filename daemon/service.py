"""The service: wires the MQTT session, devices, store, policy gate, planner and scheduler together.

One worker thread (the caller of :meth:`Service.run`) does all the work, in batches: it takes what
paho handed over, stores every new request, commits the store once, then acknowledges the batch to
the broker (so an acknowledged request is always on disk), then executes. An actuation is marked
as started in the store before its command is published, so a crash can never make it run twice:
a request found half-done at start-up is answered ``failed`` for the calls that may have run.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import queue
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from edgeward.adapters.devices import ActuationError, Command, DeviceRegistry, EntityOverride
from edgeward.daemon.bus import Bus, Inbound
from edgeward.daemon.escalation import Escalated, Escalation
from edgeward.daemon.metrics import Metrics
from edgeward.daemon.outbox import Outbox
from edgeward.daemon.planning import (
    Planned,
    PlannerThread,
    PlannerUnavailable,
    load_backup_planner,
    load_planner,
    needs_backup,
)
from edgeward.daemon.requests import RequestError, Route, make_reply, parse_request
from edgeward.daemon.scheduler import Scheduler
from edgeward.daemon.settings import Settings
from edgeward.daemon.store import ACCEPTED, ANSWERED, EXECUTING, RequestRecord, Store
from edgeward.daemon.version import VERSION
from edgeward.policies.audit import AuditLog
from edgeward.policies.document import Trigger
from edgeward.policies.gate import CallRequest, Decision, Gate, LocalSettings, audit_event
from edgeward.policies.trust import PolicyStore
from edgeward.runtime.catalog import STATE_TOOL, Area, CallError, Catalog, ValidCall
from edgeward.runtime.plan import Plan
from edgeward.runtime.plan_rules import RELATIVE_STEPS
from edgeward.runtime.planner import describe_state

log = logging.getLogger(__name__)

BATCH = 256
PUBACK_WAIT_S = 5.0
CATALOG_QUIET_S = 0.5
CONFIRM_TTL_S = 120.0


@dataclass
class _Work:
    """A request being executed in this batch."""

    record: RequestRecord
    started: float
    calls: list[ValidCall] = field(default_factory=list)
    infos: list[Any] = field(default_factory=list)
    # How a planned request is answered (explicit calls keep the defaults): the route, the whole
    # plan when it holds more than what runs now, the jobs scheduled for later, extra reply
    # fields (say, confidence), and the language that state questions are answered in.
    route: str = "local"
    planned: list[dict[str, Any]] | None = None
    scheduled: list[str] = field(default_factory=list)
    fields: dict[str, Any] = field(default_factory=dict)
    language: str | None = None


_Prepared = tuple[_Work, list[list[Command]]]
_RELATIVE = tuple(RELATIVE_STEPS)
_NOT_SURE = {
    "en": "Sorry, I'm not sure what you mean.",
    "fr": "Désolé, je ne suis pas sûr de comprendre.",
    "es": "Lo siento, no estoy seguro de entenderte.",
    "de": "Entschuldigung, das habe ich nicht sicher verstanden.",
}


class Service:
    """The running gateway. ``run()`` blocks until ``stop()``."""

    def __init__(self, settings: Settings, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clock = clock
        gw = settings.gateway_id
        base = f"edgeward/{gw}"
        self.topics = {
            "status": f"{base}/status",
            "call": f"{base}/call",
            "ask": f"{base}/ask",
            "confirm": f"{base}/confirm",
            "tools": f"{base}/tools",
            "policy": f"{base}/policy",
            "policy_status": f"{base}/policy/status",
            "reply": f"{base}/reply",
        }
        self.store = Store(settings.state_dir, settings.store.max_requests)
        self.audit = AuditLog(settings.state_dir / "audit.jsonl")
        self.registry = DeviceRegistry(
            discovery_prefix=settings.devices.discovery_prefix,
            z2m_base=settings.devices.zigbee2mqtt_base,
            areas=[Area(a.name, a.floor, tuple(a.aliases)) for a in settings.areas],
            overrides=[
                EntityOverride(e.entity_id, e.name, tuple(e.aliases), e.area)
                for e in settings.entities
            ],
        )
        self.catalog: Catalog = self.registry.catalog()
        self.policies: PolicyStore | None = None
        if settings.policy.trust_root is not None:
            self.policies = PolicyStore(settings.state_dir, settings.policy.trust_root, gw)
        self.gate = Gate(
            None,
            LocalSettings(
                frozenset(settings.local.deny_tools), frozenset(settings.local.deny_entities)
            ),
        )
        self.metrics = Metrics()
        self.escalation = Escalation(
            settings.upstream,
            lambda: self.gate.policy,
            Outbox(
                settings.state_dir / "outbox",
                max_bytes=settings.upstream.outbox_max_bytes,
                max_age_s=settings.upstream.outbox_max_age_s,
            ),
        )
        self.planner: PlannerThread | None = None
        self.planner_problem = ""
        self.backup_problem = ""
        first = backup = None
        try:
            first = load_planner(settings.model)
        except PlannerUnavailable as exc:
            self.planner_problem = str(exc)
            log.error("no local planner: %s; ask requests get 'unsupported'", exc)
        try:
            backup = load_backup_planner(settings.model)
        except PlannerUnavailable as exc:
            self.backup_problem = str(exc)
            log.error("no backup model ([model] backup_path): %s; running without it", exc)
        if first is not None or backup is not None:
            self.planner = PlannerThread(
                first, backup, min_confidence=settings.model.min_confidence
            )
        self._queue: queue.Queue[Inbound | Callable[[], None]] = queue.Queue()
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._catalog_dirty_at: float | None = None
        self._catalog_published: str | None = None
        self._state_topics: set[str] = set()
        # accepted before a restart, run once the catalog is back
        self._after_start: list[RequestRecord] = []
        # replies wait for the commit that records what they say
        self._replies: list[tuple[str, dict[str, Any], bytes | None]] = []
        self.heartbeat = time.monotonic()
        self.bus = Bus(settings, self.topics["status"], self._queue.put, self._connection_changed)
        self.scheduler = Scheduler(self.store, self._run_job, self._queue.put, settings.timezone)
        self._trigger_topics: set[str] = set()
        self._timed_triggers: list[str] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def status_payload(self, state: str) -> bytes:
        policy_version = self.policies.active_version if self.policies else None
        return json.dumps(
            {
                "state": state,
                "version": VERSION,
                "model": self.planner.name if self.planner else None,
                "backup_model": self.planner.backup_name if self.planner else None,
                "policy_version": policy_version,
            }
        ).encode()

    def run(self, on_ready: Callable[[], None] = lambda: None) -> None:
        """Connect, serve until :meth:`stop`, then finish in-flight work and go offline."""
        self._load_policy_file()
        self._recover()
        self.scheduler.start()
        self._policy_changed()
        self.scheduler.every("outbox-drain", "* * * * *", "UTC", self.escalation.drain)
        self.bus.subscribe(
            [
                self.topics["call"],
                self.topics["ask"],
                self.topics["confirm"],
                self.topics["policy"],
                *self.registry.subscriptions(),
            ]
        )
        self.bus.start(self.status_payload("online"))
        connected_at: float | None = None
        while not self._stop.is_set():
            self.heartbeat = time.monotonic()
            batch = self._take_batch(timeout=0.1)
            if batch:
                self._handle_batch(batch)
            self._publish_catalog_when_quiet()
            if not self._ready.is_set() and self.bus.connected.is_set():
                connected_at = connected_at or time.monotonic()
                settled = self._catalog_dirty_at is None and time.monotonic() - connected_at > 0.5
                if settled or time.monotonic() - connected_at > 5.0:
                    self._ready.set()
                    self._resume_after_start()
                    self.escalation.drain()
                    on_ready()
        # Finish what was already handed to us, then go offline cleanly.
        while batch := self._take_batch(timeout=0.0):
            self._handle_batch(batch)
        self.scheduler.stop()
        if self.planner is not None:
            self.planner.stop()
        self.escalation.stop()
        self.bus.stop(self.status_payload("offline"))
        self.store.close()
        self.audit.close()

    def stop(self) -> None:
        self._stop.set()

    @property
    def ready(self) -> bool:
        return self._ready.is_set()

    def healthy(self) -> bool:
        """For the watchdog: the MQTT loop runs and the worker went round recently."""
        return self.bus.loop_alive() and time.monotonic() - self.heartbeat < 10.0

    def summary(self) -> str:
        state = "connected" if self.bus.connected.is_set() else "disconnected"
        version = self.policies.active_version if self.policies else None
        policy = f"policy v{version}" if version else "no policy"
        return f"{state}, {len(self.catalog)} entities, {policy}"

    def _connection_changed(self, up: bool) -> None:
        self.metrics.connected.set(1 if up else 0)

    # -- the worker loop ---------------------------------------------------------------------

    def _take_batch(self, timeout: float) -> list[Inbound | Callable[[], None]]:
        try:
            first = self._queue.get(timeout=timeout) if timeout else self._queue.get_nowait()
        except queue.Empty:
            return []
        batch = [first]
        while len(batch) < BATCH:
            try:
                batch.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return batch

    def _handle_batch(self, batch: list[Inbound | Callable[[], None]]) -> None:
        requests: list[Inbound] = []
        fresh: list[RequestRecord] = []
        for message in batch:
            if not isinstance(message, Inbound):
                self._guarded(message, None)  # work handed over by the scheduler
                continue
            kind = self._request_kind(message.topic)
            if kind is None:
                self._handle_other(message)
                continue
            requests.append(message)
            record = self._accept(kind, message)
            if record is not None:
                fresh.append(record)
        calls = [r for r in fresh if r.kind == "call"] if self._ready.is_set() else []
        prepared: list[_Prepared] = []
        self._guarded(lambda: prepared.extend(self._prepare_calls(calls)), calls)
        self._commit()  # accepted, gated and marked started: durable before any PUBACK
        for message in requests:
            self.bus.ack(message)
        if not self._ready.is_set():
            # Right after a (re)start the broker hands over queued requests together with the
            # retained device configs: run them once the catalog is complete, not against half.
            self._after_start.extend(fresh)
            return
        self._guarded(lambda: self._send(prepared), calls)
        self._run([r for r in fresh if r.kind != "call"])

    def _run(self, records: list[RequestRecord]) -> None:
        calls = [r for r in records if r.kind == "call"]
        self._guarded(lambda: self._execute(calls), calls)
        for record in records:
            if record.kind == "ask":
                self._guarded(functools.partial(self._handle_ask, record), [record])
            elif record.kind == "confirm":
                self._guarded(functools.partial(self._handle_confirm, record), [record])
        self._commit()

    def _commit(self) -> None:
        """Make every change durable, then send the replies that depend on them."""
        self.store.commit()
        self.audit.sync()
        replies, self._replies = self._replies, []
        for topic, reply, correlation in replies:
            self.bus.publish(topic, json.dumps(reply).encode(), qos=1, correlation=correlation)

    def _guarded(self, action: Callable[[], None], records: list[RequestRecord] | None) -> None:
        """Run ``action``; a bug in it fails its requests, never the gateway."""
        try:
            action()
        except Exception as exc:
            log.exception("internal error; the gateway carries on", extra={"event": "bug"})
            for record in records or []:
                current = self.store.get(record.id)
                if current is not None and current.status != ANSWERED:
                    self._finish(
                        _Work(current, current.received_at),
                        "failed",
                        reason=f"internal error ({type(exc).__name__}); nothing more was done",
                    )

    def _request_kind(self, topic: str) -> str | None:
        for kind in ("call", "ask", "confirm"):
            if topic == self.topics[kind]:
                return kind
        return None

    def _handle_other(self, message: Inbound) -> None:
        try:
            if message.topic == self.topics["policy"]:
                self._offer_policy(message.payload)
            else:
                self._check_triggers(message)
                change = self.registry.handle(message.topic, message.payload)
                for problem in change.problems:
                    log.warning("%s", problem, extra={"event": "device_problem"})
                if change.catalog_changed:
                    self._catalog_dirty_at = time.monotonic()
                    self.catalog = self.registry.catalog()
                    self._sync_state_topics()
        except Exception:  # one bad device message must never stop the gateway
            log.exception("could not handle a message on %s", message.topic)
        finally:
            self.bus.ack(message)

    # -- accepting requests ------------------------------------------------------------------

    def _reply_topic(self, message: Inbound, request_id: str) -> str:
        return message.response_topic or f"{self.topics['reply']}/{request_id}"

    def _accept(self, kind: str, message: Inbound) -> RequestRecord | None:
        """Store a new request, answer a repeated one again, reject a bad one."""
        started = self.clock()
        try:
            request = parse_request(kind, message.payload, self.settings.max_payload_bytes)  # type: ignore[arg-type]
        except RequestError as exc:
            rid = exc.request_id
            self.metrics.requests.labels(kind, "rejected").inc()
            log.warning(
                "rejected a %s request: %s", kind, exc, extra={"event": "rejected", "id": rid}
            )
            reply = make_reply(rid or "", "rejected", reason=str(exc))
            topic = self._reply_topic(message, rid or "_invalid")
            if rid is not None and self.store.get(rid) is None:
                record = self._new_record(kind, message, rid, {}, started)
                record.status, record.reply = ANSWERED, reply
                self.store.put(record)
            self._reply(topic, reply, message.correlation)
            return None
        existing = self.store.get(request.id)
        if existing is not None:
            self._answer_repeat(existing, message)
            return None
        record = self._new_record(kind, message, request.id, request.body, started)
        self.store.put(record)
        return record

    def _new_record(
        self, kind: str, message: Inbound, rid: str, body: dict[str, Any], started: float
    ) -> RequestRecord:
        client = next((v for k, v in message.user if k == "client"), None)
        return RequestRecord(
            id=rid,
            kind=kind,
            status=ACCEPTED,
            payload=body,
            received_at=started,
            reply_topic=self._reply_topic(message, rid),
            correlation=message.correlation.hex() if message.correlation else None,
            client=client,
        )

    def _answer_repeat(self, record: RequestRecord, message: Inbound) -> None:
        if record.status == ANSWERED and record.reply is not None:
            log.info("request %s repeated: answered again, not executed", record.id)
            self.metrics.repeats.inc()
            self._reply(self._reply_topic(message, record.id), record.reply, message.correlation)
        # Not answered yet: it is in progress and will be answered once.

    # -- explicit calls ----------------------------------------------------------------------

    def _execute(self, records: list[RequestRecord]) -> None:
        self._actuate_prepared(self._prepare_calls(records))

    def _prepare_calls(self, records: list[RequestRecord]) -> list[_Prepared]:
        works: list[_Work] = []
        for record in records:
            work = _Work(record, record.received_at)
            if self._validate_and_gate(work, record.payload.get("calls", []), "mqtt_call"):
                works.append(work)
        return self._prepare(works)

    def _validate_and_gate(
        self, work: _Work, calls: list[dict[str, Any]], source: str, approved: bool = False
    ) -> bool:
        """Validate every call and pass each through the gate; answer and return False if not.

        ``approved``: a person confirmed these calls, which satisfies ``confirm`` (the gate is
        still asked again: the policy may have changed meanwhile, and a deny still stops it).
        """
        record = work.record
        plan = [{"tool": c.get("tool"), "args": c.get("args", {})} for c in calls]
        # A planned request's reply says which rung planned it, also when the gate stops it.
        route = work.route if source.startswith("ask_") else None
        on_route = {"route": route} if route else {}
        for index, call in enumerate(calls):
            try:
                work.calls.append(self.catalog.validate(call.get("tool"), call.get("args", {})))
            except CallError as exc:
                self._finish(
                    work, "rejected", plan=plan, reason=f"calls[{index}]: {exc}", **on_route
                )
                return False
        now = datetime.fromtimestamp(self.clock(), UTC)
        for valid in work.calls:
            request = CallRequest(
                tool=valid.tool,
                entity_id=valid.entity.entity_id,
                area=valid.entity.area,
                args=valid.args,
                source=source,  # type: ignore[arg-type]
                client_id=record.client,
                at=now,
            )
            decision = self.gate.decide(request)
            self._audit_decision(record, request, decision, route)
            if decision.effect == "deny":
                self._finish(work, "denied", plan=plan, reason=decision.reason, **on_route)
                return False
            if decision.effect == "confirm" and not approved:
                self._ask_confirmation(work, plan, decision, source, **on_route)
                return False
        return True

    def _actuate(self, works: list[_Work]) -> None:
        self._actuate_prepared(self._prepare(works))

    def _actuate_prepared(self, prepared: list[_Prepared]) -> None:
        self._commit()  # marked started, with the decisions that allowed it, before anything moves
        self._send(prepared)
        self._commit()

    def _prepare(self, works: list[_Work]) -> list[_Prepared]:
        """Build each work's commands and mark it started (durable at the next commit)."""
        prepared: list[_Prepared] = []
        for work in works:
            try:
                prepared.append((work, [self.registry.commands(v) for v in work.calls]))
            except ActuationError as exc:
                self._finish(work, "failed", plan=_plan(work), reason=str(exc), route="local")
        for work, commands in prepared:
            if any(commands):
                work.record.status = EXECUTING
                work.record.started = list(range(len(work.calls)))
                self.store.update(work.record.id, status=EXECUTING, started=work.record.started)
        return prepared

    def _send(self, prepared: list[_Prepared]) -> None:
        """Publish the commands (after the commit that marked them started); answer each work."""
        for work, commands in prepared:
            for per_call in commands:
                for command in per_call:
                    work.infos.append(
                        self.bus.publish(
                            command.topic, command.payload, qos=command.qos, retain=command.retain
                        )
                    )
        deadline = time.monotonic() + PUBACK_WAIT_S
        for work, _ in prepared:
            confirmed = all(_wait(info, deadline) for info in work.infos)
            results = [self._result(v, confirmed) for v in work.calls]
            results += [{"status": "scheduled", "job_id": job} for job in work.scheduled]
            fields = dict(work.fields)
            if work.language and work.calls and all(v.tool == STATE_TOOL for v in work.calls):
                fields["say"] = self._describe(work.calls, work.language) or fields.get("say")
            if work.infos:
                self.audit.append(
                    {
                        "kind": "actuation",
                        "request": work.record.id,
                        "client": work.record.client,
                        "calls": [v.to_json() for v in work.calls],
                        "result": "sent" if confirmed else "queued",
                    },
                    sync=False,
                )
            plan = _plan(work) if work.planned is None else work.planned
            self._finish(work, "done", plan=plan, results=results, route=work.route, **fields)

    def _result(self, valid: ValidCall, confirmed: bool) -> dict[str, Any]:
        entity_id = valid.entity.entity_id
        if valid.tool == STATE_TOOL:
            state = self.registry.state(entity_id)
            return {
                "tool": valid.tool,
                "entity_id": entity_id,
                "status": "read",
                "state": state.state if state else None,
                "attributes": dict(state.attributes) if state else {},
                "available": state.available if state else False,
            }
        # "sent": the broker has the command (QoS 1); "queued": it goes out on reconnect.
        return {
            "tool": valid.tool,
            "entity_id": entity_id,
            "status": "sent" if confirmed else "queued",
        }

    def _finish(self, work: _Work, status: str, **fields: Any) -> None:
        record = work.record
        latency = (self.clock() - work.started) * 1000
        reply = make_reply(record.id, status, latency_ms=latency, **fields)  # type: ignore[arg-type]
        record.status, record.reply = ANSWERED, reply
        self.store.update(record.id, status=ANSWERED, reply=reply)
        self.metrics.requests.labels(record.kind, status).inc()
        self.metrics.latency.labels(record.kind).observe(latency / 1000)
        correlation = bytes.fromhex(record.correlation) if record.correlation else None
        self._reply(record.reply_topic, reply, correlation)

    def _reply(self, topic: str, reply: dict[str, Any], correlation: bytes | None) -> None:
        """Queue a reply; it goes out after the commit that recorded what it says."""
        self._replies.append((topic, reply, correlation))

    def _audit_decision(
        self,
        record: RequestRecord,
        request: CallRequest,
        decision: Decision,
        route: str | None = None,
    ) -> None:
        """Record a gate decision; a planned request's record also says which rung planned it."""
        event = {**audit_event(request, decision), "request": record.id}
        if route is not None:
            event["route"] = route
        self.audit.append(event, sync=False)

    # -- confirmations -----------------------------------------------------------------------

    def _ask_confirmation(
        self,
        work: _Work,
        plan: list[dict[str, Any]],
        decision: Decision,
        source: str,
        **fields: Any,
    ) -> None:
        token = secrets.token_urlsafe(12)
        expires = self.clock() + CONFIRM_TTL_S
        self.store.put_schedule(
            f"confirm:{token}",
            {
                "kind": "confirmation",
                "request": work.record.id,
                "expires": expires,
                "source": source,
                "calls": plan,
            },
        )
        self._finish(
            work,
            "needs_confirmation",
            plan=plan,
            reason=decision.reason,
            confirmation={
                "id": token,
                "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            },
            say="This needs a confirmation. Should I go ahead?",
            **fields,
        )

    def _handle_confirm(self, record: RequestRecord) -> None:
        work = _Work(record, record.received_at)
        pending = self.store.schedule(f"confirm:{record.id}")
        if pending is None:
            self._finish(work, "rejected", reason=f"no confirmation {record.id!r} is pending")
            return
        self.store.drop_schedule(f"confirm:{record.id}")
        if self.clock() > pending["expires"]:
            self._finish(work, "failed", reason="the confirmation expired; nothing was done")
            return
        if not record.payload.get("approve"):
            self._finish(work, "denied", reason="declined; nothing was done")
            return
        source = pending.get("source", "mqtt_call")
        if self._validate_and_gate(work, pending["calls"], source, approved=True):
            self._actuate([work])

    # -- ask (planner) -----------------------------------------------------------------------

    def _handle_ask(self, record: RequestRecord) -> None:
        """Hand the request to the planner thread; the plans come back to this worker."""
        if self.planner is None:
            self._escalate(record, f"no local planner ({self.planner_problem})")
            return
        body = record.payload
        catalog, states = self.catalog, self._states()
        self.planner.submit(
            catalog,
            body,
            states,
            lambda planned: self._queue.put(functools.partial(self._answer_plan, record, planned)),
        )

    def _states(self) -> dict[str, dict[str, Any]]:
        """Current values the planner needs for relative requests ("a bit warmer")."""
        out: dict[str, dict[str, Any]] = {}
        for entity_id in self.catalog.entities:
            state = self.registry.state(entity_id)
            if state is None:
                continue
            attrs = state.attributes
            values = {k: attrs[k] for k in _RELATIVE if k in attrs}
            if "current_position" in attrs:
                values["position"] = attrs["current_position"]
            if values:
                out[entity_id] = values
        return out

    def _answer_plan(self, record: RequestRecord, planned: Planned) -> None:
        """The cascade's local rungs: the first planner's plan acts when it is sure; else the
        backup model's (if one was asked) when it is sure at its own threshold; else upstream."""
        work = _Work(record, record.received_at)
        model = self.settings.model
        first, backup = planned.first, planned.backup
        if isinstance(first, BaseException) and backup is None:
            log.error("the planner failed on request %s: %r", record.id, first)
            self._finish(work, "failed", reason=f"the planner failed: {type(first).__name__}")
            self._commit()
            return
        if isinstance(first, Plan) and not needs_backup(first, model.min_confidence):
            self._act_on_plan(work, first, "local")
            return
        if first is None:
            why = f"no local planner ({self.planner_problem})"
        else:
            why = self._unsure(first, model.min_confidence, "the local planner")
        plan = first if isinstance(first, Plan) else None
        if isinstance(backup, Plan):
            if not needs_backup(backup, model.backup_threshold):
                self._act_on_plan(work, backup, "local_backup")
                return
            setting = (
                "model.min_confidence"
                if model.backup_min_confidence is None
                else "model.backup_min_confidence"
            )
            why += "; " + self._unsure(backup, model.backup_threshold, "the backup model", setting)
            plan = plan or backup
        elif isinstance(backup, BaseException):
            log.error("the backup model failed on request %s: %r", record.id, backup)
            why += f"; the backup model failed: {type(backup).__name__}"
        self._escalate(record, why, plan)

    @staticmethod
    def _unsure(
        plan: Plan | BaseException,
        threshold: float,
        who: str,
        setting: str = "model.min_confidence",
    ) -> str:
        """Why a rung's answer did not act, in words for the reply."""
        if isinstance(plan, BaseException):
            return f"{who} failed: {type(plan).__name__}"
        if plan.kind == "unsupported":
            return f"{who} says {plan.reason or 'unsupported'}"
        # rounded down, so a confidence just under the threshold never reads as equal to it
        shown = math.floor(plan.confidence * 1000) / 1000
        return f"{who}'s confidence {shown:.3f} is below {setting} {threshold}"

    def _act_on_plan(self, work: _Work, plan: Plan, route: Route) -> None:
        """Answer with a sure local plan (of the first planner or the backup): ask which device
        when it is ambiguous, else gate its calls as ``ask_local``, run what is for now and
        schedule what is for later."""
        record = work.record
        extra: dict[str, Any] = {"confidence": round(plan.confidence, 3), "say": plan.say}
        planned = [c.to_json() for c in plan.calls]
        if plan.kind == "ambiguous":
            reason = "the request could mean several devices: " + ", ".join(plan.candidates)
            self._finish(work, "ambiguous", plan=planned, route=route, reason=reason, **extra)
            self._commit()
            return
        now = [{"tool": c.tool, "args": c.args} for c in plan.calls if c.when is None]
        later = [c for c in plan.calls if c.when is not None]
        work.route = route
        if not self._validate_and_gate(work, planned, "ask_local"):
            self._commit()
            return
        jobs = []
        for call in later:
            assert call.when is not None
            jobs.append(
                self.scheduler.add(
                    {
                        "kind": "call",
                        "calls": [{"tool": call.tool, "args": call.args}],
                        "when": call.when.to_json(),
                        "source": "schedule",
                        "request": record.id,
                    }
                )
            )
        work.calls = [self.catalog.validate(c["tool"], c["args"]) for c in now]
        work.planned, work.scheduled, work.fields = planned, jobs, extra
        work.language = plan.language
        self._actuate([work])

    def _escalate(self, record: RequestRecord, why: str, plan: Plan | None = None) -> None:
        """The cascade's next rung: upstream if the policy allows it, else an honest refusal."""
        refused = self.escalation.start(
            self.catalog,
            record.payload["text"],
            record.id,
            lambda result: self._queue.put(
                functools.partial(self._answer_upstream, record, result)
            ),
            device_ids=self.registry.device_identifiers(),
            can_wait=bool(record.payload.get("can_wait")),
        )
        if refused is None:
            return
        language = plan.language if plan else (record.payload.get("language") or "en")
        say = plan.say if plan and plan.kind == "unsupported" and plan.say else None
        self._finish(
            _Work(record, record.received_at),
            "unsupported",
            plan=[c.to_json() for c in plan.calls] if plan else [],
            route="none",
            reason=f"{why}; not escalated: {refused}",
            say=say or _NOT_SURE.get(language, _NOT_SURE["en"]),
            confidence=round(plan.confidence, 3) if plan else 0.0,
        )
        self._commit()

    def _answer_upstream(self, record: RequestRecord, result: Escalated) -> None:
        """The upstream's answer, re-identified: its calls pass the gate like any other plan."""
        work = _Work(record, record.received_at)
        if result.queued:
            self._finish(
                work,
                "failed",
                route="upstream",
                reason=f"upstream {result.destination} unreachable ({result.error}); the "
                "redacted request waits in the outbox, and its answer follows on this topic",
            )
            self._commit()
            return
        if result.error is not None:
            self._finish(
                work,
                "failed",
                route="upstream",
                reason=f"upstream {result.destination}: {result.error}",
                say="I couldn't reach the assistant; nothing was done.",
            )
            self._commit()
            return
        if not result.calls:
            self._finish(work, "done", route="upstream", say=result.text)
            self._commit()
            return
        work.route = "upstream"
        if not self._validate_and_gate(work, result.calls, "ask_upstream"):
            self._commit()
            return
        work.fields, work.language = {"say": result.text}, "en"
        self._actuate([work])

    def _describe(self, calls: list[ValidCall], language: str) -> str:
        """The spoken answer to a state question, from tracked state."""
        parts = []
        for valid in calls:
            state = self.registry.state(valid.entity.entity_id)
            if state is not None and state.state is not None:
                parts.append(describe_state(valid.entity, state.state, state.attributes, language))
        return " ".join(parts)

    # -- policy ------------------------------------------------------------------------------

    def _load_policy_file(self) -> None:
        path = self.settings.policy.path
        if self.policies is None:
            if path is not None:
                log.error("policy.path is set but policy.trust_root is not: policy ignored")
            return
        if path is not None:
            result = self.policies.load_file(Path(path))
            if not result.accepted:
                log.error("policy file %s rejected: %s", path, result.reason)

    def _offer_policy(self, payload: bytes) -> None:
        if not payload:
            return  # a cleared retained message: keep the policy in force
        if self.policies is None:
            status: dict[str, Any] = {
                "accepted": False,
                "version": None,
                "reason": "this gateway has no trust root (policy.trust_root): policies ignored",
            }
        else:
            result = self.policies.offer(payload)
            self._policy_changed()
            status = self.policies.status_dict()
            if not result.accepted:
                status = {**status, "accepted": False, "reason": result.reason}
        self.bus.publish(
            self.topics["policy_status"], json.dumps(status).encode(), qos=1, retain=True
        )
        self.bus.publish(self.topics["status"], self.status_payload("online"), qos=1, retain=True)

    def _policy_changed(self) -> None:
        """Put the policy in force now into the gate, its triggers and its expiry timer."""
        policy = self.policies.active if self.policies else None
        self.gate.update(policy)
        triggers = policy.triggers if policy else []
        wanted = {t.topic for t in triggers if t.topic}
        self.bus.subscribe(wanted - self._trigger_topics)
        self.bus.unsubscribe(self._trigger_topics - wanted - set(self._state_topics))
        self._trigger_topics = wanted
        for job_id in self._timed_triggers:
            self.scheduler.drop(job_id)
        self._timed_triggers = []
        for trigger in triggers:
            if trigger.at is not None and policy is not None:
                job_id = f"policy-trigger-{trigger.id}"
                action = functools.partial(self._run_job, _trigger_job(trigger))
                self.scheduler.every(job_id, trigger.at, policy.timezone, action)
                self._timed_triggers.append(job_id)
        if policy is not None:
            self.scheduler.at(policy.expires_at, self._policy_expired, "policy-expiry")

    def _policy_expired(self) -> None:
        log.warning(
            "the policy expired: built-in default in force (nothing leaves, local settings apply)",
            extra={"event": "policy_expired"},
        )
        self._policy_changed()
        if self.policies is not None:
            status = json.dumps(self.policies.status_dict()).encode()
            self.bus.publish(self.topics["policy_status"], status, qos=1, retain=True)
        self.bus.publish(self.topics["status"], self.status_payload("online"), qos=1, retain=True)

    def _check_triggers(self, message: Inbound) -> None:
        policy = self.gate.policy
        if policy is None or not policy.triggers:
            return
        try:
            payload: Any = json.loads(message.payload) if message.payload else None
        except ValueError:
            payload = message.payload.decode("utf-8", "replace")
        for trigger in policy.triggers:
            if trigger.matches(message.topic, payload):
                log.info("trigger %s fired on %s", trigger.id, message.topic)
                self._run_job(_trigger_job(trigger))

    # -- scheduled and triggered work --------------------------------------------------------

    def _run_job(self, doc: dict[str, Any]) -> None:
        """Run a scheduled or triggered action through the same gate; its reply is an event on
        ``edgeward/<gw>/reply/<job id>@<time>``."""
        run_id = f"{doc['job_id']}@{int(self.clock() * 1000)}"
        source = doc.get("source", "schedule")
        payload = {
            "calls": doc.get("calls", []),
            "text": doc.get("text"),
            "area": doc.get("area"),
            "can_wait": doc.get("can_wait", False),
        }
        record = RequestRecord(
            id=run_id,
            kind=doc.get("kind", "call"),
            status=ACCEPTED,
            payload=payload,
            received_at=self.clock(),
            reply_topic=f"{self.topics['reply']}/{run_id}",
            client=source,
        )
        self.store.put(record)
        if record.kind == "ask":
            self._handle_ask(record)
            return
        work = _Work(record, record.received_at)
        if self._validate_and_gate(work, payload["calls"], source):
            self._actuate([work])
        self._commit()

    # -- catalog -----------------------------------------------------------------------------

    def _sync_state_topics(self) -> None:
        wanted = self.registry.state_topics()
        self.bus.subscribe(wanted - self._state_topics)
        self.bus.unsubscribe(self._state_topics - wanted)
        self._state_topics = wanted

    def _publish_catalog_when_quiet(self) -> None:
        if self._catalog_dirty_at is None:
            if self._catalog_published is None and self.bus.connected.is_set():
                self._catalog_dirty_at = time.monotonic() - CATALOG_QUIET_S
            return
        if time.monotonic() - self._catalog_dirty_at < CATALOG_QUIET_S:
            return
        if not self.bus.connected.is_set():
            return
        self._catalog_dirty_at = None
        if self.catalog.version == self._catalog_published:
            return
        self.bus.publish(
            self.topics["tools"], json.dumps(self.catalog.to_json()).encode(), qos=1, retain=True
        )
        self._catalog_published = self.catalog.version
        self.metrics.catalog_entities.set(len(self.catalog))
        log.info(
            "tool catalog v%s: %d entities, %d tools",
            self.catalog.version,
            len(self.catalog),
            len(self.catalog.tools),
            extra={"event": "catalog"},
        )

    # -- recovery ----------------------------------------------------------------------------

    def _recover(self) -> None:
        """Answer what was accepted before a restart; never repeat what may have run.

        Replies are at least once: those of requests answered just before a crash are sent
        again (a client matches replies by id; a second copy changes nothing).
        """
        for request_id in self.store.answered_before_crash:
            answered = self.store.get(request_id)
            if answered is not None and answered.reply is not None:
                correlation = bytes.fromhex(answered.correlation) if answered.correlation else None
                self._reply(answered.reply_topic, answered.reply, correlation)
        for record in self.store.unanswered():
            work = _Work(record, record.received_at)
            if record.status == EXECUTING:
                self._finish(
                    work,
                    "failed",
                    plan=record.payload.get("calls", []),
                    results=[{"status": "unknown"} for _ in record.started],
                    reason="interrupted by a restart while actuating; not repeated, "
                    "check the devices' state",
                )
            else:
                self._after_start.append(record)
        self._commit()  # the replies wait in paho's queue until the broker connection is up

    def _resume_after_start(self) -> None:
        """Run requests accepted before a restart, once the catalog is back."""
        records, self._after_start = self._after_start, []
        if records:
            log.info("resuming %d request(s) accepted before the restart", len(records))
        self._run(records)


def _trigger_job(trigger: Trigger) -> dict[str, Any]:
    """What a policy trigger runs, as a job the gate sees with source ``trigger``."""
    return {
        "job_id": f"trigger-{trigger.id}",
        "kind": "call" if trigger.calls else "ask",
        "calls": [c.model_dump() for c in trigger.calls or []],
        "text": trigger.ask,
        "area": trigger.area,
        "can_wait": trigger.can_wait,
        "source": "trigger",
    }


def _plan(work: _Work) -> list[dict[str, Any]]:
    return [v.to_json() for v in work.calls]


def _wait(info: Any, deadline: float) -> bool:
    if info.is_published():
        return True
    remaining = deadline - time.monotonic()
    try:
        info.wait_for_publish(max(remaining, 0.001))
    except (RuntimeError, ValueError):
        return False
    return bool(info.is_published())
