"""Training groups: requests batched by length so that padding does not eat the compute."""

from __future__ import annotations

import itertools
import random

from edgeward.runtime.training.packing import SUB_BATCH_COST, sub_batches


def _cost(lengths: list[int], batches: list[list[int]]) -> int:
    return sum(len(b) * max(lengths[i] for i in b) + SUB_BATCH_COST for b in batches)


def test_every_request_once_in_batches_of_rising_length() -> None:
    lengths = [40, 12, 90, 41, 13, 88, 40]
    batches = sub_batches(lengths)
    assert sorted(i for b in batches for i in b) == list(range(len(lengths)))
    widths = [[lengths[i] for i in b] for b in batches]
    assert all(max(a) <= min(b) for a, b in itertools.pairwise(widths))
    assert len(batches) == 3  # short, middle and long requests apart


def test_similar_lengths_stay_one_batch_and_the_split_is_the_cheapest() -> None:
    assert sub_batches([30, 31, 33, 30]) == [[0, 3, 1, 2]]
    assert sub_batches([]) == []
    rng = random.Random(4)
    for _ in range(50):
        lengths = [rng.randint(20, 120) for _ in range(rng.randint(1, 7))]
        best = _cost(lengths, sub_batches(lengths))
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        # every way to cut the sorted requests into consecutive batches costs at least as much
        for cuts in itertools.product([False, True], repeat=len(lengths) - 1):
            batches, current = [], [order[0]]
            for cut, i in zip(cuts, order[1:], strict=True):
                if cut:
                    batches.append(current)
                    current = []
                current.append(i)
            batches.append(current)
            assert best <= _cost(lengths, batches)
