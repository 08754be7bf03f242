"""Shared generated data for the planner-data tests (made once per session: generation is the
slow part)."""

from __future__ import annotations

import pytest

from edgeward.runtime.requests_data import Example, generate


@pytest.fixture(scope="session")
def train_examples() -> list[Example]:
    return list(generate("train", 1500, seed=3))


@pytest.fixture(scope="session")
def test_examples() -> list[Example]:
    return list(generate("test", 1000, seed=3))
