"""Planner latency and memory with the shipped model, against the bare model's own speed.

Run: .venv/bin/pytest tests/bench/test_bench_planner.py -m bench -s

Rows, per backend (ONNX Runtime int8, OpenVINO int8 weights):

- ``hand-written``: the hand-written requests (520) over their fixed 46-entity home
  (``tests/data``), the case a gateway serves: one home, so the home's KV cache (the prompt
  prefix) and the compiled grammar are warm after the first request;
- ``generated 45-60``: generated test-split requests over homes of 45 to 60 entities (a new
  home every few requests; the first request on each home is the ``cold`` row: grammar
  compilation and the whole home's prefill).

Baseline: one bare decode step of the same model (``backend.step`` with the home in the KV
cache), measured in the same run; the ratio says how many bare steps a whole plan costs.
Peak RSS: a fresh subprocess that loads the planner and plans 20 requests. Goals (issue 5):
p50 <= 10 ms, p95 <= 25 ms on a 50-entity home, RSS of the daemon <= 150 MB.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence

import pytest

from edgeward.runtime.eval_set import EVAL_HOME, HANDWRITTEN, load_handwritten
from edgeward.runtime.planner import Planner, prompt_entities, prompt_parts
from edgeward.runtime.requests_data import Example, generate

pytestmark = pytest.mark.bench


def _quantile(values: Sequence[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _plan_times(planner: Planner, examples: Sequence[Example]) -> tuple[list[float], list[float]]:
    """Milliseconds per plan: (warm, cold), cold being the first request on each home."""
    warm: list[float] = []
    cold: list[float] = []
    seen: set[str] = set()
    for example in examples:
        start = time.perf_counter()
        planner.plan(example.home, example.text, example.area, example.language, example.state)
        elapsed = (time.perf_counter() - start) * 1000
        if example.home.version in seen:
            warm.append(elapsed)
        else:
            cold.append(elapsed)
            seen.add(example.home.version)
    return warm, cold


def _bare_step_ms(planner: Planner, example: Example, repeats: int = 200) -> float:
    """Median time of one bare decode step with the example's home in the cache."""
    entities = prompt_entities(example.home, example.text, example.area)
    ids = planner.prompt_ids(
        prompt_parts(example.home, example.text, example.area, entities, example.language)
    ).ids
    backend = planner.model.backend
    backend.reset()
    backend.prefill(ids, 0)
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        backend.step(ids[-1], len(ids) + i)
        times.append((time.perf_counter() - start) * 1000)
    backend.reset()
    planner.model.clear_prefix_cache()
    return statistics.median(times)


_RSS_SCRIPT = """
import json, sys
from edgeward.runtime.homes import home_from_json
from edgeward.runtime.planner import Planner
home = home_from_json(json.loads(open(sys.argv[2], encoding="utf-8").read()))
lines = open(sys.argv[3], encoding="utf-8").read().splitlines()[:20]
planner = Planner.default(backend=sys.argv[1])
for line in lines:
    request = json.loads(line)
    planner.plan(home, request["text"], request["area"], request["language"])
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(int(status.split()[0]) / 1024)
"""
"""Only the planner's own imports: the home is read from JSON, not through the data modules.
Peak RSS is ``VmHWM``: unlike ``ru_maxrss`` it does not carry over the parent's peak."""


def _peak_rss_mb(backend: str) -> float:
    out = subprocess.run(
        [sys.executable, "-c", _RSS_SCRIPT, backend, str(EVAL_HOME), str(HANDWRITTEN)],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(out.stdout.strip().splitlines()[-1])


def test_bench_planner_latency() -> None:
    handwritten = load_handwritten()
    generated = [e for e in generate("test", 3000, seed=21) if 45 <= len(e.home) <= 60][:300]
    rows = []
    for backend in ("onnx", "openvino"):
        planner = Planner.default(backend)
        bare = _bare_step_ms(planner, handwritten[0])
        for name, examples in (("hand-written", handwritten), ("generated 45-60", generated)):
            warm, cold = _plan_times(planner, examples)
            rows.append((backend, name, len(warm), warm, cold, bare))
        rows.append((backend, "peak RSS MB", _peak_rss_mb(backend)))
    print()
    print(f"{'backend':9} {'requests':16} {'n':>5} {'p50 ms':>8} {'p95 ms':>8} {'cold p50':>9} "
          f"{'bare step':>10} {'p50/step':>9}")  # fmt: skip
    for row in rows:
        if len(row) == 3:
            print(f"{row[0]:9} {row[1]:16} {row[2]:>8.1f}")
            continue
        backend, name, n, warm, cold, bare = row
        p50, p95 = _quantile(warm, 0.5), _quantile(warm, 0.95)
        cold_p50 = _quantile(cold, 0.5) if cold else float("nan")
        print(f"{backend:9} {name:16} {n:>5} {p50:>8.2f} {p95:>8.2f} {cold_p50:>9.2f} "
              f"{bare:>10.3f} {p50 / bare:>9.1f}")  # fmt: skip
    assert all(len(row) == 3 or row[2] > 0 for row in rows)
