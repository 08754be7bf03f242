"""Export the trained decoder as a Hugging Face Optimum-style model folder, ONNX and OpenVINO.

Writes, into one folder:

- ``model.onnx``: the decoder with KV cache, Optimum names (``input_ids``, ``attention_mask``,
  ``position_ids``, ``past_key_values.{i}.key/.value`` -> ``logits``, ``present.{i}.key/.value``),
  weights quantized to int8 with ONNX Runtime dynamic quantization;
- ``openvino_model.xml/.bin``: the same graph as OpenVINO IR (stateless), weights compressed to
  int8 with NNCF;
- ``config.json`` (Llama-style), ``tokenizer.json``, ``tokenizer_config.json`` (ChatML template),
  ``generation_config.json`` and ``training.json`` (how the model was made).
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from tokenizers import Tokenizer

from edgeward.runtime.training.model import Block, Decoder
from edgeward.runtime.training.tokenizer import IM_END, PAD

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class _Inference(torch.nn.Module):
    """:class:`Decoder` with a KV cache, in the Optimum calling convention, laid out for few nodes.

    The same computation as ``Decoder.forward`` under its causal and padding mask, rearranged
    because a step of a model this size costs its graph's node count more than its arithmetic:
    one matrix per layer gives q, k, v and the rotated halves of q and k (``_rotate_half`` is a
    signed permutation and the attention's 1/sqrt(head_dim) a constant, so both fold into the
    weights); gate and up share one matrix; the rotary angles are computed once for all heads;
    the mask is made once, additive; and each group of query heads meets its shared key and
    value head as one taller matrix rather than the keys and values being repeated per head.
    """

    def __init__(self, model: Decoder) -> None:
        super().__init__()
        cfg = model.cfg
        heads, self.n_kv, self.d = cfg.num_attention_heads, cfg.num_key_value_heads, cfg.head_dim
        self.rep = heads // self.n_kv
        q_width, k_width = heads * self.d, self.n_kv * self.d
        self.widths = [q_width + k_width, q_width + k_width, k_width]
        self.q_width = q_width
        half = self.d // 2
        turn = torch.zeros(self.d, self.d)  # x @ turn == _rotate_half(x) for one head
        turn[torch.arange(half) + half, torch.arange(half)] = -1.0
        turn[torch.arange(half), torch.arange(half) + half] = 1.0
        scale = self.d**-0.5

        def rows(weight: torch.Tensor, n: int) -> tuple[torch.Tensor, torch.Tensor]:
            return weight.T, weight.T @ torch.block_diag(*[turn] * n)

        self.qkv, self.out, self.gate_up, self.down = (torch.nn.ParameterList() for _ in range(4))
        self.norms_in, self.norms_post = norms_in, norms_post = (
            torch.nn.ModuleList(),
            torch.nn.ModuleList(),
        )
        for layer in model.layers:
            assert isinstance(layer, Block)  # a ModuleList's items are typed as any Module
            attn = layer.self_attn
            q, q_turned = rows(attn.q_proj.weight * scale, heads)
            k, k_turned = rows(attn.k_proj.weight, self.n_kv)
            self.qkv.append(torch.cat((q, k, q_turned, k_turned, attn.v_proj.weight.T), dim=1))
            self.out.append(attn.o_proj.weight.T)
            self.gate_up.append(torch.cat((layer.gate_proj.weight.T, layer.up_proj.weight.T), 1))
            self.down.append(layer.down_proj.weight.T)
            norms_in.append(layer.input_layernorm)
            norms_post.append(layer.post_attention_layernorm)
        self.embed, self.norm = model.embed_tokens, model.norm
        self.head = torch.nn.Parameter(model.embed_tokens.weight.T)
        self.inv_freq = model.inv_freq
        self.copies = heads + self.n_kv  # rotary angles per head of q, then of k

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        *past_flat: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        b, seq = input_ids.shape
        past_len = past_flat[0].shape[2]
        q_at = torch.arange(seq) + past_len
        causal = torch.arange(past_len + seq).unsqueeze(0) <= q_at.unsqueeze(1)
        visible = causal.unsqueeze(0) & attention_mask.bool().unsqueeze(1)  # [b, seq, total]
        mask = torch.zeros(visible.shape).masked_fill(~visible, torch.finfo(torch.float32).min)
        mask = mask.repeat(1, self.rep, 1).unsqueeze(1)  # [b, 1, rep * seq, total]
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq
        angles = torch.cat((freqs, freqs), dim=-1).repeat(1, 1, self.copies)
        cos, sin = angles.cos(), angles.sin()
        x = self.embed(input_ids)
        out: list[torch.Tensor] = []
        for i, norm_in in enumerate(self.norms_in):
            qk, qk_turned, v = (norm_in(x) @ self.qkv[i]).split(self.widths, dim=-1)
            qk = qk * cos + qk_turned * sin
            q, k = qk[..., : self.q_width], qk[..., self.q_width :]
            # query heads as [kv head, (repeat, position)] rows against that head's keys
            q = q.reshape(b, seq, self.n_kv, self.rep, self.d).permute(0, 2, 3, 1, 4)
            q = q.reshape(b, self.n_kv, self.rep * seq, self.d)
            k = torch.cat(
                (past_flat[2 * i], k.reshape(b, seq, self.n_kv, self.d).transpose(1, 2)), 2
            )
            v = torch.cat(
                (past_flat[2 * i + 1], v.reshape(b, seq, self.n_kv, self.d).transpose(1, 2)), 2
            )
            out += [k, v]
            weights = torch.softmax(q @ k.transpose(2, 3) + mask, dim=-1)
            attn = (weights @ v).reshape(b, self.n_kv, self.rep, seq, self.d)
            x = x + attn.permute(0, 3, 1, 2, 4).reshape(b, seq, -1) @ self.out[i]
            gate, up = (self.norms_post[i](x) @ self.gate_up[i]).chunk(2, dim=-1)
            x = x + (torch.nn.functional.silu(gate) * up) @ self.down[i]
        return (self.norm(x) @ self.head, *out)


def _export_onnx(model: Decoder, path: Path) -> None:
    cfg = model.cfg
    n = cfg.num_hidden_layers
    past_names = [f"past_key_values.{i}.{kind}" for i in range(n) for kind in ("key", "value")]
    present_names = [f"present.{i}.{kind}" for i in range(n) for kind in ("key", "value")]
    batch, seq, past_len = 1, 3, 2
    inputs = (
        torch.zeros(batch, seq, dtype=torch.long),
        torch.ones(batch, past_len + seq, dtype=torch.long),
        torch.arange(past_len, past_len + seq).unsqueeze(0),
        *[torch.zeros(batch, cfg.num_key_value_heads, past_len, cfg.head_dim) for _ in past_names],
    )
    dynamic: dict[str, dict[int, str]] = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "total_sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in past_names:
        dynamic[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in present_names:
        dynamic[name] = {0: "batch_size", 2: "total_sequence_length"}
    torch.onnx.export(
        _Inference(model).eval(),
        inputs,
        str(path),
        input_names=["input_ids", "attention_mask", "position_ids", *past_names],
        output_names=["logits", *present_names],
        dynamic_axes=dynamic,
        opset_version=17,
        dynamo=False,
    )


def _convert_openvino(onnx_folder: Path, folder: Path) -> None:
    """The fp32 ONNX folder as a stateless fp32 OpenVINO IR folder (side files copied)."""
    import openvino as ov

    folder.mkdir()
    ov.save_model(
        ov.convert_model(str(onnx_folder / "model.onnx")),
        str(folder / "openvino_model.xml"),
        compress_to_fp16=False,
    )
    for item in onnx_folder.iterdir():
        if item.name != "model.onnx":
            shutil.copyfile(item, folder / item.name)


def write_tokenizer_files(tokenizer: Tokenizer, folder: Path) -> None:
    tokenizer.save(str(folder / "tokenizer.json"))
    config = {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": None,
        "eos_token": IM_END,
        "pad_token": PAD,
        "model_max_length": 1024,
        "chat_template": CHATML_TEMPLATE,
    }
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n")
    eos = tokenizer.token_to_id(IM_END)
    generation = {"eos_token_id": eos, "pad_token_id": tokenizer.token_to_id(PAD)}
    (folder / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")


def export_model(
    model: Decoder, tokenizer: Tokenizer, out: Path, *, training_report: dict[str, Any]
) -> None:
    """Write the model folder ``out`` (replacing the files it owns).

    The int8 files come from :func:`edgeward.runtime.model_tools.quantize_model`, the same code
    ``edgeward model quantize`` runs on a user's model.
    """
    from edgeward.runtime.model_tools import quantize_model

    out.mkdir(parents=True, exist_ok=True)
    model = model.eval()
    eos, pad = tokenizer.token_to_id(IM_END), tokenizer.token_to_id(PAD)
    if eos is None or pad is None:
        raise ValueError(f"the tokenizer lacks {IM_END} or {PAD}")
    with tempfile.TemporaryDirectory() as tmp:
        fp32 = Path(tmp) / "onnx-fp32"
        fp32.mkdir()
        with torch.no_grad():
            _export_onnx(model, fp32 / "model.onnx")
        write_tokenizer_files(tokenizer, fp32)
        config = model.cfg.hf_config(eos_token_id=eos, pad_token_id=pad)
        (fp32 / "config.json").write_text(json.dumps(config, indent=2) + "\n")
        _convert_openvino(fp32, Path(tmp) / "openvino-fp32")
        onnx_int8 = quantize_model(fp32, Path(tmp) / "onnx-int8", backend="onnx")
        ov_int8 = quantize_model(
            Path(tmp) / "openvino-fp32", Path(tmp) / "ov-int8", backend="openvino"
        )
        for item in onnx_int8.iterdir():
            shutil.copyfile(item, out / item.name)
        for name in ("openvino_model.xml", "openvino_model.bin"):
            shutil.copyfile(ov_int8 / name, out / name)
    (out / "training.json").write_text(json.dumps(training_report, indent=2) + "\n")
