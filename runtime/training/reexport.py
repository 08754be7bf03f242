"""Re-export a model folder this project wrote, in the current export's layout, from its int8 ONNX.

A model exported by :mod:`edgeward.runtime.training.export`, in its current layout or the
earlier one, keeps its weights, int8 with one scale per tensor, in ``model.onnx``; this rebuilds
a :class:`Decoder` from them (dequantized) and exports it again, so a graph change needs no
retraining. ``train.py --init`` starts a training run from the same rebuilt decoder. The
weights are the int8 ones, not the original fp32 ones: quantizing them again costs a little
accuracy, which the model card reports where it ships such a folder.

    python -m edgeward.runtime.training.reexport --model OLD_FOLDER --out NEW_FOLDER
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import numpy as np
import onnx
import torch
from google.protobuf.message import DecodeError
from onnx import numpy_helper

from edgeward.runtime.errors import ModelFolderError
from edgeward.runtime.model_folder import load_tokenizer
from edgeward.runtime.training.export import export_model
from edgeward.runtime.training.model import Decoder, DecoderConfig

_PROJECTION = re.compile(
    r"^/model/layers\.(\d+)/(?:self_attn/)?(q_proj|k_proj|v_proj|o_proj|gate_proj|up_proj|down_proj)"
    r"/MatMul_quant$"
)


def _dequantized(inits: dict[str, np.ndarray], name: str) -> np.ndarray:
    """The float value of quantized initializer ``X_quantized`` (its ``X_scale``, ``X_zero_point``)."""
    base = name.removesuffix("_quantized")
    values = inits[name].astype(np.float32) - inits[f"{base}_zero_point"].astype(np.float32)
    return values * inits[f"{base}_scale"]


def _current_layout(
    graph: onnx.GraphProto, inits: dict[str, np.ndarray], cfg: DecoderConfig
) -> dict[str, np.ndarray]:
    """Weights by the names the current export gives them (``qkv.0``, ``gate_up.0``, ...).

    Each layer's ``qkv`` holds q (scaled by 1/sqrt(head_dim)), k, their rotated copies and v,
    as columns; the rotated copies are the same weights permuted, so they are not read. Equal
    norms may share one initializer, the others being ``Identity`` nodes of it (untrained norms
    are all ones), so a norm's weight is followed through them.
    """
    same_as = {node.output[0]: node.input[0] for node in graph.node if node.op_type == "Identity"}

    def norm(name: str) -> np.ndarray:
        while name not in inits and name in same_as:
            name = same_as[name]
        return inits[name]

    q_width = cfg.num_attention_heads * cfg.head_dim
    k_width = cfg.num_key_value_heads * cfg.head_dim
    weights = {"embed_tokens.weight": _dequantized(inits, "embed.weight_quantized")}
    for i in range(cfg.num_hidden_layers):
        qkv = _dequantized(inits, f"qkv.{i}_quantized")
        gate_up = _dequantized(inits, f"gate_up.{i}_quantized")
        attn = f"layers.{i}.self_attn."
        weights[attn + "q_proj.weight"] = qkv[:, :q_width].T * cfg.head_dim**0.5
        weights[attn + "k_proj.weight"] = qkv[:, q_width : q_width + k_width].T
        weights[attn + "v_proj.weight"] = qkv[:, -k_width:].T
        weights[attn + "o_proj.weight"] = _dequantized(inits, f"out.{i}_quantized").T
        weights[f"layers.{i}.gate_proj.weight"] = gate_up[:, : cfg.intermediate_size].T
        weights[f"layers.{i}.up_proj.weight"] = gate_up[:, cfg.intermediate_size :].T
        weights[f"layers.{i}.down_proj.weight"] = _dequantized(inits, f"down.{i}_quantized").T
        weights[f"layers.{i}.input_layernorm.weight"] = norm(f"norms_in.{i}.weight")
        weights[f"layers.{i}.post_attention_layernorm.weight"] = norm(f"norms_post.{i}.weight")
    weights["norm.weight"] = norm("norm.weight")
    return weights


def _earlier_layout(graph: onnx.GraphProto, inits: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Weights by the node names the earlier export gave them, never by their order."""
    weights: dict[str, np.ndarray] = {}
    for node in graph.node:
        found = _PROJECTION.match(node.name)
        if node.op_type == "MatMulInteger" and found:
            layer, proj = found.groups()
            prefix = "" if proj.endswith(("gate_proj", "up_proj", "down_proj")) else "self_attn."
            # ONNX multiplies x @ W; torch's Linear keeps W transposed
            weights[f"layers.{layer}.{prefix}{proj}.weight"] = _dequantized(inits, node.input[1]).T
        elif node.op_type == "Gather" and node.name == "/model/embed_tokens/Gather":
            weights["embed_tokens.weight"] = _dequantized(inits, node.input[0])
    for name, value in inits.items():
        if name.startswith("model.") and name.endswith("norm.weight"):
            weights[name.removeprefix("model.")] = value
    return weights


def decoder_from_onnx(folder: Path) -> Decoder:
    """The :class:`Decoder` whose weights ``folder/model.onnx`` holds (int8, dequantized).

    The current layout is known by its ``qkv.0`` weights, the earlier one by its node names; a
    graph without every weight of its layout is refused.
    """
    settings = json.loads((folder / "config.json").read_text())
    fields = DecoderConfig.__dataclass_fields__
    cfg = DecoderConfig(**{k: v for k, v in settings.items() if k in fields})
    try:
        graph = onnx.load(str(folder / "model.onnx")).graph
    except DecodeError as exc:
        raise ValueError(f"{folder}/model.onnx is not an ONNX model: {exc}") from exc
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    if "qkv.0_quantized" in inits:
        try:
            weights = _current_layout(graph, inits, cfg)
        except KeyError as exc:
            raise ValueError(f"{folder}/model.onnx lacks the weight {exc} of its layout") from exc
    else:
        weights = _earlier_layout(graph, inits)
    model = Decoder(cfg)
    expected = set(model.state_dict())
    if set(weights) != expected:
        missing, extra = sorted(expected - set(weights)), sorted(set(weights) - expected)
        raise ValueError(
            f"{folder}/model.onnx is not in an export layout this reads: "
            f"weights missing {missing}, unexpected {extra}"
        )
    model.load_state_dict({k: torch.tensor(v) for k, v in weights.items()})
    return model.eval()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, required=True, help="model folder to read")
    parser.add_argument("--out", type=Path, required=True, help="model folder to write")
    args = parser.parse_args(argv)
    if args.out.resolve() == args.model.resolve():
        print("reexport: --out must differ from --model", file=sys.stderr)
        return 2
    try:
        model = decoder_from_onnx(args.model)
        tokenizer = load_tokenizer(args.model)
        report = json.loads((args.model / "training.json").read_text())
    except (OSError, ValueError, KeyError, TypeError, ModelFolderError) as exc:
        print(f"reexport: {exc}", file=sys.stderr)
        return 1
    # how the folder was made: the training run's command, then this one
    report["reexport_command"] = "python -m edgeward.runtime.training.reexport " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    export_model(model, tokenizer, args.out, training_report=report)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
