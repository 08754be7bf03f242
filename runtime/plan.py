"""What a planner hands back: calls to make (now, later, on a schedule), a question, a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

PlanKind = Literal["act", "query", "ambiguous", "unsupported"]


@dataclass(frozen=True)
class When:
    """When a call should run: after a delay, at a local time of day, or on a cron schedule."""

    delay_s: int | None = None
    at: str | None = None  # "HH:MM", local time, the next occurrence
    cron: str | None = None  # five fields, local time: "30 6 * * 1-5"

    def to_json(self) -> dict[str, Any]:
        return {
            k: v for k, v in (("delay_s", self.delay_s), ("at", self.at), ("cron", self.cron)) if v
        }


@dataclass(frozen=True)
class PlannedCall:
    tool: str
    args: dict[str, Any]
    when: When | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": self.tool, "args": dict(self.args)}
        if self.when is not None:
            out["when"] = self.when.to_json()
        return out


@dataclass(frozen=True)
class Plan:
    """A planner's answer to one request.

    - ``act``: ``calls`` are actions, in order.
    - ``query``: ``calls`` are ``state.get`` calls; the answer comes from tracked state.
    - ``ambiguous``: nothing moves; ``candidates`` are what it could mean; ``say`` asks which.
    - ``unsupported``: nothing the home can do; ``reason``: ``no_such_device``, ``out_of_domain``.

    ``confidence`` is in [0, 1], derived from the decoder's token log-probabilities.
    """

    kind: PlanKind
    calls: tuple[PlannedCall, ...] = ()
    candidates: tuple[str, ...] = ()
    reason: str | None = None
    say: str | None = None
    confidence: float = 1.0
    language: str = "en"

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "calls": [c.to_json() for c in self.calls],
            "candidates": list(self.candidates),
            "reason": self.reason,
            "say": self.say,
            "confidence": round(self.confidence, 4),
            "language": self.language,
        }
