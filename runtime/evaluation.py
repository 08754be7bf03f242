"""Evaluate a planner on labelled requests: what ``edgeward eval`` reports.

For every request the planner's plan is compared with the expected one, and the figures are
grouped overall, per language and per request kind:

- exact plan match (kind, calls with arguments and timing in order, candidates, reason);
- tool accuracy: the multiset of tools called is right (requests whose expected plan has calls);
- argument accuracy: among those with the right tools, every call's arguments are right too;
- graph success with arguments (TinyAgent): the calls form the expected task graph, i.e. the
  same set of (tool, arguments, timing) nodes; independent calls may come in any order;
- ambiguity and refusal precision/recall (``ambiguous`` and ``unsupported`` plans);
- must-not-act held: the share of requests whose expected plan is ``ambiguous`` or
  ``unsupported`` that the planner did not turn into an action;
- plan latency p50/p95 in milliseconds (wall clock around ``planner.plan``);
- per confidence threshold (what ``[model] min_confidence`` would do): the plans at or above it
  and how many of those are exact, the actions taken and how many were wrong, and the actions
  taken on requests that must not act.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from edgeward.runtime.catalog import Catalog
from edgeward.runtime.plan import Plan, PlannedCall
from edgeward.runtime.plan_rules import plan_key


class LabelledRequest(Protocol):
    """What evaluation needs of an example (:class:`edgeward.runtime.requests_data.Example`)."""

    @property
    def home(self) -> Catalog: ...
    @property
    def area(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def language(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def plan(self) -> Plan: ...
    @property
    def state(self) -> Mapping[str, Mapping[str, Any]]: ...


class PlannerLike(Protocol):
    def plan(
        self,
        catalog: Catalog,
        text: str,
        area: str | None = None,
        language: str | None = None,
        state: Mapping[str, Mapping[str, Any]] | None = None,
    ) -> Plan: ...


@dataclass
class Tally:
    """Counts for one group of requests."""

    requests: int = 0
    exact: int = 0
    with_calls: int = 0
    tools_right: int = 0
    args_right: int = 0
    graph_right: int = 0
    counts: Counter[str] = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)

    def add(self, expected: Plan, got: Plan, latency_ms: float) -> None:
        self.requests += 1
        self.latencies_ms.append(latency_ms)
        self.exact += plan_key(expected) == plan_key(got)
        if expected.calls:
            self.with_calls += 1
            want_tools = Counter(c.tool for c in expected.calls)
            tools_ok = (
                got.kind == expected.kind and Counter(c.tool for c in got.calls) == want_tools
            )
            self.tools_right += tools_ok
            if tools_ok:
                args_ok = Counter(map(_call_args, expected.calls)) == Counter(
                    map(_call_args, got.calls)
                )
                self.args_right += args_ok
                self.graph_right += args_ok and Counter(map(_node, expected.calls)) == Counter(
                    map(_node, got.calls)
                )
        for kind in ("ambiguous", "unsupported"):
            want, have = expected.kind == kind, got.kind == kind
            self.counts[f"{kind}_tp"] += want and have
            self.counts[f"{kind}_fp"] += have and not want
            self.counts[f"{kind}_fn"] += want and not have
        if expected.kind in ("ambiguous", "unsupported"):
            self.counts["must_not_act"] += 1
            self.counts["must_not_act_held"] += got.kind != "act"

    def figures(self) -> dict[str, float | int | None]:
        def ratio(a: int, b: int) -> float | None:
            return round(a / b, 4) if b else None

        c = self.counts
        lat = sorted(self.latencies_ms)
        return {
            "requests": self.requests,
            "exact_match": ratio(self.exact, self.requests),
            "tool_accuracy": ratio(self.tools_right, self.with_calls),
            "argument_accuracy": ratio(self.args_right, self.tools_right),
            "graph_success": ratio(self.graph_right, self.with_calls),
            "ambiguity_precision": ratio(c["ambiguous_tp"], c["ambiguous_tp"] + c["ambiguous_fp"]),
            "ambiguity_recall": ratio(c["ambiguous_tp"], c["ambiguous_tp"] + c["ambiguous_fn"]),
            "refusal_precision": ratio(
                c["unsupported_tp"], c["unsupported_tp"] + c["unsupported_fp"]
            ),
            "refusal_recall": ratio(c["unsupported_tp"], c["unsupported_tp"] + c["unsupported_fn"]),
            "must_not_act_held": ratio(c["must_not_act_held"], c["must_not_act"]),
            "latency_p50_ms": _quantile(lat, 0.5),
            "latency_p95_ms": _quantile(lat, 0.95),
        }


def _call_args(call: PlannedCall) -> str:
    return json.dumps([call.tool, call.args], sort_keys=True, default=str)


def _node(call: PlannedCall) -> str:
    when = call.when.to_json() if call.when is not None else {}
    return json.dumps([call.tool, call.args, when], sort_keys=True, default=str)


def _quantile(sorted_values: list[float], q: float) -> float | None:
    if not sorted_values:
        return None
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return round(sorted_values[index], 3)


@dataclass
class Failure:
    text: str
    language: str
    kind: str
    expected: dict[str, Any]
    got: dict[str, Any]
    confidence: float


THRESHOLDS = (0.0, 0.5, 0.8, 0.9)
"""Confidence thresholds the report shows the effect of."""


@dataclass(frozen=True)
class Scored:
    """One plan's confidence and how it turned out."""

    confidence: float
    exact: bool
    acted: bool
    must_not_act: bool


def by_threshold(
    scored: Iterable[Scored], thresholds: Iterable[float] = THRESHOLDS
) -> list[dict[str, Any]]:
    """Per threshold: plans kept (confidence at or above it), exact among them, actions taken,
    wrong actions, and actions on requests that must not act."""
    scored = list(scored)
    rows = []
    for t in thresholds:
        kept = [s for s in scored if s.confidence >= t]
        acted = [s for s in kept if s.acted]
        rows.append(
            {
                "threshold": t,
                "kept": len(kept),
                "kept_exact": sum(s.exact for s in kept),
                "acted": len(acted),
                "acted_wrongly": sum(not s.exact for s in acted),
                "acted_on_must_not_act": sum(s.must_not_act for s in acted),
            }
        )
    return rows


@dataclass
class EvalReport:
    """Figures overall, per language and per request kind, the effect of confidence thresholds,
    and the requests that missed."""

    overall: dict[str, float | int | None]
    by_language: dict[str, dict[str, float | int | None]]
    by_kind: dict[str, dict[str, float | int | None]]
    failures: list[Failure]
    thresholds: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "overall": self.overall,
            "by_language": self.by_language,
            "by_kind": self.by_kind,
            "thresholds": self.thresholds,
            "failures": [f.__dict__ for f in self.failures],
        }


def evaluate(
    examples: Iterable[LabelledRequest],
    planner: PlannerLike,
    *,
    clock: Callable[[], float] = time.perf_counter,
    keep_failures: int = 50,
) -> EvalReport:
    """Plan every example and compare with its expected plan."""
    overall = Tally()
    by_language: dict[str, Tally] = {}
    by_kind: dict[str, Tally] = {}
    failures: list[Failure] = []
    scored: list[Scored] = []
    for example in examples:
        start = clock()
        got = planner.plan(
            example.home, example.text, example.area, example.language, example.state or None
        )
        latency_ms = (clock() - start) * 1000
        for tally in (
            overall,
            by_language.setdefault(example.language, Tally()),
            by_kind.setdefault(example.kind, Tally()),
        ):
            tally.add(example.plan, got, latency_ms)
        exact = plan_key(example.plan) == plan_key(got)
        scored.append(
            Scored(
                got.confidence,
                exact,
                got.kind == "act",
                example.plan.kind in ("ambiguous", "unsupported"),
            )
        )
        if not exact and len(failures) < keep_failures:
            failures.append(
                Failure(
                    example.text,
                    example.language,
                    example.kind,
                    plan_key(example.plan),
                    plan_key(got),
                    got.confidence,
                )
            )
    return EvalReport(
        overall.figures(),
        {k: t.figures() for k, t in sorted(by_language.items())},
        {k: t.figures() for k, t in sorted(by_kind.items())},
        failures,
        by_threshold(scored),
    )


_COLUMNS = (
    ("requests", "n"),
    ("exact_match", "exact"),
    ("tool_accuracy", "tools"),
    ("argument_accuracy", "args"),
    ("graph_success", "graph"),
    ("ambiguity_precision", "amb P"),
    ("ambiguity_recall", "amb R"),
    ("refusal_precision", "ref P"),
    ("refusal_recall", "ref R"),
    ("must_not_act_held", "no-act"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
)


def format_report(report: EvalReport, title: str = "planner evaluation", misses: int = 0) -> str:
    """A plain-text table: one row overall, one per language, one per kind; then the effect of
    confidence thresholds and, if ``misses``, that many of the requests that missed."""
    rows: list[tuple[str, Mapping[str, float | int | None]]] = [("all", report.overall)]
    rows += [(f"lang {k}", v) for k, v in report.by_language.items()]
    rows += [(f"kind {k}", v) for k, v in report.by_kind.items()]
    width = max(len(name) for name, _ in rows)
    header = f"{'':<{width}} " + " ".join(f"{label:>7}" for _, label in _COLUMNS)
    lines = [title, header, "-" * len(header)]
    for name, figures in rows:
        cells = []
        for key, _ in _COLUMNS:
            value = figures.get(key)
            if value is None:
                cells.append(f"{'-':>7}")
            elif key == "requests":
                cells.append(f"{value:>7}")
            elif key.startswith("latency"):
                cells.append(f"{value:>7.2f}")
            else:
                cells.append(f"{value * 100:>6.1f}%")
        lines.append(f"{name:<{width}} " + " ".join(cells))
    if report.thresholds:
        lines += ["", "min confidence    kept   exact  acted  wrong  acted on must-not-act"]
        for row in report.thresholds:
            share = row["kept_exact"] / row["kept"] * 100 if row["kept"] else 0.0
            lines.append(
                f"{row['threshold']:>14.2f} {row['kept']:>7} {share:>6.1f}% {row['acted']:>6} "
                f"{row['acted_wrongly']:>6} {row['acted_on_must_not_act']:>6}"
            )
    for failure in report.failures[:misses]:
        lines += [
            "",
            f"missed [{failure.language} {failure.kind}, confidence {failure.confidence:.2f}] "
            f"{failure.text}",
            f"  expected {_compact(failure.expected)}",
            f"  got      {_compact(failure.got)}",
        ]
    return "\n".join(lines)


def _compact(plan: Mapping[str, Any]) -> str:
    return json.dumps({k: v for k, v in plan.items() if v}, ensure_ascii=False)


def evaluate_standard_sets(
    planner: PlannerLike,
    *,
    test_requests: int = 1000,
    seed: int = 0,
    handwritten: Path | None = None,
    keep_failures: int = 50,
) -> dict[str, EvalReport]:
    """What ``edgeward eval`` runs: the generated test split and the hand-written set.

    ``handwritten`` defaults to ``tests/data/handwritten_eval.jsonl`` of a source checkout; when
    that file is absent (an installed package) only the generated split is evaluated.
    """
    from edgeward.runtime.eval_set import HANDWRITTEN, load_handwritten
    from edgeward.runtime.requests_data import generate

    reports = {
        f"generated test split ({test_requests} requests, seed {seed})": evaluate(
            generate("test", test_requests, seed), planner, keep_failures=keep_failures
        )
    }
    path = handwritten if handwritten is not None else HANDWRITTEN
    if handwritten is not None or path.is_file():
        reports[f"hand-written set ({path.name})"] = evaluate(
            load_handwritten(path), planner, keep_failures=keep_failures
        )
    return reports
