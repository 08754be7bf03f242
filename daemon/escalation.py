"""The upstream rung of the cascade: ask a bigger model, only as the signed policy allows.

A request the local planner cannot handle goes upstream if and only if the policy in force names
an allowed destination and every data class found in the request may go there. What leaves is
redacted first (placeholders from a per-request vault); the answer is re-identified on the box,
and its tool calls are then gated like any other plan (source ``ask_upstream``). The HTTP call
runs on a thread of its own; its outcome is handed back to the service's worker.

A request that may wait (a policy trigger's ``ask`` with ``can_wait``) goes to the durable outbox
when the upstream is unreachable, redacted, and is sent again by :meth:`Escalation.drain`, after
the egress decision is checked once more against the policy then in force. Its vault stays in
memory only: an answer that arrives after a restart cannot be re-identified, so it is dropped
with a log line, and its calls are never run late.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from edgeward.adapters.upstream import (
    ChatMessage,
    MalformedAnswer,
    RedactedRequest,
    UpstreamAnswer,
    UpstreamClient,
    UpstreamError,
    UpstreamRejected,
    UpstreamUnreachable,
    load_api_key,
)
from edgeward.daemon.outbox import Entry, Outbox, OutboxError, Undeliverable, idempotency_key
from edgeward.daemon.settings import UpstreamSettings
from edgeward.policies.detectors import Detector
from edgeward.policies.document import Policy
from edgeward.policies.gate import decide_egress
from edgeward.policies.vault import Redactor, Vault
from edgeward.runtime.catalog import STATE_TOOL, Catalog

log = logging.getLogger(__name__)
_WORD_START = re.compile(r"\w")

SYSTEM_PROMPT = (
    "You control a smart home through the tools given. Answer the user's request by calling "
    "tools with the exact entity ids they list, or reply in one or two short sentences when no "
    "tool fits. Text such as <PERSON_1> stands for a value that was withheld: keep it as is."
)


@dataclass
class Escalated:
    """What came back: re-identified tool calls and text, or the error that stopped it
    (``queued``: it waits in the outbox and a second outcome follows when it is sent)."""

    destination: str
    calls: list[dict[str, Any]] = field(default_factory=list)
    text: str | None = None
    error: str | None = None
    queued: bool = False


class Escalation:
    """Decides whether a request may go upstream, and sends it there redacted."""

    def __init__(
        self, settings: UpstreamSettings, policy: Callable[[], Policy | None], outbox: Outbox
    ) -> None:
        self.settings = settings
        self._policy = policy
        self.outbox = outbox
        # request id -> (vault, done) of requests waiting in the outbox, this process only
        self._waiting: dict[str, tuple[Vault, Callable[[Escalated], None]]] = {}
        self._clients: dict[tuple[str, str], UpstreamClient] = {}
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="edgeward-upstream")
        self._lock = threading.Lock()

    def start(
        self,
        catalog: Catalog,
        text: str,
        request_id: str,
        done: Callable[[Escalated], None],
        device_ids: Iterable[str] = (),
        can_wait: bool = False,
    ) -> str | None:
        """Send ``text`` upstream if the policy allows; ``done`` gets the outcome later.

        ``device_ids``: identifiers to redact besides the catalog's entity ids (the serials and
        addresses of :meth:`DeviceRegistry.device_identifiers`).
        Returns None when the request went, else the reason it may not leave the box.
        """
        policy = self._policy()
        if policy is None:
            return "no policy is in force: nothing leaves the box"
        destination = next((u for u in policy.upstreams if u.allowed), None)
        if destination is None:
            return f"policy v{policy.version} names no upstream that may be used"
        custom = {name: [rule.pattern] for name, rule in policy.residency.items() if rule.pattern}
        # Serials the detector cannot take as a list entry (shorter than 3 characters, or
        # starting with punctuation) are left to its patterns.
        serials = [i for i in device_ids if len(i) >= 3 and _WORD_START.match(i)]
        detector = Detector(
            names=self.settings.known_names,
            device_ids=[*catalog.entities, *serials],
            custom=custom,
        )
        found = {d.data_class for d in detector.detect(text)}
        tools = [t for t in catalog.tools.values() if t.name != STATE_TOOL]
        classes = found | {"free_text"} | ({"device_id"} if tools else set())
        egress = decide_egress(policy, classes, destination.name, datetime.now(UTC))
        if not egress.allowed:
            return egress.reason
        actions = {k: v for k, v in egress.actions.items() if k in detector.classes}
        vault = Vault()
        redacted = Redactor(detector, actions).redact(text, vault)
        if redacted.local_only:
            return "the request holds data the policy keeps on the box"
        if egress.actions.get("device_id") != "allow":
            tools = []  # the entity ids would leave with the tool catalog
        client = self._client(destination.name, destination.url)
        messages = [ChatMessage("system", SYSTEM_PROMPT), ChatMessage("user", redacted.text)]
        log.info(
            "escalating request %s to %s (classes: %s)",
            request_id,
            destination.name,
            ", ".join(sorted(found)) or "none",
            extra={"event": "escalate", "destination": destination.name},
        )

        request = RedactedRequest(
            request_id,
            destination.name,
            "ask",
            tuple(messages),
            tuple(tools),
            tuple(sorted(classes)),
            policy.version,
        )

        def ask() -> None:
            queued = False
            try:
                answer = client.send(request, idempotency_key(request))
                done(self._reidentify(answer, vault, destination.name))
            except UpstreamUnreachable as exc:
                if not can_wait:
                    done(Escalated(destination.name, error=str(exc)))
                    return
                try:
                    self.outbox.append(request)
                except OutboxError as full:
                    done(Escalated(destination.name, error=f"{exc}; and {full}"))
                    return
                queued = True
                self._waiting[request_id] = (vault, done)
                done(Escalated(destination.name, error=str(exc), queued=True))
            except UpstreamError as exc:
                done(Escalated(destination.name, error=str(exc)))
            finally:
                if not queued:  # the vault lives only as long as the request needs it
                    vault.clear()

        self._pool.submit(ask)
        return None

    def drain(self) -> None:
        """Send what waits in the outbox, oldest first (on the upstream thread)."""
        if len(self.outbox):
            self._pool.submit(self._drain)

    def _drain(self) -> None:
        result = self.outbox.drain(self._send_queued)
        if result.delivered or result.dropped or result.expired:
            log.info(
                "outbox: %d delivered, %d dropped, %d expired, %d waiting",
                result.delivered,
                result.dropped,
                result.expired,
                result.remaining,
                extra={"event": "outbox_drain"},
            )

    def _send_queued(self, entry: Entry) -> None:
        request = entry.request
        policy = self._policy()
        egress = decide_egress(policy, request.data_classes, request.destination, datetime.now(UTC))
        if not egress.allowed or policy is None:
            raise Undeliverable(f"no longer allowed to leave: {egress.reason}")
        upstream = next(u for u in policy.upstreams if u.name == request.destination)
        client = self._client(upstream.name, upstream.url)
        try:
            answer = client.send(request, entry.idempotency_key)
        except (UpstreamRejected, MalformedAnswer) as exc:
            raise Undeliverable(str(exc)) from exc
        waiting = self._waiting.pop(request.request_id, None)
        if waiting is None:
            log.warning(
                "the answer to queued request %s came after a restart: its placeholders cannot "
                "be re-identified, so it is dropped (nothing is run)",
                request.request_id,
            )
            return
        vault, done = waiting
        done(self._reidentify(answer, vault, request.destination))
        vault.clear()

    @staticmethod
    def _reidentify(answer: UpstreamAnswer, vault: Vault, destination: str) -> Escalated:
        calls = [
            {"tool": call.tool, "args": vault.reidentify_value(dict(call.args))}
            for call in answer.tool_calls
        ]
        text = vault.reidentify(answer.text).text if answer.text else None
        return Escalated(destination, calls, text)

    def _allowed(self) -> dict[str, str]:
        """Asked by the client before every attempt: the destinations the policy allows now."""
        policy = self._policy()
        return {u.name: u.url for u in policy.upstreams if u.allowed} if policy else {}

    def _client(self, name: str, url: str) -> UpstreamClient:
        with self._lock:
            client = self._clients.get((name, url))
            if client is None:
                cfg = self.settings
                client = UpstreamClient(
                    name,
                    url,
                    load_api_key(env_var=cfg.api_key_env),
                    cfg.model,
                    cfg.timeout_s,
                    cfg.max_retries,
                    cfg.ca_bundle,
                    self._allowed,
                )
                self._clients[(name, url)] = client
            return client

    def stop(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)
        for client in self._clients.values():
            client.close()
        self.outbox.close()
