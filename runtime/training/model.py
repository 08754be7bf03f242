"""The planner's decoder in torch: a Llama-shaped transformer small enough to train on a CPU.

Same computation as Hugging Face ``LlamaForCausalLM`` (RMSNorm, rotary positions, grouped-query
attention, SwiGLU feed-forward, tied input/output embeddings), so the exported graph computes
what a Llama decoder does, with the inputs and outputs an Optimum-style runtime feeds (its layout
is the export's: :mod:`edgeward.runtime.training.export`). Training runs several requests
after one shared home description (see :mod:`edgeward.runtime.training.packing`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


@dataclass(frozen=True)
class DecoderConfig:
    """Hyper-parameters, named as in a Hugging Face Llama ``config.json``."""

    vocab_size: int
    hidden_size: int = 192
    num_hidden_layers: int = 3
    num_attention_heads: int = 6
    num_key_value_heads: int = 2
    intermediate_size: int = 512
    max_position_embeddings: int = 1024
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def hf_config(self, *, eos_token_id: int, pad_token_id: int) -> dict[str, Any]:
        """The ``config.json`` of the exported model."""
        out: dict[str, Any] = asdict(self)
        out.update(
            architectures=["LlamaForCausalLM"],
            model_type="llama",
            head_dim=self.head_dim,
            hidden_act="silu",
            attention_bias=False,
            mlp_bias=False,
            tie_word_embeddings=True,
            bos_token_id=None,
            eos_token_id=eos_token_id,
            pad_token_id=pad_token_id,
            torch_dtype="float32",
            use_cache=True,
        )
        return out


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


class Attention(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.n_heads, self.n_kv, self.head_dim = (
            cfg.num_attention_heads,
            cfg.num_key_value_heads,
            cfg.head_dim,
        )
        h = cfg.hidden_size
        self.q_proj = nn.Linear(h, self.n_heads * self.head_dim, bias=False)
        self.k_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.v_proj = nn.Linear(h, self.n_kv * self.head_dim, bias=False)
        self.o_proj = nn.Linear(self.n_heads * self.head_dim, h, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        b, s, _ = x.shape
        q = self.q_proj(x).view(b, s, self.n_heads, self.head_dim).transpose(1, 2)
        k = self.k_proj(x).view(b, s, self.n_kv, self.head_dim).transpose(1, 2)
        v = self.v_proj(x).view(b, s, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + _rotate_half(q) * sin
        k = k * cos + _rotate_half(k) * sin
        if past is not None:
            out = self._after_prefix(q, k, v, mask, past)
        else:
            rep = self.n_heads // self.n_kv
            kr, vr = k.repeat_interleave(rep, dim=1), v.repeat_interleave(rep, dim=1)
            if mask is None:
                out = F.scaled_dot_product_attention(q, kr, vr, is_causal=True)
            else:
                out = F.scaled_dot_product_attention(q, kr, vr, attn_mask=mask)
        return self.o_proj(out.transpose(1, 2).reshape(b, s, -1)), (k, v)

    def _after_prefix(
        self,
        q: torch.Tensor,
        k: torch.Tensor,
        v: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor],
    ) -> torch.Tensor:
        """Attention of ``b`` rows that all follow one shared prefix (``past``, batch 1).

        Every query sees the whole prefix, so its scores against the prefix are one matrix
        product for all rows and heads of a key/value group, with no mask and without the
        prefix being copied per row; only the rows' own keys are masked (``mask``, [b, 1, s, s]).
        The same numbers as attending to the prefix's keys repeated per row.
        """
        b, _, s, d = q.shape
        rep = self.n_heads // self.n_kv
        past_k, past_v = past[0][0], past[1][0]  # [kv heads, prefix, d]
        p = past_k.shape[1]
        # query heads as [kv head, (repeat, position)] rows against that head's keys
        grouped = q.reshape(b, self.n_kv, rep * s, d) * d**-0.5
        shared = grouped.transpose(0, 1).reshape(self.n_kv, b * rep * s, d)
        on_prefix = (shared @ past_k.transpose(1, 2)).view(self.n_kv, b, rep * s, p)
        on_own = grouped @ k.transpose(2, 3)
        if mask is not None:
            hidden = ~mask.repeat(1, 1, rep, 1)
            on_own = on_own.masked_fill(hidden, float("-inf"))
        weights = torch.softmax(torch.cat((on_prefix.transpose(0, 1), on_own), dim=-1), dim=-1)
        from_prefix = weights[..., :p].transpose(0, 1).reshape(self.n_kv, b * rep * s, p) @ past_v
        out = from_prefix.view(self.n_kv, b, rep * s, d).transpose(0, 1) + weights[..., p:] @ v
        return out.reshape(b, self.n_heads, s, d)


class Block(nn.Module):
    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(
        self,
        x: torch.Tensor,
        cos: torch.Tensor,
        sin: torch.Tensor,
        mask: torch.Tensor | None,
        past: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        attn, present = self.self_attn(self.input_layernorm(x), cos, sin, mask, past)
        x = x + attn
        h = self.post_attention_layernorm(x)
        x = x + self.down_proj(F.silu(self.gate_proj(h)) * self.up_proj(h))
        return x, present


class Decoder(nn.Module):
    """The whole model; :meth:`forward` returns hidden states, :meth:`logits` projects them."""

    inv_freq: torch.Tensor

    def __init__(self, cfg: DecoderConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList(Block(cfg) for _ in range(cfg.num_hidden_layers))
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        inv_freq = 1.0 / (
            cfg.rope_theta ** (torch.arange(0, cfg.head_dim, 2, dtype=torch.float32) / cfg.head_dim)
        )
        self.register_buffer("inv_freq", inv_freq, persistent=False)
        self.apply(self._init)

    @staticmethod
    def _init(module: nn.Module) -> None:
        if isinstance(module, nn.Linear | nn.Embedding):
            nn.init.normal_(module.weight, std=0.02)

    def parameter_count(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def forward(
        self,
        input_ids: torch.Tensor,
        position_ids: torch.Tensor,
        mask: torch.Tensor | None,
        past: list[tuple[torch.Tensor, torch.Tensor]] | None = None,
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor]]]:
        """Hidden states and each layer's keys and values of ``input_ids``.

        Without ``past``: ``mask`` is boolean, broadcastable to [batch, heads, queries, keys];
        ``None`` means plain causal attention (the home prefix in training). With ``past``, the
        keys and values of one prefix (batch 1) that every row follows and sees whole, ``mask``
        ([batch, 1, queries, queries]) says which of the rows' own tokens each query sees.
        """
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().unsqueeze(1), emb.sin().unsqueeze(1)
        x = self.embed_tokens(input_ids)
        presents = []
        for i, layer in enumerate(self.layers):
            x, present = layer(x, cos, sin, mask, None if past is None else past[i])
            presents.append(present)
        return self.norm(x), presents

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        return hidden @ self.embed_tokens.weight.T
