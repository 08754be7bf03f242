"""The shipped planner model, loaded once per session through the runtime's ``load_model``."""

from __future__ import annotations

import pytest

from edgeward.runtime.local_model import LocalModel, load_model
from edgeward.runtime.planner import DEFAULT_MODEL, Planner


@pytest.fixture(scope="session")
def shipped_model() -> LocalModel:
    return load_model(DEFAULT_MODEL, backend="onnx")


@pytest.fixture(scope="session")
def planner(shipped_model: LocalModel) -> Planner:
    return Planner(shipped_model)
