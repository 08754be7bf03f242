"""The small interface every inference runtime implements, and the Optimum signature check.

A backend holds one sequence's KV cache. ``prefill`` appends tokens (one or many) and returns
the logits after the last of them; ``step`` is the one-token case; ``reset`` empties the cache.
``snapshot``/``restore`` save and bring back a cache (prefix reuse) and ``drop`` removes a range
of cache entries (sliding window, rolling back to a shared prefix). Positions are the caller's:
after a ``drop`` they keep counting, so rotary embeddings of the kept entries stay valid.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from .errors import ModelSignatureError

_PAST = re.compile(r"past_key_values\.(\d+)\.(key|value)")
_PRESENT = re.compile(r"present\.(\d+)\.(key|value)")
OPTIONAL_INPUTS = ("position_ids", "use_cache_branch", "beam_idx")


class Backend(Protocol):
    """One decoder session with its KV cache; used from one thread at a time."""

    name: str
    vocab_size: int
    """Width of the logits (may exceed the tokenizer's vocabulary: padded embeddings)."""

    @property
    def cache_length(self) -> int:
        """Number of entries in the KV cache."""
        ...

    def reset(self) -> None: ...

    def prefill(self, token_ids: Sequence[int], start_position: int) -> np.ndarray:
        """Append tokens at positions ``start_position...``; float32 logits of the last one."""
        ...

    def step(self, token_id: int, position: int) -> np.ndarray: ...

    def snapshot(self) -> object:
        """An opaque copy of the cache that ``restore`` accepts."""
        ...

    def restore(self, snapshot: object) -> None: ...

    def drop(self, start: int, stop: int) -> None:
        """Remove cache entries ``start <= i < stop``."""
        ...


@dataclass(frozen=True)
class Signature:
    """Which Optimum decoder form a graph has."""

    past_names: tuple[str, ...]
    """``past_key_values.{i}.key/value`` in layer order (empty for a stateful OpenVINO model)."""
    present_names: tuple[str, ...]
    has_position_ids: bool
    merged: bool
    """The older ``decoder_model_merged`` form with a ``use_cache_branch`` input."""
    beam_idx: bool


def check_signature(
    file: Path,
    inputs: Collection[str],
    outputs: Collection[str],
    num_layers: int,
    *,
    stateful: bool = False,
) -> Signature:
    """Raise :class:`ModelSignatureError` unless the names are an Optimum decoder with KV cache."""
    found = "inputs " + ", ".join(sorted(inputs)) + "; outputs " + ", ".join(sorted(outputs))
    for required in ("input_ids", "attention_mask"):
        if required not in inputs:
            raise ModelSignatureError(
                file, f"graph has no {required!r} input, so it is not a decoder export ({found})"
            )
    if "logits" not in outputs:
        raise ModelSignatureError(file, f"graph has no 'logits' output ({found})")
    past = sorted((int(m[1]), m[2]) for n in inputs if (m := _PAST.fullmatch(n)))
    present = sorted((int(m[1]), m[2]) for n in outputs if (m := _PRESENT.fullmatch(n)))
    unknown = [n for n in inputs if n not in ("input_ids", "attention_mask", *OPTIONAL_INPUTS)]
    unknown = [n for n in unknown if not _PAST.fullmatch(n)]
    if unknown:
        raise ModelSignatureError(
            file, f"unsupported graph inputs {', '.join(sorted(unknown))} ({found})"
        )
    expected = [(i, kind) for i in range(num_layers) for kind in ("key", "value")]
    if stateful:
        if past:
            raise ModelSignatureError(file, "stateful model still has past_key_values inputs")
    elif not past:
        raise ModelSignatureError(
            file,
            "graph has no past_key_values.* inputs: export it with KV cache "
            "(optimum-cli export onnx --task text-generation-with-past)",
        )
    elif past != expected or present != expected:
        raise ModelSignatureError(
            file,
            f"config.json says {num_layers} layers but the graph has {len(past) // 2} "
            f"past_key_values and {len(present) // 2} present layers",
        )
    return Signature(
        past_names=tuple(f"past_key_values.{i}.{kind}" for i, kind in past),
        present_names=tuple(f"present.{i}.{kind}" for i, kind in present),
        has_position_ids="position_ids" in inputs,
        merged="use_cache_branch" in inputs,
        beam_idx="beam_idx" in inputs,
    )


def drop_range(cache: np.ndarray, start: int, stop: int) -> np.ndarray:
    """Remove entries ``start:stop`` along the sequence axis (2) of a KV tensor."""
    return np.concatenate([cache[:, :, :start], cache[:, :, stop:]], axis=2)


def step_inputs(
    signature: Signature, token_ids: Sequence[int], start_position: int, past_length: int
) -> dict[str, np.ndarray]:
    """The non-cache inputs of one decoder call (both backends feed the same names)."""
    count = len(token_ids)
    feeds: dict[str, np.ndarray] = {
        "input_ids": np.asarray(token_ids, dtype=np.int64).reshape(1, count),
        "attention_mask": np.ones((1, past_length + count), dtype=np.int64),
    }
    if signature.has_position_ids:
        positions = np.arange(start_position, start_position + count, dtype=np.int64)
        feeds["position_ids"] = positions.reshape(1, count)
    if signature.merged:
        feeds["use_cache_branch"] = np.array([past_length > 0])
    return feeds
