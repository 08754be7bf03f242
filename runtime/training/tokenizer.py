"""Train the planner's tokenizer: byte-level BPE with single-digit numbers and one token per entity.

Byte-level, so any text (typos, accents, emoji) encodes; digits are split one per token so the model
copies numbers digit by digit instead of memorising them; every ``<eN>`` entity reference and the
ChatML markers are single tokens.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers, trainers

from edgeward.runtime.planner import ENTITY_TOKENS

PAD, IM_START, IM_END = "<|endoftext|>", "<|im_start|>", "<|im_end|>"
SPECIAL_TOKENS = (PAD, IM_START, IM_END)
_REFERENCE = re.compile(r"<e\d+>")


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Tokenizer:
    """A tokenizer fitted to ``texts`` (prompts and plans), with the reserved tokens first."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Digits(individual_digits=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False),
        ]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - len(ENTITY_TOKENS),
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    # Entity references become single added tokens below; BPE should not spend merges on them.
    tokenizer.train_from_iterator((_REFERENCE.sub(" ", t) for t in texts), trainer=trainer)
    tokenizer.add_tokens([AddedToken(t, normalized=False, special=False) for t in ENTITY_TOKENS])
    return tokenizer
