"""Constrained decoding with llguidance: compile a grammar once, mask every step, fast-forward.

The caller builds a JSON schema (or a Lark grammar) from the live tool catalog and compiles it
with :func:`compile_json_schema` / :func:`compile_lark`. Compiled grammars are cached by key (the
caller's catalog version, else a hash of the grammar) per tokenizer, so a catalog is compiled
once. Each generation gets its own :class:`GrammarState` (a cheap copy of the compiled matcher)
that gives the allowed-token mask for the next step and the tokens the grammar forces.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import llguidance
import numpy as np
from tokenizers import Tokenizer

from .errors import GrammarError

JSON_SEPARATORS = (", ", ": ")
"""Item and key separators of generated JSON (those of ``json.dumps``); no free whitespace."""
CACHE_SIZE = 16


@dataclass(frozen=True, eq=False)
class TokenizerInfo:
    """A model's tokenizer as llguidance sees it (building it costs up to ~1 s: keep it)."""

    ll_tokenizer: llguidance.LLTokenizer
    vocab_size: int
    """Mask width: the model's logits width, which may exceed the tokenizer's vocabulary."""
    eos_token_ids: tuple[int, ...]
    _cache: OrderedDict[str, CompiledGrammar] = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def tokenizer_info(
    tokenizer: Tokenizer, vocab_size: int, eos_token_ids: Sequence[int]
) -> TokenizerInfo:
    """Wrap a ``tokenizers.Tokenizer`` for llguidance with the model's vocabulary width."""
    try:
        ll = llguidance.LLTokenizer(
            tokenizer.to_str(), n_vocab=vocab_size, eos_token=list(eos_token_ids)
        )
    except Exception as exc:
        raise GrammarError(f"llguidance cannot use this tokenizer: {exc}") from exc
    return TokenizerInfo(ll, vocab_size, tuple(eos_token_ids))


@dataclass(frozen=True, eq=False)
class CompiledGrammar:
    """A grammar compiled for one tokenizer; ``state()`` starts a fresh parse."""

    key: str
    grammar: str
    _template: llguidance.LLMatcher = field(repr=False)
    info: TokenizerInfo = field(repr=False)

    def state(self) -> GrammarState:
        return GrammarState(self._template.deep_copy(), self.info.vocab_size)


class GrammarState:
    """The parse of one generation: allowed tokens, forced tokens, completion."""

    def __init__(self, matcher: llguidance.LLMatcher, vocab_size: int) -> None:
        self._matcher = matcher
        self._vocab_size = vocab_size
        self._bitmask = np.zeros((vocab_size + 31) // 32, dtype=np.int32)

    def allowed(self) -> np.ndarray:
        """Boolean mask over the vocabulary of the tokens allowed next."""
        self._matcher.unsafe_compute_mask_ptr(self._bitmask.ctypes.data, self._bitmask.nbytes)
        self._raise_if_error()
        bits = np.unpackbits(self._bitmask.view(np.uint8), bitorder="little")
        return bits[: self._vocab_size].view(np.bool_)

    def consume(self, token_ids: Sequence[int]) -> None:
        if not self._matcher.consume_tokens(list(token_ids)):
            self._raise_if_error()
            raise GrammarError(f"grammar rejected tokens {list(token_ids)}")

    def forced(self) -> list[int]:
        """Tokens the grammar forces next (not yet consumed)."""
        return list(self._matcher.compute_ff_tokens())

    @property
    def done(self) -> bool:
        """True when the grammar admits nothing but end of sequence."""
        return bool(self._matcher.is_stopped())

    @property
    def accepting(self) -> bool:
        return bool(self._matcher.is_accepting())

    def _raise_if_error(self) -> None:
        if self._matcher.is_error():
            raise GrammarError(f"constrained decoding failed: {self._matcher.get_error()}")


def _compile(info: TokenizerInfo, grammar: str, key: str | None, what: str) -> CompiledGrammar:
    cache_key = key if key is not None else hashlib.sha256(grammar.encode()).hexdigest()
    with info._lock:
        cached = info._cache.get(cache_key)
        if cached is not None:
            info._cache.move_to_end(cache_key)
            return cached
    is_error, messages = llguidance.LLMatcher.validate_grammar_with_warnings(
        grammar, info.ll_tokenizer
    )
    if is_error:
        raise GrammarError(f"invalid {what}: {messages[0]}")
    matcher = llguidance.LLMatcher(info.ll_tokenizer, grammar, log_level=0)
    if matcher.is_error():
        raise GrammarError(f"invalid {what}: {matcher.get_error()}")
    compiled = CompiledGrammar(cache_key, grammar, matcher, info)
    with info._lock:
        info._cache[cache_key] = compiled
        while len(info._cache) > CACHE_SIZE:
            info._cache.popitem(last=False)
    return compiled


def compile_json_schema(
    info: TokenizerInfo, schema: Mapping[str, Any], *, key: str | None = None
) -> CompiledGrammar:
    """Compile a JSON schema (cached under ``key``, e.g. the catalog version)."""
    if key is not None:
        with info._lock:
            if key in info._cache:
                info._cache.move_to_end(key)
                return info._cache[key]
    try:
        text = json.dumps(schema)
        grammar = llguidance.LLMatcher.grammar_from_json_schema(
            text,
            overrides={
                "whitespace_flexible": False,
                "item_separator": JSON_SEPARATORS[0],
                "key_separator": JSON_SEPARATORS[1],
            },
        )
    except (TypeError, ValueError) as exc:
        raise GrammarError(f"invalid JSON schema: {exc}") from exc
    return _compile(info, grammar, key, "JSON schema")


def compile_lark(info: TokenizerInfo, lark: str, *, key: str | None = None) -> CompiledGrammar:
    """Compile a Lark grammar (llguidance dialect; cached under ``key``)."""
    return _compile(info, llguidance.LLMatcher.grammar_from_lark(lark), key, "Lark grammar")
