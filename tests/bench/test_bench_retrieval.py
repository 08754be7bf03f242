"""Local tool retrieval: recall of the gold plan's entities and latency, against a baseline.

Run: .venv/bin/pytest tests/bench/test_bench_retrieval.py -m bench -s

Data: requests of the generated test split (held-out homes and template groups) over homes of
exactly 50 and exactly 500 entities, and the hand-written set over its 46-entity home. Gold: the
entity ids of the plan's calls and candidates (requests whose plan names none, such as
out-of-domain ones, are left out). "all-gold@k" counts requests whose every gold entity is among
the candidates (ties at the cut included, up to 2k), "mean@k" the average share of gold found.
Baseline: plain substring matching, measured in the same run: an entity scores one point per
word of its name (3 letters or more, folded) found as a substring of the folded request, plus
one if its area's name is in the request; ties broken by entity id.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence

import pytest

from edgeward.runtime.catalog import Catalog
from edgeward.runtime.eval_set import load_handwritten
from edgeward.runtime.homes import fold
from edgeward.runtime.requests_data import Example, generate
from edgeward.runtime.retrieval import Retriever

pytestmark = pytest.mark.bench

KS = (8, 16, 24)


class SubstringBaseline:
    """The named baseline: substring matching of name words and area names."""

    def __init__(self, home: Catalog) -> None:
        self.rows = [
            (
                entity_id,
                [w for w in fold(e.name).split() if len(w) >= 3],
                fold(e.area) if e.area else None,
            )
            for entity_id, e in sorted(home.entities.items())
        ]

    def retrieve(self, text: str, area: str | None, k: int) -> tuple[str, ...]:
        folded = fold(text)
        scored = []
        for entity_id, words, area_name in self.rows:
            score = sum(1 for w in words if w in folded)
            if area_name and area_name in folded:
                score += 1
            if score:
                scored.append((-score, entity_id))
        return tuple(entity_id for _, entity_id in sorted(scored)[:k])


def gold(example: Example) -> set[str]:
    return {c.args["entity_id"] for c in example.plan.calls} | set(example.plan.candidates)


def measure(
    examples: Sequence[Example], build: Callable[[Catalog], Callable[[str, str | None, int], tuple]]
) -> dict[str, float]:
    retrievers: dict[str, Callable[[str, str | None, int], tuple]] = {}
    out: dict[str, float] = {}
    latencies: list[float] = []
    builds: list[float] = []
    usable = [e for e in examples if gold(e)]
    for k in KS:
        full = 0
        shares = []
        sizes = []
        for example in usable:
            retriever = retrievers.get(example.home.version)
            if retriever is None:
                started = time.perf_counter()
                retriever = build(example.home)
                builds.append(time.perf_counter() - started)
                retrievers[example.home.version] = retriever
            started = time.perf_counter()
            found = set(retriever(example.text, example.area, k))
            latencies.append(time.perf_counter() - started)
            wanted = gold(example)
            full += wanted <= found
            shares.append(len(wanted & found) / len(wanted))
            sizes.append(len(found))
        out[f"all-gold@{k}"] = full / len(usable)
        out[f"mean@{k}"] = statistics.mean(shares)
        out[f"size@{k}"] = statistics.mean(sizes)
    latencies.sort()
    out["p50_ms"] = latencies[len(latencies) // 2] * 1000
    out["p95_ms"] = latencies[int(len(latencies) * 0.95)] * 1000
    out["index_ms"] = statistics.mean(builds) * 1000
    out["n"] = len(usable)
    return out


def ours(home: Catalog) -> Callable[[str, str | None, int], tuple]:
    retriever = Retriever(home)
    return lambda text, area, k: retriever.retrieve(text, area, k).entities


def baseline(home: Catalog) -> Callable[[str, str | None, int], tuple]:
    return SubstringBaseline(home).retrieve


def test_bench_retrieval() -> None:
    sets = {
        "generated, 50 entities": list(generate("test", 600, seed=99, sizes=[50])),
        "generated, 500 entities": list(generate("test", 600, seed=99, sizes=[500])),
        "hand-written, 46 entities": load_handwritten(),
    }
    header = (
        f"{'data':27} {'method':10} {'n':>4} "
        + " ".join(f"{'all@' + str(k):>7} {'mean@' + str(k):>7} {'cand':>5}" for k in KS)
        + f" {'p50 ms':>7} {'p95 ms':>7} {'index ms':>8}"
    )
    print("\n" + header)
    print("-" * len(header))
    for name, examples in sets.items():
        results = {"retrieval": measure(examples, ours), "substring": measure(examples, baseline)}
        for method, r in results.items():
            cells = " ".join(
                f"{r[f'all-gold@{k}']:7.3f} {r[f'mean@{k}']:7.3f} {r[f'size@{k}']:5.1f}" for k in KS
            )
            print(
                f"{name:27} {method:10} {int(r['n']):4} {cells} {r['p50_ms']:7.3f} "
                f"{r['p95_ms']:7.3f} {r['index_ms']:8.2f}"
            )
        ratio = results["retrieval"]["all-gold@16"] / max(results["substring"]["all-gold@16"], 1e-9)
        print(f"{'':27} all-gold@16 ratio retrieval/substring: {ratio:.2f}x")
        assert results["retrieval"]["all-gold@16"] > results["substring"]["all-gold@16"]
