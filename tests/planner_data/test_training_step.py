"""A training group (one home, its requests in padded batches on the home's keys and values)
computes what each request does written out after its home alone (needs the ``train`` extra)."""

from __future__ import annotations

import pytest

pytest.importorskip("torch")

import torch
import torch.nn.functional as F

from edgeward.runtime.training.model import Decoder, DecoderConfig
from edgeward.runtime.training.packing import IGNORE, HomeGroup, collate
from edgeward.runtime.training.train import _forward

CFG = DecoderConfig(vocab_size=61, hidden_size=48, num_attention_heads=6, num_key_value_heads=2)
PAD = 0


def _group() -> HomeGroup:
    gen = torch.Generator().manual_seed(5)

    def tokens(n: int) -> list[int]:
        return torch.randint(1, CFG.vocab_size, (n,), generator=gen).tolist()

    home = HomeGroup(tokens(23))
    for length in (4, 9, 5, 17, 16, 3):  # several batches, and padding inside them
        request = tokens(length)
        home.requests.append(request)
        home.labels.append([IGNORE, *request[2:], IGNORE])
    return home


def _alone(model: Decoder, home: HomeGroup) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits and labels of each request run after the home on its own, with plain causal
    attention and no cache."""
    logits, labels = [], []
    for request, label in zip(home.requests, home.labels, strict=True):
        ids = torch.tensor([home.prefix + request])
        hidden, _ = model(ids, torch.arange(ids.shape[1]).unsqueeze(0), None)
        wanted = torch.tensor(label) != IGNORE
        logits.append(model.logits(hidden[0, len(home.prefix) :][wanted]))
        labels.append(torch.tensor(label)[wanted])
    return torch.cat(logits), torch.cat(labels)


def _grouped(model: Decoder, home: HomeGroup) -> tuple[torch.Tensor, torch.Tensor]:
    """The same, as training computes them, put back in the group's order."""
    group = collate(home, PAD)
    rows, logits, labels = [], [], []
    for (batch_logits, batch_labels, where), batch in zip(
        _forward(model, group), group["batches"], strict=True
    ):
        rows.append(torch.tensor(batch["rows"]).repeat_interleave(where.sum(1)))
        logits.append(batch_logits)
        labels.append(batch_labels)
    order = torch.cat(rows).argsort(stable=True)
    return torch.cat(logits)[order], torch.cat(labels)[order]


def test_a_group_computes_each_request_after_its_home_with_the_same_gradients() -> None:
    torch.manual_seed(2)
    model = Decoder(CFG)
    home = _group()
    results = []
    for run in (_alone, _grouped):
        model.zero_grad()
        logits, labels = run(model, home)
        F.cross_entropy(logits, labels, reduction="sum").backward()
        grads = [p.grad.clone() for p in model.parameters() if p.grad is not None]
        results.append((logits.detach(), labels, grads))
    (alone, alone_labels, alone_grads), (grouped, grouped_labels, grouped_grads) = results
    assert torch.equal(alone_labels, grouped_labels)
    torch.testing.assert_close(grouped, alone, atol=1e-5, rtol=1e-4)
    assert len(grouped_grads) == len(alone_grads) == len(list(model.parameters()))
    for got, expected in zip(grouped_grads, alone_grads, strict=True):
        torch.testing.assert_close(got, expected, atol=1e-5, rtol=1e-4)
