"""The upstream LLM client: OpenAI-compatible chat completions with tools, over httpx.

What goes out is already redacted (the caller's job, see :class:`RedactedRequest`); this module
makes sure it goes only where the policy says, safely and boundedly:

- **Destinations.** ``allowed_destinations`` (a set of names, a mapping name -> URL, or a callable
  returning either) is consulted before *every* attempt, retries included. A destination the policy
  does not name raises :class:`DestinationNotAllowed` before a socket is opened. When the policy
  gives a URL, the configured ``base_url`` must be that URL.
- **TLS.** Verification is always on: the CA bundle setting, or the system trust store. Redirects
  are never followed, ``HTTP(S)_PROXY``/``.netrc`` from the environment are ignored.
- **Timeout.** ``timeout_s`` bounds each network wait and the whole read of the answer.
- **Retries.** Connect errors, timeouts, 429 and 5xx are retried up to ``max_retries`` times with
  exponential backoff and full jitter. A 429's ``Retry-After`` is honoured when it is at most
  ``retry_after_cap_s``; a longer one ends the call at once with :class:`UpstreamRateLimited`
  (the caller can queue the request in the outbox). Other 4xx are not retried.
- **Circuit breaker.** After ``failure_threshold`` consecutive failed calls the breaker opens and
  calls fail fast with :class:`CircuitOpen` until ``cooldown_s`` has passed; then one probe call
  (a single attempt, no retries) is let through: success closes the breaker, failure reopens it.
- **The API key** comes from :func:`load_api_key`, is held in a :class:`pydantic.SecretStr`, and
  is scrubbed from every message this module raises or logs.
- **Answers** are checked: not JSON, no ``choices``, tool-call arguments that are not a JSON object,
  or tool names that were not sent each raise a specific :class:`MalformedAnswer` subclass.

Tool names travel on the wire as ``domain__service`` (OpenAI function names may not contain dots)
and are mapped back to ``domain.service`` exactly, from the tools that were sent.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import random
import re
import ssl
import stat
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import SecretStr

from edgeward.runtime.catalog import Tool
from edgeward.runtime.plan import PlannedCall

if TYPE_CHECKING:  # httpx is imported when a client is made: a gateway that never escalates
    import httpx  # does not carry it (8 MB)

log = logging.getLogger(__name__)

CREDENTIAL_NAME = "upstream_api_key"
"""The systemd credential name (``LoadCredential=upstream_api_key:...``) read by default."""

Role = Literal["system", "user", "assistant"]
_ROLES: frozenset[str] = frozenset({"system", "user", "assistant"})
_WIRE_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,255}$")
_REDACTED = "[REDACTED]"

AllowedDestinations = (
    Collection[str] | Mapping[str, str] | Callable[[], Collection[str] | Mapping[str, str]]
)
"""Names the policy allows (or name -> URL), or a callable asked before every attempt."""


# --------------------------------------------------------------------------- errors


class UpstreamError(Exception):
    """Anything that went wrong talking to an upstream LLM; ``destination`` names which."""

    def __init__(self, message: str, destination: str = "") -> None:
        super().__init__(message)
        self.destination = destination


class UpstreamConfigError(UpstreamError):
    """A bad client setting (URL, CA bundle, timeout, tool name, API key source)."""


class ApiKeyError(UpstreamConfigError):
    """The API key could not be read from the configured source; the message names the source,
    never the key."""


class DestinationNotAllowed(UpstreamError):
    """The policy does not name this destination (or names it at another URL): nothing was sent."""


class UpstreamUnreachable(UpstreamError):
    """The upstream could not answer now; the request may wait in the outbox and be retried."""

    def __init__(self, message: str, destination: str = "", attempts: int = 0) -> None:
        super().__init__(message, destination)
        self.attempts = attempts


class UpstreamConnectError(UpstreamUnreachable):
    """No connection could be made (nothing listening, DNS, network down)."""


class UpstreamTimeout(UpstreamUnreachable):
    """The upstream did not answer within ``timeout_s``."""


class UpstreamServerError(UpstreamUnreachable):
    """The upstream answered 5xx."""

    def __init__(self, message: str, destination: str, attempts: int, status: int) -> None:
        super().__init__(message, destination, attempts)
        self.status = status


class UpstreamRateLimited(UpstreamUnreachable):
    """The upstream answered 429; ``retry_after_s`` is what it asked for, if it said."""

    def __init__(
        self, message: str, destination: str, attempts: int, retry_after_s: float | None
    ) -> None:
        super().__init__(message, destination, attempts)
        self.retry_after_s = retry_after_s


class CircuitOpen(UpstreamUnreachable):
    """The circuit breaker is open: the call failed fast without contacting the upstream."""

    def __init__(self, message: str, destination: str, retry_in_s: float) -> None:
        super().__init__(message, destination, 0)
        self.retry_in_s = retry_in_s


class UpstreamTLSError(UpstreamError):
    """The upstream's certificate did not verify (unknown CA, wrong host name, expired)."""


class UpstreamRejected(UpstreamError):
    """The upstream answered 3xx or 4xx other than 429 (bad key, bad request, no such model)."""

    def __init__(self, message: str, destination: str, status: int) -> None:
        super().__init__(message, destination)
        self.status = status


class MalformedAnswer(UpstreamError):
    """The upstream answered 2xx with something that is not a valid chat completion."""


class InvalidToolArguments(MalformedAnswer):
    """A tool call's ``arguments`` is not a JSON object."""


class UnknownTool(MalformedAnswer):
    """A tool call names a tool that was not among the tools sent."""


# --------------------------------------------------------------------------- request and answer


@dataclass(frozen=True)
class ChatMessage:
    """One chat message; its ``content`` is already redacted."""

    role: Role
    content: str

    def __post_init__(self) -> None:
        if self.role not in _ROLES:
            raise ValueError(f"message role must be one of {sorted(_ROLES)}, got {self.role!r}")
        if not isinstance(self.content, str):
            raise ValueError(f"message content must be a string, got {type(self.content).__name__}")

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "content": self.content}


@dataclass(frozen=True)
class RedactedRequest:
    """An upstream request whose every text has been through the redactor.

    Build it only from the redactor's output: the outbox stores nothing else, and it is the only
    request type that may wait on disk. ``data_classes`` and ``policy_version`` record what the
    egress decision was made on, so whoever sends it later can re-check it against the policy in
    force then. No vault (placeholder -> value mapping) is ever part of it.
    """

    request_id: str
    destination: str
    purpose: str
    messages: tuple[ChatMessage, ...]
    tools: tuple[Tool, ...] = ()
    data_classes: tuple[str, ...] = ()
    policy_version: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "destination": self.destination,
            "purpose": self.purpose,
            "messages": [m.to_json() for m in self.messages],
            "tools": [t.to_json() for t in self.tools],
            "data_classes": list(self.data_classes),
            "policy_version": self.policy_version,
        }

    @classmethod
    def from_json(cls, data: Any) -> RedactedRequest:
        """Rebuild a request written by :meth:`to_json`; raise ``ValueError`` naming the field."""
        if not isinstance(data, Mapping):
            raise ValueError(f"a redacted request must be an object, got {type(data).__name__}")
        try:
            version = data.get("policy_version")
            if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
                raise ValueError(f"policy_version must be an integer, got {version!r}")
            return cls(
                request_id=_text(data, "request_id"),
                destination=_text(data, "destination"),
                purpose=_text(data, "purpose"),
                messages=tuple(
                    ChatMessage(_text(m, "role"), _text(m, "content"))  # type: ignore[arg-type]
                    for m in _list(data, "messages")
                ),
                tools=tuple(
                    Tool(
                        _text(t, "name"),
                        _text(t, "description"),
                        tuple(str(e) for e in _list(t, "entities")),
                        _mapping(t, "parameters"),
                    )
                    for t in _list(data, "tools")
                ),
                data_classes=tuple(str(c) for c in _list(data, "data_classes")),
                policy_version=version,
            )
        except (TypeError, AttributeError) as exc:
            raise ValueError(f"malformed redacted request: {exc}") from exc


@dataclass(frozen=True)
class UpstreamAnswer:
    """What the upstream said: text, tool calls (tool names mapped back to ``domain.service``), and
    the completion's ``id``. Nothing here is trusted: it is re-identified and then gated."""

    text: str | None
    tool_calls: tuple[PlannedCall, ...]
    raw_id: str | None


# --------------------------------------------------------------------------- API key


def load_api_key(
    *,
    env_var: str | None = None,
    file: str | Path | None = None,
    credential: str = CREDENTIAL_NAME,
    required: bool = False,
    environ: Mapping[str, str] | None = None,
) -> SecretStr | None:
    """Read the upstream API key, first match wins:

    1. ``$CREDENTIALS_DIRECTORY/<credential>`` when systemd passed it (``LoadCredential=``); a
       blank credential (the unit's ``SetCredential=`` default) counts as not passed,
    2. the file ``file`` (used even when others can read it, with a warning),
    3. the environment variable named ``env_var``; unset or empty counts as not set.

    Returns ``None`` when none of them holds a key, or raises :class:`ApiKeyError` listing the
    sources tried when ``required``. A configured file that is missing, unreadable or empty, or a
    key that cannot be an HTTP header value, raises :class:`ApiKeyError` naming the source,
    never the value.
    """
    env = os.environ if environ is None else environ
    tried: list[str] = []
    cred_dir = env.get("CREDENTIALS_DIRECTORY")
    if cred_dir:
        path = Path(cred_dir) / credential
        tried.append(f"systemd credential {credential}")
        if path.is_file():
            text = _read_key_file(path, check_mode=False)
            if text.strip():
                return _checked_key(text, f"systemd credential {credential}")
    if file is not None:
        path = Path(file)
        return _checked_key(_read_key_file(path, check_mode=True), f"file {path}")
    if env_var is not None:
        tried.append(f"environment variable {env_var}")
        value = env.get(env_var, "")
        if value.strip():
            return _checked_key(value, f"environment variable {env_var}")
    if required:
        where = ", ".join(tried) or "no source configured"
        raise ApiKeyError(f"no upstream API key found (tried: {where})")
    return None


def _read_key_file(path: Path, *, check_mode: bool) -> str:
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode
    except FileNotFoundError as exc:
        raise ApiKeyError(f"upstream API key file {path} does not exist") from exc
    except OSError as exc:
        raise ApiKeyError(f"upstream API key file {path} cannot be read: {exc.strerror}") from exc
    if check_mode and mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning(
            "upstream API key file %s is readable by others (mode %o): chmod 600 it",
            path,
            stat.S_IMODE(mode),
        )
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ApiKeyError(f"upstream API key file {path} is not UTF-8 text") from exc


def _checked_key(value: str, source: str) -> SecretStr:
    key = value.strip()
    if not key:
        raise ApiKeyError(f"upstream API key from {source} is empty")
    if not all(0x21 <= ord(ch) <= 0x7E for ch in key):
        raise ApiKeyError(
            f"upstream API key from {source} holds spaces, control or non-ASCII characters"
        )
    return SecretStr(key)


# --------------------------------------------------------------------------- circuit breaker

BreakerState = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    """Closed -> open after ``failure_threshold`` consecutive failures -> half-open after
    ``cooldown_s`` (one probe at a time) -> closed on the probe's success, open on its failure.

    ``clock`` is a monotonic clock in seconds, injectable for tests. Thread-safe.
    """

    def __init__(
        self,
        failure_threshold: int = 5,
        cooldown_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be at least 1, got {failure_threshold}")
        if cooldown_s < 0:
            raise ValueError(f"cooldown_s must be >= 0, got {cooldown_s}")
        self.failure_threshold = failure_threshold
        self.cooldown_s = cooldown_s
        self._clock = clock
        self._lock = threading.Lock()
        self._failures = 0
        self._opened_at: float | None = None
        self._probing = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            return self._state()

    def _state(self) -> BreakerState:
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.cooldown_s:
            return "half_open"
        return "open"

    def admit(self) -> tuple[bool, float]:
        """Whether a call may go now, as ``(is_probe, retry_in_s)``; ``retry_in_s > 0`` means no.

        Use :meth:`acquire` instead unless you handle the refusal yourself.
        """
        with self._lock:
            state = self._state()
            if state == "closed":
                return False, 0.0
            if state == "half_open" and not self._probing:
                self._probing = True
                return True, 0.0
            assert self._opened_at is not None
            remaining = self._opened_at + self.cooldown_s - self._clock()
            return False, max(remaining, 0.001)

    def release(self) -> None:
        """End an admitted call that never reached the upstream, counting nothing."""
        with self._lock:
            self._probing = False

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._opened_at = None
            self._probing = False

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            if self._probing or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
            self._probing = False


# --------------------------------------------------------------------------- client


@dataclass
class _Attempt:
    """How one attempt failed, for the retry loop."""

    error: UpstreamError
    retryable: bool
    wait_s: float | None = None  # a Retry-After to honour instead of the backoff
    counts_as_failure: bool = True


@dataclass
class _ToolNames:
    wire_of: dict[str, str] = field(default_factory=dict)
    name_of: dict[str, str] = field(default_factory=dict)


class UpstreamClient:
    """One upstream destination named in the policy, spoken to as an OpenAI-compatible API.

    ``base_url`` is the API root (``https://llm.example.eu/v1``); requests go to
    ``<base_url>/chat/completions``. ``max_retries`` is the number of retries after the first
    attempt. Use as a context manager or call :meth:`close`.
    """

    def __init__(
        self,
        destination_name: str,
        base_url: str,
        api_key: str | SecretStr | None,
        model: str,
        timeout_s: float,
        max_retries: int,
        ca_bundle: str | Path | None,
        allowed_destinations: AllowedDestinations,
        *,
        breaker: CircuitBreaker | None = None,
        backoff_base_s: float = 0.5,
        backoff_cap_s: float = 8.0,
        retry_after_cap_s: float = 30.0,
        max_response_bytes: int = 2 * 1024 * 1024,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not destination_name:
            raise UpstreamConfigError("upstream destination name is empty")
        self.destination_name = destination_name
        self.base_url = _check_base_url(base_url, destination_name)
        self.model = model
        if not model:
            raise UpstreamConfigError(f"upstream {destination_name}: model is empty")
        if not timeout_s > 0:
            raise UpstreamConfigError(
                f"upstream {destination_name}: timeout_s must be > 0, got {timeout_s}"
            )
        if max_retries < 0:
            raise UpstreamConfigError(
                f"upstream {destination_name}: max_retries must be >= 0, got {max_retries}"
            )
        self.timeout_s = timeout_s
        self.max_retries = max_retries
        self._key = (
            _checked_key(api_key, f"upstream {destination_name} settings")
            if isinstance(api_key, str)
            else api_key
        )
        self._allowed = allowed_destinations
        self.breaker = breaker or CircuitBreaker()
        self.backoff_base_s = backoff_base_s
        self.backoff_cap_s = backoff_cap_s
        self.retry_after_cap_s = retry_after_cap_s
        self.max_response_bytes = max_response_bytes
        self._sleep = sleep
        self._rng = rng or random.SystemRandom()
        if self.base_url.startswith("http://"):
            log.warning("upstream %s is plain http: requests travel without TLS", destination_name)
        import httpx

        self._http = httpx.Client(
            verify=_tls_context(ca_bundle, destination_name),
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            headers={"User-Agent": "edgeward", "Accept": "application/json"},
        )

    def __repr__(self) -> str:
        return (
            f"UpstreamClient(destination={self.destination_name!r}, base_url={self.base_url!r}, "
            f"model={self.model!r}, api_key={'set' if self._key else 'none'})"
        )

    def __enter__(self) -> UpstreamClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    # ------------------------------------------------------------------ public calls

    def send(self, request: RedactedRequest, idempotency_key: str) -> UpstreamAnswer:
        """Send a queued :class:`RedactedRequest` (from the outbox) with its idempotency key."""
        if request.destination != self.destination_name:
            raise UpstreamConfigError(
                f"request {request.request_id} is for destination {request.destination!r}, "
                f"this client speaks to {self.destination_name!r}",
                self.destination_name,
            )
        return self.complete(request.messages, request.tools, idempotency_key=idempotency_key)

    def complete(
        self,
        messages: Sequence[ChatMessage],
        tools: Sequence[Tool],
        *,
        idempotency_key: str | None = None,
    ) -> UpstreamAnswer:
        """One chat completion with ``tools`` offered; retries, breaker and checks as above."""
        if not messages:
            raise UpstreamConfigError("a chat completion needs at least one message")
        if idempotency_key is not None and not _IDEMPOTENCY_KEY.match(idempotency_key):
            raise UpstreamConfigError(
                "idempotency_key must be 1-255 printable ASCII characters without spaces",
                self.destination_name,
            )
        names = self._tool_names(tools)
        body = self._body(messages, tools, names)
        headers = {"Content-Type": "application/json"}
        if self._key is not None:
            headers["Authorization"] = f"Bearer {self._key.get_secret_value()}"
        if idempotency_key is not None:
            headers["Idempotency-Key"] = idempotency_key

        self._check_destination()
        is_probe, retry_in = self.breaker.admit()
        if retry_in > 0:
            raise CircuitOpen(
                f"upstream {self.destination_name} is failing: circuit open, "
                f"next try in {retry_in:.1f}s",
                self.destination_name,
                retry_in,
            )
        attempts_allowed = 1 if is_probe else self.max_retries + 1
        attempt = 0
        try:
            while True:
                attempt += 1
                if attempt > 1:
                    self._check_destination()
                try:
                    answer = self._attempt(body, headers, names)
                except _AttemptFailed as failed:
                    outcome = failed.attempt
                    if outcome.retryable and attempt < attempts_allowed:
                        delay = self._delay(attempt, outcome.wait_s)
                        log.warning(
                            "upstream %s attempt %d/%d failed: %s; retrying in %.2fs",
                            self.destination_name,
                            attempt,
                            attempts_allowed,
                            outcome.error,
                            delay,
                        )
                        self._sleep(delay)
                        continue
                    if outcome.counts_as_failure:
                        self.breaker.record_failure()
                    else:
                        self.breaker.record_success()
                    error = outcome.error
                    if isinstance(error, UpstreamUnreachable):
                        error.attempts = attempt
                        error.args = (f"{error.args[0]} (after {attempt} attempt(s))",)
                    raise error from None
                self.breaker.record_success()
                return answer
        except DestinationNotAllowed:
            self.breaker.release()
            raise
        except UpstreamError:
            raise
        except Exception:
            self.breaker.record_failure()
            raise
        except BaseException:
            self.breaker.release()
            raise

    # ------------------------------------------------------------------ internals

    def _check_destination(self) -> None:
        name = self.destination_name
        try:
            allowed = self._allowed() if callable(self._allowed) else self._allowed
            if isinstance(allowed, str | bytes):
                raise TypeError("a set of destination names is needed, not a single string")
            known = name in allowed
        except Exception as exc:
            raise DestinationNotAllowed(
                f"could not ask the policy whether upstream {name} is allowed "
                f"({type(exc).__name__}): nothing sent",
                name,
            ) from exc
        if not known:
            raise DestinationNotAllowed(
                f"upstream {name} is not a destination the policy allows: nothing sent", name
            )
        if isinstance(allowed, Mapping):
            url = allowed[name]
            if url and _normal_url(url) != _normal_url(self.base_url):
                raise DestinationNotAllowed(
                    f"the policy names upstream {name} at {url} but it is configured at "
                    f"{self.base_url}: nothing sent",
                    name,
                )

    def _tool_names(self, tools: Sequence[Tool]) -> _ToolNames:
        names = _ToolNames()
        for tool in tools:
            wire = tool.name.replace(".", "__")
            if not _WIRE_NAME.match(wire):
                raise UpstreamConfigError(
                    f"tool name {tool.name!r} cannot be sent upstream: it must map to "
                    "1-64 letters, digits, '_' or '-'",
                    self.destination_name,
                )
            other = names.name_of.get(wire)
            if other is not None and other != tool.name:
                raise UpstreamConfigError(
                    f"tool names {other!r} and {tool.name!r} both map to {wire!r} upstream",
                    self.destination_name,
                )
            names.wire_of[tool.name] = wire
            names.name_of[wire] = tool.name
        return names

    def _body(
        self, messages: Sequence[ChatMessage], tools: Sequence[Tool], names: _ToolNames
    ) -> bytes:
        payload: dict[str, Any] = {
            "model": self.model,
            "messages": [m.to_json() for m in messages],
        }
        if tools:
            payload["tools"] = [
                {
                    "type": "function",
                    "function": {
                        "name": names.wire_of[t.name],
                        "description": t.description,
                        "parameters": dict(t.parameters),
                    },
                }
                for t in tools
            ]
            payload["tool_choice"] = "auto"
        return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    def _attempt(self, body: bytes, headers: dict[str, str], names: _ToolNames) -> UpstreamAnswer:
        import httpx

        name = self.destination_name
        url = f"{self.base_url}/chat/completions"
        try:
            deadline = time.monotonic() + self.timeout_s
            with self._http.stream("POST", url, content=body, headers=headers) as response:
                status = response.status_code
                data = bytearray()
                for chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise httpx.ReadTimeout("the answer trickled in past the timeout")
                    data += chunk
                    if len(data) > self.max_response_bytes:
                        raise _AttemptFailed(
                            _Attempt(
                                MalformedAnswer(
                                    f"upstream {name} answer is larger than "
                                    f"{self.max_response_bytes} bytes",
                                    name,
                                ),
                                retryable=False,
                            )
                        )
                retry_after = response.headers.get("Retry-After")
        except httpx.TimeoutException:
            raise _AttemptFailed(
                _Attempt(
                    UpstreamTimeout(
                        f"upstream {name} did not answer within {self.timeout_s:g}s", name
                    ),
                    retryable=True,
                )
            ) from None
        except httpx.TransportError as exc:
            if _is_tls_failure(exc):
                reason = self._scrub(str(_tls_cause(exc) or exc))
                raise _AttemptFailed(
                    _Attempt(
                        UpstreamTLSError(
                            f"upstream {name} at {self.base_url}: TLS verification failed "
                            f"({reason}); set the CA bundle if it uses a private CA",
                            name,
                        ),
                        retryable=False,
                    )
                ) from None
            raise _AttemptFailed(
                _Attempt(
                    UpstreamConnectError(
                        f"upstream {name} at {self.base_url} is unreachable "
                        f"({type(exc).__name__}: {self._scrub(str(exc)) or 'no detail'})",
                        name,
                    ),
                    retryable=True,
                )
            ) from None
        return self._interpret(status, bytes(data), retry_after, names)

    def _interpret(
        self, status: int, data: bytes, retry_after: str | None, names: _ToolNames
    ) -> UpstreamAnswer:
        name = self.destination_name
        if status == 429:
            wait = _parse_retry_after(retry_after)
            if wait is not None and wait > self.retry_after_cap_s:
                raise _AttemptFailed(
                    _Attempt(
                        UpstreamRateLimited(
                            f"upstream {name} is rate limiting and asks to wait {wait:.0f}s, "
                            f"more than the {self.retry_after_cap_s:g}s cap",
                            name,
                            0,
                            wait,
                        ),
                        retryable=False,
                    )
                )
            raise _AttemptFailed(
                _Attempt(
                    UpstreamRateLimited(f"upstream {name} is rate limiting (429)", name, 0, wait),
                    retryable=True,
                    wait_s=wait,
                )
            )
        if status >= 500:
            raise _AttemptFailed(
                _Attempt(
                    UpstreamServerError(
                        f"upstream {name} failed with HTTP {status}: {self._snippet(data)}",
                        name,
                        0,
                        status,
                    ),
                    retryable=True,
                )
            )
        if status >= 300 or status < 200:
            raise _AttemptFailed(
                _Attempt(
                    UpstreamRejected(
                        f"upstream {name} refused the request with HTTP {status}: "
                        f"{self._snippet(data)}",
                        name,
                        status,
                    ),
                    retryable=False,
                    counts_as_failure=status in (401, 403),
                )
            )
        try:
            return _parse_answer(data, names, name)
        except (InvalidToolArguments, UnknownTool) as exc:
            # The service works; its model said something unusable. Not a breaker failure.
            exc.args = (self._scrub(str(exc)),)
            raise _AttemptFailed(_Attempt(exc, retryable=False, counts_as_failure=False)) from None
        except MalformedAnswer as exc:
            exc.args = (self._scrub(str(exc)),)
            raise _AttemptFailed(_Attempt(exc, retryable=False)) from None

    def _delay(self, attempt: int, wait_s: float | None) -> float:
        if wait_s is not None:
            return wait_s
        return self._rng.uniform(
            0.0, min(self.backoff_cap_s, self.backoff_base_s * 2 ** (attempt - 1))
        )

    def _snippet(self, data: bytes) -> str:
        text = data[:300].decode("utf-8", errors="replace").strip()
        text = " ".join(text.split())
        return self._scrub(text) or "(empty body)"

    def _scrub(self, text: str) -> str:
        if self._key is not None:
            text = text.replace(self._key.get_secret_value(), _REDACTED)
        return text


class _AttemptFailed(Exception):
    def __init__(self, attempt: _Attempt) -> None:
        super().__init__(str(attempt.error))
        self.attempt = attempt


# --------------------------------------------------------------------------- helpers


def _parse_answer(data: bytes, names: _ToolNames, destination: str) -> UpstreamAnswer:
    where = f"upstream {destination} answer"
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MalformedAnswer(f"{where} is not JSON ({exc})", destination) from None
    if not isinstance(doc, dict):
        raise MalformedAnswer(f"{where} is not a JSON object", destination)
    choices = doc.get("choices")
    if not isinstance(choices, list) or not choices:
        raise MalformedAnswer(f"{where} has no 'choices'", destination)
    first = choices[0]
    message = first.get("message") if isinstance(first, dict) else None
    if not isinstance(message, dict):
        raise MalformedAnswer(f"{where}: choices[0] has no 'message' object", destination)
    content = message.get("content")
    if content is not None and not isinstance(content, str):
        raise MalformedAnswer(f"{where}: message content is not a string", destination)
    raw_calls = message.get("tool_calls") or []
    if not isinstance(raw_calls, list):
        raise MalformedAnswer(f"{where}: 'tool_calls' is not a list", destination)
    calls: list[PlannedCall] = []
    for index, raw in enumerate(raw_calls):
        fn = raw.get("function") if isinstance(raw, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str):
            raise MalformedAnswer(f"{where}: tool_calls[{index}] has no function name", destination)
        wire = fn["name"]
        tool = names.name_of.get(wire) or (wire if wire in names.wire_of else None)
        if tool is None:
            offered = ", ".join(sorted(names.wire_of)) or "none"
            raise UnknownTool(
                f"{where}: tool_calls[{index}] names tool {_short(wire)} that was not offered "
                f"(offered: {offered})",
                destination,
            )
        arguments = fn.get("arguments", "{}")
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments) if arguments.strip() else {}
            except json.JSONDecodeError as exc:
                raise InvalidToolArguments(
                    f"{where}: arguments of tool_calls[{index}] ({tool}) are not valid JSON "
                    f"({exc.msg} at position {exc.pos})",
                    destination,
                ) from None
        if not isinstance(arguments, dict):
            raise InvalidToolArguments(
                f"{where}: arguments of tool_calls[{index}] ({tool}) are not a JSON object",
                destination,
            )
        calls.append(PlannedCall(tool, arguments))
    raw_id = doc.get("id")
    return UpstreamAnswer(content, tuple(calls), raw_id if isinstance(raw_id, str) else None)


def _check_base_url(url: str, destination: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UpstreamConfigError(
            f"upstream {destination}: base_url {url!r} is not an http(s) URL with a host",
            destination,
        )
    if parts.username or parts.password:
        raise UpstreamConfigError(
            f"upstream {destination}: base_url must not hold credentials; use the API key setting",
            destination,
        )
    if parts.query or parts.fragment:
        raise UpstreamConfigError(
            f"upstream {destination}: base_url {url!r} must not have a query or fragment",
            destination,
        )
    return url.rstrip("/")


def _normal_url(url: str) -> str:
    parts = urlsplit(url.strip())
    port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    return (
        f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}{parts.path.rstrip('/')}"
    )


def _tls_context(ca_bundle: str | Path | None, destination: str) -> ssl.SSLContext:
    if ca_bundle is None:
        return ssl.create_default_context()
    path = Path(ca_bundle)
    if not path.is_file():
        raise UpstreamConfigError(
            f"upstream {destination}: CA bundle {path} does not exist or is not a file",
            destination,
        )
    try:
        return ssl.create_default_context(cafile=str(path))
    except (ssl.SSLError, OSError) as exc:
        raise UpstreamConfigError(
            f"upstream {destination}: CA bundle {path} is not a readable PEM bundle ({exc})",
            destination,
        ) from exc


def _tls_cause(exc: BaseException) -> ssl.SSLError | None:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _is_tls_failure(exc: httpx.TransportError) -> bool:
    cause = _tls_cause(exc)
    if isinstance(cause, ssl.SSLCertVerificationError):
        return True
    return "CERTIFICATE_VERIFY_FAILED" in str(exc)


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - datetime.now(UTC)).total_seconds(), 0.0)


def _short(value: str) -> str:
    return repr(value) if len(value) <= 64 else repr(value[:61] + "...")


def _text(data: Any, key: str) -> str:
    value = data[key] if isinstance(data, Mapping) and key in data else None
    if not isinstance(value, str):
        raise ValueError(f"{key} must be a string, got {type(value).__name__}")
    return value


def _list(data: Any, key: str) -> list[Any]:
    value = data.get(key, []) if isinstance(data, Mapping) else None
    if not isinstance(value, list):
        raise ValueError(f"{key} must be a list, got {type(value).__name__}")
    return value


def _mapping(data: Any, key: str) -> Mapping[str, Any]:
    value = data.get(key) if isinstance(data, Mapping) else None
    if not isinstance(value, Mapping):
        raise ValueError(f"{key} must be an object, got {type(value).__name__}")
    return value
