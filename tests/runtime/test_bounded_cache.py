"""The planners' caches: each value made once, the oldest dropped when full."""

from __future__ import annotations

import pytest

from edgeward.runtime.bounded_cache import BoundedCache


def test_a_value_is_made_once_and_the_oldest_goes_first() -> None:
    made: list[str] = []

    def make(key: str) -> str:
        made.append(key)
        return key.upper()

    cache: BoundedCache[str, str] = BoundedCache(2)
    assert cache.get("a", lambda: make("a")) == "A"
    assert cache.get("a", lambda: make("a")) == "A"
    cache.get("b", lambda: make("b"))
    cache.get("c", lambda: make("c"))  # full: "a" goes
    assert len(cache) == 2
    cache.get("b", lambda: make("b"))
    cache.get("a", lambda: make("a"))
    assert made == ["a", "b", "c", "a"]


def test_a_failed_make_stores_nothing() -> None:
    cache: BoundedCache[str, int] = BoundedCache(1)

    def fail() -> int:
        raise RuntimeError("no")

    with pytest.raises(RuntimeError):
        cache.get("x", fail)
    assert len(cache) == 0
    assert cache.get("x", lambda: 3) == 3


def test_a_cache_needs_a_slot() -> None:
    with pytest.raises(ValueError, match="at least one slot"):
        BoundedCache(0)
