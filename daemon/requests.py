"""The request side of the MQTT contract: parsing ``call``, ``ask``, ``confirm``; replies.

Everything here is pure: bytes in, a validated request or a :class:`RequestError` out. The error's
message is what the ``rejected`` reply says, so it names the field and the problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Literal

RequestKind = Literal["call", "ask", "confirm"]
Status = Literal[
    "done", "denied", "needs_confirmation", "failed", "rejected", "unsupported", "ambiguous"
]
Route = Literal["local", "local_backup", "upstream", "none"]

MAX_CALLS = 32
MAX_TEXT = 2000
_ID = re.compile(r"^[A-Za-z0-9_.:@-]{1,128}$")


class RequestError(ValueError):
    """A request that cannot be taken; ``request_id`` is set when the id itself was readable."""

    def __init__(self, message: str, request_id: str | None = None) -> None:
        super().__init__(message)
        self.request_id = request_id


@dataclass(frozen=True)
class Request:
    kind: RequestKind
    id: str
    body: dict[str, Any]


def parse_request(kind: RequestKind, payload: bytes, max_bytes: int) -> Request:
    """Validate one request payload; raise :class:`RequestError` naming what is wrong."""
    if len(payload) > max_bytes:
        raise RequestError(
            f"payload of {len(payload)} bytes is over the limit of {max_bytes} (max_payload_bytes)"
        )
    try:
        body = json.loads(payload.decode("utf-8"))
    except UnicodeDecodeError:
        raise RequestError("payload is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise RequestError(f"payload is not valid JSON: {exc.msg} at position {exc.pos}") from None
    if not isinstance(body, dict):
        raise RequestError(f"payload must be a JSON object, got {type(body).__name__}")
    request_id = body.get("id")
    if not isinstance(request_id, str) or not _ID.match(request_id):
        shown = json.dumps(request_id)[:40]
        raise RequestError(
            f"id must be a string of 1-128 letters, digits or _.:@- (it names a topic), got {shown}"
        )
    try:
        if kind == "call":
            _check_call(body)
        elif kind == "ask":
            _check_ask(body)
        else:
            _check_confirm(body)
    except RequestError as exc:
        raise RequestError(str(exc), request_id) from None
    return Request(kind, request_id, body)


def _check_call(body: dict[str, Any]) -> None:
    _only(body, {"id", "calls"})
    calls = body.get("calls")
    if not isinstance(calls, list) or not calls:
        raise RequestError("calls must be a non-empty list of {tool, args}")
    if len(calls) > MAX_CALLS:
        raise RequestError(f"calls has {len(calls)} entries; at most {MAX_CALLS} per request")
    for index, call in enumerate(calls):
        if not isinstance(call, dict):
            raise RequestError(f"calls[{index}] must be an object with tool and args")
        unknown = set(call) - {"tool", "args"}
        if unknown:
            raise RequestError(f"calls[{index}] has unknown field(s): {', '.join(sorted(unknown))}")
        if not isinstance(call.get("tool"), str):
            raise RequestError(f"calls[{index}].tool must be a string")
        if not isinstance(call.get("args", {}), dict):
            raise RequestError(f"calls[{index}].args must be an object")


def _check_ask(body: dict[str, Any]) -> None:
    _only(body, {"id", "text", "area", "source", "language"})
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise RequestError("text must be a non-empty string")
    if len(text) > MAX_TEXT:
        raise RequestError(f"text has {len(text)} characters; at most {MAX_TEXT}")
    for key in ("area", "source", "language"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise RequestError(f"{key} must be a string")


def _check_confirm(body: dict[str, Any]) -> None:
    _only(body, {"id", "approve"})
    if not isinstance(body.get("approve"), bool):
        raise RequestError("approve must be true or false")


def _only(body: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise RequestError(f"unknown field(s): {', '.join(sorted(unknown))}")


def make_reply(
    request_id: str,
    status: Status,
    *,
    plan: list[dict[str, Any]] | None = None,
    results: list[dict[str, Any]] | None = None,
    say: str | None = None,
    route: Route = "none",
    reason: str | None = None,
    latency_ms: float = 0.0,
    **extra: Any,
) -> dict[str, Any]:
    """A reply in the contract's shape."""
    reply: dict[str, Any] = {
        "id": request_id,
        "status": status,
        "plan": plan or [],
        "results": results or [],
        "route": route,
        "latency_ms": round(latency_ms, 2),
    }
    if say is not None:
        reply["say"] = say
    if reason is not None:
        reply["reason"] = reason
    reply.update(extra)
    return reply
