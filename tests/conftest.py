"""Fixtures shared by the whole suite: real Mosquitto brokers on free ports."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.mosquitto import Mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of this test's own, free to stop, restart and reconfigure."""
    server = Mosquitto(tmp_path / "mosquitto")
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def shared_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    """One broker for tests that only publish and subscribe (use unique topics per test)."""
    server = Mosquitto(tmp_path_factory.mktemp("shared-mosquitto"))
    server.start()
    yield server
    server.stop()
