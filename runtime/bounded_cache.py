"""A cache of a fixed number of entries that drops the oldest first.

What the planners prepare once per catalog version (grammars, retrieval indexes, the home's
description and its token ids) is kept in these: a catalog's version is a hash of its content,
so an entry never outlives what it was made from, and a gateway that sees few homes keeps them all.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class BoundedCache(Generic[K, V]):
    """At most ``slots`` values, each made once by the ``make`` of its first :meth:`get`."""

    def __init__(self, slots: int) -> None:
        if slots < 1:
            raise ValueError(f"a cache needs at least one slot, not {slots}")
        self.slots = slots
        self._values: dict[K, V] = {}

    def get(self, key: K, make: Callable[[], V]) -> V:
        try:
            return self._values[key]
        except KeyError:
            pass
        value = make()
        if len(self._values) >= self.slots:
            self._values.pop(next(iter(self._values)))
        self._values[key] = value
        return value

    def __len__(self) -> int:
        return len(self._values)
