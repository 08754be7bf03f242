"""The generation loop, shared by every backend.

One :class:`Decoder` owns a backend (one KV cache) and decodes one request at a time:

- greedy, or temperature + top-p sampling with a seed;
- stop on EOS, on a stop string, on grammar completion, on ``max_new_tokens``, or when the
  bounded KV cache is full (``max_context``; with ``sliding_window`` the oldest entries after
  the pinned prefix are evicted instead, for long sessions);
- prefix reuse: with a ``prefix_cache_key`` the KV cache after the prompt is kept, and the next
  prompt under the same key only pays for the tokens after the longest common prefix (the
  system prompt and tool catalog). With ``pin`` as well, only the prompt's first ``pin`` tokens
  are kept, prefilled in calls of their own and reused only whole: a model whose activations
  are quantized per call (dynamic int8) computes a token's cache a little differently beside
  other tokens, so without a pin what a prompt gets could depend on the prompt before it;
- constrained decoding: the grammar mask is applied each step, and tokens the grammar forces are
  fed to the model together with the sampled token in one call (fast-forward);
- per-token log-probabilities: ``log p(token)`` under the model's distribution restricted to
  what the grammar allowed (temperature 1); forced tokens have log-probability 0;
- vetoes: ``veto`` maps a new-token index to tokens that must not be chosen there (unless
  nothing else is allowed), so a caller can ask for the next-best continuation at one point of
  an earlier generation; ``begun`` gives that generation's tokens before the point, which are
  fed with the prompt in one call instead of decoded again (their log-probabilities come back
  as 0, as for forced tokens);
- resumption: each generation leaves a trail (its cache and the logits it chose from), and a
  call whose ``begun`` starts the way a recent generation of the same prompt went picks up that
  generation's cache where they part, instead of running the prompt's request part and ``begun``
  again: a retry at one point of a generation sees exactly the choices the generation had there.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from tokenizers import Tokenizer

from .backend import Backend
from .constrained import CompiledGrammar, GrammarState
from .errors import ContextOverflowError

StopReason = Literal["eos", "stop", "grammar", "max_tokens", "context"]
SINK_TOKENS = 4
"""Entries always kept at the start of a sliding window when no prefix is pinned."""
PREFIX_SLOTS = 4
TRAILS = 4
"""Recent generations a call with ``begun`` may resume from."""
TOP_P_CANDIDATES = 1024


@dataclass(frozen=True)
class Generation:
    """The result of one ``generate`` call."""

    text: str
    """Decoded new text without special tokens, cut before a matched stop string."""
    token_ids: tuple[int, ...]
    """New tokens, EOS excluded."""
    logprobs: tuple[float, ...]
    """One per entry of ``token_ids``."""
    stop_reason: StopReason
    model_calls: int
    """Forward passes, prefill chunks included."""
    prompt_tokens: int
    reused_prompt_tokens: int
    """Prompt tokens served from the prefix cache."""
    forced_tokens: int
    """Tokens the grammar forced (fed without a model call of their own)."""


def common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading ids ``a`` and ``b`` share."""
    differ = (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y)
    return next(differ, min(len(a), len(b)))


def _log_softmax_at(logits: np.ndarray, token: int) -> float:
    top = float(np.max(logits))
    return float(logits[token]) - top - float(np.log(np.sum(np.exp(logits - top))))


def sample(
    logits: np.ndarray, temperature: float, top_p: float, rng: np.random.Generator | None
) -> int:
    """Greedy when ``temperature`` is 0; otherwise temperature + nucleus sampling."""
    if temperature == 0.0 or rng is None:
        return int(np.argmax(logits))
    candidates = np.flatnonzero(np.isfinite(logits))
    if len(candidates) > TOP_P_CANDIDATES and top_p < 1.0:
        top = np.argpartition(logits[candidates], -TOP_P_CANDIDATES)[-TOP_P_CANDIDATES:]
        best = candidates[top]
        weights = np.exp((logits[best] - logits[best].max()) / temperature)
        total = np.sum(np.exp((logits[candidates] - logits[best].max()) / temperature))
        if weights.sum() / total >= top_p:
            candidates = best
    scaled = (logits[candidates] - logits[candidates].max()) / temperature
    probs = np.exp(scaled)
    probs /= probs.sum()
    if top_p < 1.0:
        order = np.argsort(-probs, kind="stable")
        keep = int(np.searchsorted(np.cumsum(probs[order]), top_p)) + 1
        order = order[:keep]
        candidates, probs = candidates[order], probs[order] / probs[order].sum()
    return int(candidates[rng.choice(len(candidates), p=probs)])


@dataclass(frozen=True)
class _Trail:
    """What a generation left to resume from: its prompt and new tokens, the cache holding the
    prompt and the first ``cached`` of those tokens, and the logits (before any mask) it chose
    each token from, by new-token index."""

    prompt: tuple[int, ...]
    tokens: tuple[int, ...]
    cached: int
    snapshot: object
    logits: Mapping[int, np.ndarray]


class Decoder:
    """Decodes requests on one backend; use from one thread at a time."""

    def __init__(
        self,
        backend: Backend,
        tokenizer: Tokenizer,
        eos_token_ids: Sequence[int],
        *,
        tokenizer_vocab_size: int,
        max_context: int,
        max_positions: int | None = None,
        sliding_window: bool = False,
        prefill_chunk: int = 256,
    ) -> None:
        if max_context < 2:
            raise ValueError(f"max_context must be at least 2, got {max_context}")
        self.backend = backend
        self.tokenizer = tokenizer
        self.eos = frozenset(eos_token_ids)
        self.max_context = max_context
        self.max_positions = max_positions
        self.sliding_window = sliding_window
        self.prefill_chunk = prefill_chunk
        self._prefixes: OrderedDict[str, tuple[tuple[int, ...], object]] = OrderedDict()
        self._trails: deque[_Trail] = deque(maxlen=TRAILS)
        # Logits of ids the tokenizer does not have (padded embeddings) are never sampled.
        self._padding = slice(tokenizer_vocab_size, None)

    def clear_prefix_cache(self) -> None:
        self._prefixes.clear()
        self._trails.clear()

    def _prefill(self, tokens: Sequence[int], position: int) -> tuple[np.ndarray, int]:
        """Run ``tokens`` from ``position`` in calls of at most ``prefill_chunk``: the logits
        after the last one, and how many calls it took."""
        calls = 0
        while len(tokens) > self.prefill_chunk:
            self.backend.prefill(tokens[: self.prefill_chunk], position)
            position += self.prefill_chunk
            tokens = tokens[self.prefill_chunk :]
            calls += 1
        return self.backend.prefill(tokens, position), calls + 1

    def _keep_prefix(self, key: str | None, ids: Sequence[int]) -> None:
        """Keep the cache as it is now under ``key``, as the cache of ``ids``."""
        if key is None:
            return
        self._prefixes[key] = (tuple(ids), self.backend.snapshot())
        self._prefixes.move_to_end(key)
        while len(self._prefixes) > PREFIX_SLOTS:
            self._prefixes.popitem(last=False)

    def _reuse_prefix(self, key: str | None, prompt: Sequence[int], pin: int | None) -> int:
        """Restore the cache of ``key`` rolled back to the common prefix; its length. With a
        ``pin``, only a cache of exactly the prompt's first ``pin`` tokens is reused."""
        cached = self._prefixes.get(key) if key is not None else None
        if cached is None:
            self.backend.reset()
            return 0
        ids, snapshot = cached
        if pin is not None:
            if len(ids) != pin or tuple(prompt[:pin]) != ids:
                self.backend.reset()
                return 0
            self.backend.restore(snapshot)
            return pin
        # the last prompt token must run for its logits
        common = min(common_prefix(ids, prompt), len(prompt) - 1)
        if common <= 0:
            self.backend.reset()
            return 0
        self.backend.restore(snapshot)
        self.backend.drop(common, self.backend.cache_length)
        return common

    def _resume(self, prompt: Sequence[int], new: Sequence[int]) -> tuple[np.ndarray, int] | None:
        """Restore the cache of the recent generation of ``prompt`` whose tokens run longest
        the way ``new`` (``begun`` and the tokens the grammar forces after it) does, rolled back
        to where they part, and feed the rest of ``new``: the logits after ``new`` and the model
        calls it took, or None when no recent generation was of this prompt."""
        key = tuple(prompt)
        trails = [t for t in self._trails if t.prompt == key]
        if not trails:
            return None
        trail, keep = max(
            ((t, common_prefix(t.tokens[: t.cached], new)) for t in trails), key=lambda x: x[1]
        )
        stored = trail.logits.get(len(new)) if keep == len(new) else None
        if stored is None:
            keep = min(keep, len(new) - 1)  # the last token runs again for its logits
        self.backend.restore(trail.snapshot)
        self.backend.drop(len(prompt) + keep, self.backend.cache_length)
        if stored is not None:
            return stored.copy(), 0
        return self._prefill(new[keep:], len(prompt) + keep)

    def _make_room(self, needed: int, pinned: int) -> bool:
        """Ensure ``needed`` more cache entries fit; False when they cannot."""
        backend = self.backend
        if backend.cache_length + needed <= self.max_context:
            return True
        if not self.sliding_window:
            return False
        sink = min(pinned, self.max_context // 2)
        evict = max(
            backend.cache_length + needed - self.max_context, (self.max_context - sink) // 4
        )
        if sink + evict > backend.cache_length:
            return False
        backend.drop(sink, sink + evict)
        return True

    def generate(
        self,
        prompt: Sequence[int],
        *,
        max_new_tokens: int,
        grammar: CompiledGrammar | None = None,
        prefix_cache_key: str | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        stop: Sequence[str] = (),
        veto: Mapping[int, Collection[int]] | None = None,
        begun: Sequence[int] = (),
        pin: int | None = None,
    ) -> Generation:
        if not prompt:
            raise ValueError("the prompt is empty")
        if max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
        if temperature < 0.0:
            raise ValueError(f"temperature must be >= 0, got {temperature}")
        if not 0.0 < top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {top_p}")
        if any(not s for s in stop):
            raise ValueError("stop strings must not be empty")
        limit = (
            self.max_context
            if self.max_positions is None
            else min(self.max_context, self.max_positions)
        )
        if len(prompt) >= limit:
            raise ContextOverflowError(len(prompt), limit)

        state: GrammarState | None = grammar.state() if grammar is not None else None
        rng = np.random.default_rng(seed) if temperature > 0.0 else None
        backend = self.backend
        prompt = list(prompt)
        if pin is not None and not 0 < pin < len(prompt):
            raise ValueError(f"pin must be within the prompt (1 to {len(prompt) - 1}), got {pin}")
        pinned = len(prompt) if prefix_cache_key is not None else SINK_TOKENS

        new = list(begun[:max_new_tokens])
        forced_total = 0
        calls = 0
        if state is not None and new:
            state.consume(new)
        if state is not None and not state.done:
            forced = state.forced()
            state.consume(forced)
            forced = forced[: max_new_tokens - len(new)]
            new += forced
            forced_total += len(forced)
        logprobs = [0.0] * len(new)
        if len(prompt) + len(new) >= limit:
            raise ContextOverflowError(len(prompt) + len(new), limit)
        resumed = self._resume(prompt, new) if begun else None
        if resumed is not None:
            (logits, calls), reused = resumed, len(prompt)
            position = len(prompt) + len(new)
        else:
            reused = self._reuse_prefix(prefix_cache_key, prompt, pin)
            position = reused
            if pin is not None and reused < pin:
                calls += self._prefill(prompt[reused:pin], position)[1]
                position = pin
                self._keep_prefix(prefix_cache_key, prompt[:pin])
            pending = prompt[position:] + new
            logits, prefills = self._prefill(pending, position)
            calls += prefills
            position += len(pending)
            if pin is None:
                self._keep_prefix(prefix_cache_key, prompt + new)
        chosen_from: dict[int, np.ndarray] = {}

        stop_reason: StopReason | None = None
        # stop strings are looked for after what ``begun`` gave
        text = self.tokenizer.decode(list(begun), skip_special_tokens=True) if stop else ""
        longest_stop = max((len(s) for s in stop), default=0)
        while stop_reason is None:
            if state is not None and state.done:
                stop_reason = "grammar"
                break
            if len(new) >= max_new_tokens:
                stop_reason = "max_tokens"
                break
            logits[self._padding] = -np.inf
            chosen_from[len(new)] = logits.copy()
            if state is not None:
                logits = np.where(state.allowed(), logits, -np.inf).astype(np.float32)
            if veto and len(new) in veto:
                banned = list(veto[len(new)])
                if np.isfinite(np.delete(logits, banned)).any():
                    logits[banned] = -np.inf
            token = sample(logits, temperature, top_p, rng)
            if token in self.eos:
                stop_reason = "grammar" if state is not None else "eos"
                break
            feed = [token]
            logprobs.append(_log_softmax_at(logits, token))
            if state is not None:
                state.consume(feed)
                if not state.done:
                    forced = state.forced()
                    state.consume(forced)
                    feed += forced
                    logprobs += [0.0] * len(forced)
                    forced_total += len(forced)
            new += feed
            if stop:
                previous = len(text)
                text = self.tokenizer.decode(new, skip_special_tokens=True)
                start = max(0, previous - longest_stop)
                hits = [i for s in stop if (i := text.find(s, start)) >= 0]
                if hits:
                    text = text[: min(hits)]
                    stop_reason = "stop"
                    break
            if (state is not None and state.done) or len(new) >= max_new_tokens:
                continue  # stops at the top of the loop without another model call
            if (self.max_positions is not None and position + len(feed) > self.max_positions) or (
                not self._make_room(len(feed), pinned)
            ):
                stop_reason = "context"
                break
            if len(feed) == 1:
                logits = backend.step(token, position)
            else:
                logits = backend.prefill(feed, position)
            position += len(feed)
            calls += 1

        if backend.cache_length == position:  # nothing evicted: the cache is prompt + new
            self._trails.appendleft(
                _Trail(
                    tuple(prompt),
                    tuple(new),
                    position - len(prompt),
                    backend.snapshot(),
                    chosen_from,
                )
            )
        if len(new) > max_new_tokens:
            del new[max_new_tokens:]
            del logprobs[max_new_tokens:]
        if stop_reason != "stop":
            text = self.tokenizer.decode(new, skip_special_tokens=True)
        return Generation(
            text=text,
            token_ids=tuple(new),
            logprobs=tuple(logprobs),
            stop_reason=stop_reason,
            model_calls=calls,
            prompt_tokens=len(prompt),
            reused_prompt_tokens=reused,
            forced_tokens=forced_total,
        )
