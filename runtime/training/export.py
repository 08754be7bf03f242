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

from edgeward.runtime.training.model import Decoder
from edgeward.runtime.training.tokenizer import IM_END, PAD

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


class _WithCache(torch.nn.Module):
    """The Optimum calling convention around :class:`Decoder`."""

    def __init__(self, model: Decoder) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        position_ids: torch.Tensor,
        *past_flat: torch.Tensor,
    ) -> tuple[torch.Tensor, ...]:
        past = [(past_flat[2 * i], past_flat[2 * i + 1]) for i in range(len(past_flat) // 2)]
        past_len = past[0][0].shape[2]
        seq = input_ids.shape[1]
        q = torch.arange(seq, device=input_ids.device) + past_len
        k = torch.arange(past_len + seq, device=input_ids.device)
        causal = k.unsqueeze(0) <= q.unsqueeze(1)
        mask = causal.unsqueeze(0).unsqueeze(0) & attention_mask.bool().unsqueeze(1).unsqueeze(2)
        hidden, presents = self.model(input_ids, position_ids, mask, past)
        out: list[torch.Tensor] = [self.model.logits(hidden)]
        for key, value in presents:
            out += [key, value]
        return tuple(out)


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
        _WithCache(model).eval(),
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
