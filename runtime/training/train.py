"""Train the embedded planner model on generated requests, then export it.

Usage (the command the shipped model's first run was trained with; runtime/MODEL_CARD.md says at
which commit, how its files were then re-exported, and the two ``--init`` runs that continued it
into the shipped model)::

    python -m edgeward.runtime.training.train --out runtime/default_model --minutes 56 --seed 0 --threads 2

Steps: generate training requests (:mod:`edgeward.runtime.requests_data`), fit the tokenizer on
them (or, with ``--init FOLDER``, start from a model folder this project exported: its tokenizer
and its int8 weights, dequantized, so a run continues an earlier one), train the decoder on
packed rows for a fixed wall-clock budget with a time-based cosine learning-rate schedule,
report teacher-forced accuracy on the held-out test split, then export ONNX (fp32 -> ONNX
Runtime dynamic int8) and OpenVINO IR (int8 weights) with the tokenizer and configs
(:mod:`edgeward.runtime.training.export`). Needs the ``train`` extra (torch).
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F

from edgeward.runtime.errors import ModelFolderError
from edgeward.runtime.model_folder import load_tokenizer
from edgeward.runtime.requests_data import Split
from edgeward.runtime.training.export import export_model
from edgeward.runtime.training.model import Decoder, DecoderConfig
from edgeward.runtime.training.packing import (
    IGNORE,
    HomeGroup,
    collate,
    group,
    texts_for_tokenizer,
)
from edgeward.runtime.training.reexport import decoder_from_onnx
from edgeward.runtime.training.tokenizer import PAD, train_tokenizer


def _examples(split: Split, n: int, seed: int, per_home: int) -> Iterator[Any]:
    from edgeward.runtime import requests_data

    # More requests per home make the home's share of the compute smaller.
    return iter(requests_data.generate(split, n, seed, per_home=per_home))


def _groups(
    split: Split, seed: int, tokenizer: Any, *, per_home: int, max_len: int
) -> Iterator[HomeGroup]:
    """An endless stream of home groups, shuffled within a window."""
    rng = random.Random(seed)
    for epoch in itertools.count():
        examples = _examples(split, 10_000_000, seed * 1000 + epoch, per_home)
        window = list(
            itertools.islice(group(examples, tokenizer, max_requests=per_home, max_len=max_len), 64)
        )
        while window:
            rng.shuffle(window)
            yield from window
            window = list(
                itertools.islice(
                    group(examples, tokenizer, max_requests=per_home, max_len=max_len), 64
                )
            )


def _batches(groups: Iterator[HomeGroup], token_budget: int) -> Iterator[list[HomeGroup]]:
    batch: list[HomeGroup] = []
    tokens = 0
    for home in groups:
        batch.append(home)
        tokens += home.tokens
        if tokens >= token_budget:
            yield batch
            batch, tokens = [], 0


def _forward(model: Decoder, group: dict[str, Any]) -> Iterator[tuple[torch.Tensor, ...]]:
    """Per batch of one group's requests: the logits and labels at the labelled positions, and
    where those are. The home runs once; every batch attends to its KV cache."""
    _, past = model(group["prefix"], group["prefix_positions"], None)
    for batch in group["batches"]:
        hidden, _ = model(batch["ids"], batch["positions"], batch["mask"], past)
        where = batch["labels"] != IGNORE
        yield model.logits(hidden[where]), batch["labels"][where], where


@torch.no_grad()
def held_out_accuracy(
    model: Decoder, groups: Sequence[HomeGroup], pad_id: int
) -> tuple[float, float]:
    """Teacher-forced token accuracy and the share of plans with every token right."""
    model.eval()
    tokens_ok = tokens = plans_ok = plans = 0
    for home in groups:
        for logits, labels, where in _forward(model, collate(home, pad_id)):
            correct = torch.zeros_like(where)
            correct[where] = logits.argmax(-1) == labels
            plans_ok += int((correct | ~where).all(dim=1).sum())
            plans += where.shape[0]
            tokens_ok += int(correct.sum())
            tokens += int(where.sum())
    model.train()
    return tokens_ok / max(tokens, 1), plans_ok / max(plans, 1)


def _lr(progress: float, peak: float, warmup: float = 0.03) -> float:
    if progress < warmup:
        return peak * progress / warmup
    p = (progress - warmup) / (1 - warmup)
    return peak * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(p, 1.0))))


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    parser.add_argument("--minutes", type=float, required=True, help="wall-clock training budget")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--vocab-size", type=int, default=3072)
    parser.add_argument("--hidden-size", type=int, default=192)
    parser.add_argument("--layers", type=int, default=3)
    parser.add_argument("--heads", type=int, default=6)
    parser.add_argument("--kv-heads", type=int, default=2)
    parser.add_argument("--intermediate-size", type=int, default=512)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--batch-tokens", type=int, default=8192)
    parser.add_argument("--per-home", type=int, default=32, help="requests generated per home")
    parser.add_argument("--max-len", type=int, default=1536)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--init",
        type=Path,
        help="continue from this exported model folder (its tokenizer and int8 weights); the "
        "size arguments (--max-len too) are then the folder's",
    )
    parser.add_argument(
        "--weights",
        type=Path,
        help="also keep the trained fp32 weights here (torch.save; not part of the model folder, "
        "which holds only int8 files): a later change to the export can start from them",
    )
    args = parser.parse_args(argv)

    torch.manual_seed(args.seed)
    torch.set_num_threads(args.threads)
    started = time.monotonic()
    continued_from = None  # the report of the run --init continues, read before training
    if args.init is not None:
        try:
            tokenizer = load_tokenizer(args.init)
            model = decoder_from_onnx(args.init).train()
            if (args.init / "training.json").is_file():
                continued_from = json.loads((args.init / "training.json").read_text())
        except (OSError, ValueError, TypeError, ModelFolderError) as exc:
            raise SystemExit(f"train: --init {args.init}: {exc}") from exc
        cfg = model.cfg
    else:
        tokenizer_texts = list(
            texts_for_tokenizer(_examples("train", 20_000, args.seed + 7, args.per_home))
        )
        tokenizer = train_tokenizer(tokenizer_texts, args.vocab_size)
        cfg = DecoderConfig(
            vocab_size=tokenizer.get_vocab_size(),
            hidden_size=args.hidden_size,
            num_hidden_layers=args.layers,
            num_attention_heads=args.heads,
            num_key_value_heads=args.kv_heads,
            intermediate_size=args.intermediate_size,
            max_position_embeddings=args.max_len,
        )
        model = Decoder(cfg)
    pad_id = tokenizer.token_to_id(PAD)
    if pad_id is None:
        raise SystemExit(f"the tokenizer has no {PAD} token")
    print(
        f"tokenizer {time.monotonic() - started:.0f}s, vocab {cfg.vocab_size}, "
        f"{model.parameter_count():,} parameters",
        flush=True,
    )
    held_out = list(
        group(
            _examples("test", 400, args.seed, args.per_home),
            tokenizer,
            max_requests=args.per_home,
            max_len=cfg.max_position_embeddings,
        )
    )
    if args.init is not None:
        token_acc, plan_acc = held_out_accuracy(model, held_out, pad_id)
        print(f"from {args.init}: held-out token acc {token_acc:.4f} plan acc {plan_acc:.4f}")
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2]
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.05}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.lr,
        betas=(0.9, 0.98),
    )
    budget = args.minutes * 60
    train_start = time.monotonic()
    groups = _groups(
        "train", args.seed, tokenizer, per_home=args.per_home, max_len=cfg.max_position_embeddings
    )
    step = seen = 0
    last_log = time.monotonic()
    for homes in _batches(groups, args.batch_tokens):
        progress = (time.monotonic() - train_start) / budget
        if progress >= 1.0:
            break
        for param_group in optimizer.param_groups:
            param_group["lr"] = _lr(progress, args.lr)
        optimizer.zero_grad(set_to_none=True)
        targets = sum(
            sum(label != IGNORE for label in labels) for h in homes for labels in h.labels
        )
        total = 0.0
        for home in homes:
            losses = [
                F.cross_entropy(logits, labels, reduction="sum")
                for logits, labels, _ in _forward(model, collate(home, pad_id))
            ]
            loss = torch.stack(losses).sum() / targets
            loss.backward()
            total += float(loss.detach())
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        step += 1
        seen += sum(len(h.requests) for h in homes)
        if time.monotonic() - last_log > 120:
            token_acc, plan_acc = held_out_accuracy(model, held_out, pad_id)
            print(
                f"step {step} {progress * 100:5.1f}% requests {seen} loss {total:.4f} "
                f"held-out token acc {token_acc:.4f} plan acc {plan_acc:.4f}",
                flush=True,
            )
            last_log = time.monotonic()
    train_minutes = (time.monotonic() - train_start) / 60
    token_acc, plan_acc = held_out_accuracy(model, held_out, pad_id)
    print(
        f"trained {step} steps, {seen} requests in {train_minutes:.1f} min; held-out token acc "
        f"{token_acc:.4f}, teacher-forced plan acc {plan_acc:.4f}",
        flush=True,
    )
    model.eval()
    report = {
        "seed": args.seed,
        "minutes_budget": args.minutes,
        "train_minutes": round(train_minutes, 2),
        "steps": step,
        "requests_seen": seen,
        "parameters": model.parameter_count(),
        "held_out_token_accuracy": round(token_acc, 4),
        "held_out_teacher_forced_plan_accuracy": round(plan_acc, 4),
        "command": "python -m edgeward.runtime.training.train "
        + " ".join(argv if argv is not None else __import__("sys").argv[1:]),
    }
    if continued_from is not None:
        report["continued_from"] = continued_from
    if args.weights is not None:
        partial = args.weights.with_name(args.weights.name + ".partial")
        torch.save({"config": asdict(cfg), "state_dict": model.state_dict()}, partial)
        partial.replace(args.weights)
    export_model(model, tokenizer, args.out, training_report=report)
    print(json.dumps(report, indent=2), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
