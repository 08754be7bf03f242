"""Turn generated examples into training groups: one home description, the requests about it.

A group is the system message (the home) and the user/assistant exchanges about that home. The
model runs the home once, then all the requests as a batch on top of the home's KV cache, each
positioned right after the home: exactly what the planner does at run time with the home as the
cached prompt prefix, and the home's cost is paid once per group instead of once per request.
The loss covers the assistant's plan text and its closing ``<|im_end|>``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from tokenizers import Tokenizer

from edgeward.runtime.catalog import Catalog
from edgeward.runtime.frames import Frame, frame_text
from edgeward.runtime.planner import MAX_ENTITIES, PromptParts, prompt_entities, prompt_parts
from edgeward.runtime.training.tokenizer import IM_END, IM_START

IGNORE = -100
"""Label of positions without loss."""


class ExampleLike(Protocol):
    home: Catalog
    area: str | None
    text: str
    language: str
    frame: Frame | None


def system_chunk(parts: PromptParts) -> str:
    return f"{IM_START}system\n{parts.system}{IM_END}\n"


def user_chunk(parts: PromptParts) -> str:
    return f"{IM_START}user\n{parts.user}{IM_END}\n{IM_START}assistant\n"


@dataclass
class HomeGroup:
    """The home's token ids, and per request its token ids and next-token labels."""

    prefix: list[int]
    requests: list[list[int]] = field(default_factory=list)
    labels: list[list[int]] = field(default_factory=list)

    @property
    def tokens(self) -> int:
        return len(self.prefix) + sum(len(r) for r in self.requests)


def render(example: ExampleLike) -> tuple[PromptParts, str]:
    """The prompt parts and the expected frame text of one example.

    Raises KeyError for an example without a frame (hand-written examples have only plans).
    """
    if example.frame is None:
        raise KeyError("no frame")
    entities = prompt_entities(example.home, example.text, example.area)
    parts = prompt_parts(example.home, example.text, example.area, entities, example.language)
    return parts, frame_text(example.frame)


def texts_for_tokenizer(examples: Iterable[ExampleLike]) -> Iterator[str]:
    for example in examples:
        try:
            parts, target = render(example)
        except KeyError:
            continue
        yield parts.system
        yield parts.user
        yield target


def group(
    examples: Iterable[ExampleLike], tokenizer: Tokenizer, *, max_requests: int, max_len: int
) -> Iterator[HomeGroup]:
    """Groups from ``examples``; consecutive examples with the same prompt prefix share one."""
    im_end = tokenizer.token_to_id(IM_END)
    if im_end is None:
        raise ValueError(f"the tokenizer has no {IM_END} token")
    current: HomeGroup | None = None
    current_key = ""
    for example in examples:
        if len(example.home) > MAX_ENTITIES:
            continue  # at run time retrieval narrows such homes to at most MAX_ENTITIES
        try:
            parts, target = render(example)
        except KeyError:
            continue
        if current is None or parts.system != current_key or len(current.requests) >= max_requests:
            if current is not None and current.requests:
                yield current
            prefix = tokenizer.encode(system_chunk(parts), add_special_tokens=False).ids
            current, current_key = HomeGroup(list(prefix)), parts.system
        prompt = tokenizer.encode(user_chunk(parts), add_special_tokens=False).ids
        answer = [*tokenizer.encode(target, add_special_tokens=False).ids, im_end]
        if len(current.prefix) + len(prompt) + len(answer) > max_len:
            continue
        current.requests.append(prompt + answer)
        # Position j predicts token j + 1: the last prompt token predicts the first plan token.
        current.labels.append([*([IGNORE] * (len(prompt) - 1)), *answer, IGNORE])
    if current is not None and current.requests:
        yield current


SUB_BATCH_COST = 48
"""What one more sub-batch of requests costs, in padded tokens (the fixed cost of its kernels)."""


def sub_batches(lengths: list[int], cost: int = SUB_BATCH_COST) -> list[list[int]]:
    """The requests (indices into ``lengths``) split into batches of similar length.

    Padding every request of a group to the longest one wasted a third of the request tokens;
    sorted by length, the groups are cut where the padded tokens saved outweigh ``cost`` per
    extra batch (an exact partition by dynamic programming; a group has at most a few dozen).
    """
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    n = len(order)
    best = [0.0] + [math.inf] * n  # best[j]: cheapest split of the j shortest requests
    cut = [0] * (n + 1)
    for j in range(1, n + 1):
        width = lengths[order[j - 1]]
        for i in range(j):
            total = best[i] + (j - i) * width + cost
            if total < best[j]:
                best[j], cut[j] = total, i
    batches: list[list[int]] = []
    j = n
    while j > 0:
        batches.append(order[cut[j] : j])
        j = cut[j]
    return batches[::-1]


def collate(home: HomeGroup, pad_id: int) -> dict[str, Any]:
    """Torch tensors for one group: the prefix, and its requests as padded batches of similar
    length (``batches``), each with ``rows``, the indices of its requests in the group."""
    import torch

    p = len(home.prefix)
    batches = []
    for rows in sub_batches([len(r) for r in home.requests]):
        requests = [home.requests[i] for i in rows]
        width = max(len(r) for r in requests)
        ids = [r + [pad_id] * (width - len(r)) for r in requests]
        labels = [home.labels[i] + [IGNORE] * (width - len(home.labels[i])) for i in rows]
        real = torch.tensor([[1] * len(r) + [0] * (width - len(r)) for r in requests])
        causal = torch.ones(width, width, dtype=torch.bool).tril()
        # Requests see the whole home (the decoder's shared prefix), and the earlier
        # (non-padding) tokens of their own: the mask covers their own tokens only.
        own = causal.unsqueeze(0) & real.bool().unsqueeze(1)
        own |= torch.eye(width, dtype=torch.bool).unsqueeze(0)  # padding rows see themselves
        batches.append(
            {
                "rows": rows,
                "ids": torch.tensor(ids),
                "positions": torch.arange(p, p + width).unsqueeze(0).expand(len(ids), -1),
                "mask": own.unsqueeze(1),
                "labels": torch.tensor(labels),
            }
        )
    return {
        "prefix": torch.tensor([home.prefix]),
        "prefix_positions": torch.arange(p).unsqueeze(0),
        "batches": batches,
    }
