"""Build random-weight Llama-style decoder exports without torch, for tests and benchmarks.

The graphs follow the Hugging Face Optimum export conventions exactly (inputs ``input_ids``,
``attention_mask``, ``position_ids``, ``past_key_values.{i}.key/.value``; outputs ``logits``,
``present.{i}.key/.value``), so the runtime loads them through the same code path as a real
export. Also written: a byte-level BPE ``tokenizer.json`` trained with ``tokenizers``,
``config.json``, ``tokenizer_config.json`` with a ChatML template and ``generation_config.json``.
OpenVINO IR variants (stateless, and stateful with ``beam_idx`` as optimum-intel makes them)
are converted from the ONNX graph.

Needs the ``tools`` extra (``onnx``); nothing here is used when the daemon serves requests.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ("<|endoftext|>", "<|im_start|>", "<|im_end|>")


@dataclass(frozen=True)
class DecoderShape:
    """Hyper-parameters of a Llama-style decoder (names as in Hugging Face ``config.json``)."""

    vocab_size: int = 512
    hidden_size: int = 64
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    intermediate_size: int = 128
    max_position_embeddings: int = 512
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    attention_bias: bool = False
    model_type: str = "llama"

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    def parameter_count(self) -> int:
        """Parameters of the Hugging Face model (embeddings counted once, as when tied)."""
        h, kv = self.hidden_size, self.num_key_value_heads * self.head_dim
        per_layer = 2 * h * h + 2 * h * kv + 3 * h * self.intermediate_size + 2 * h
        return self.vocab_size * h + self.num_hidden_layers * per_layer + h


TINY = DecoderShape()
SMOLLM_135M = DecoderShape(
    vocab_size=49152,
    hidden_size=576,
    num_hidden_layers=30,
    num_attention_heads=9,
    num_key_value_heads=3,
    intermediate_size=1536,
    max_position_embeddings=2048,
)
QWEN25_05B = DecoderShape(
    vocab_size=151936,
    hidden_size=896,
    num_hidden_layers=24,
    num_attention_heads=14,
    num_key_value_heads=2,
    intermediate_size=4864,
    max_position_embeddings=32768,
    rope_theta=1000000.0,
    attention_bias=True,
    model_type="qwen2",
)

_SYLLABLES = [
    c + v for c in "bcdfghjklmnprstvwz" for v in ("a", "e", "i", "o", "u", "ai", "ou", "ee")
]
_WORDS = (
    "turn on off the light lights kitchen living room bedroom garage door lock unlock open close "
    "set temperature brightness to in here please make it warm cold cover position switch fan "
    "tool args entity_id light.turn_on light.turn_off lock.unlock cover.set_position climate "
    "climate.set_temperature value true false null what is status and"
).split()


def _corpus(lines: int, seed: int, invented_words: int) -> Iterator[str]:
    rng = random.Random(seed)
    vocabulary = list(_WORDS)
    vocabulary += [
        "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(1, 4)))
        for _ in range(invented_words)
    ]
    for _ in range(lines):
        words = [rng.choice(vocabulary) for _ in range(rng.randint(3, 16))]
        number = rng.randint(0, 1000)
        yield (
            " ".join(words)
            + f' {{"tool": "{rng.choice(_WORDS)}", "args": {{"entity_id": "{words[0]}.{words[-1]}",'
            f' "value": {number}}}}}'
        )


def train_tokenizer(vocab_size: int, *, seed: int = 0) -> Any:
    """A byte-level BPE tokenizer with ChatML special tokens, trained on a synthetic corpus."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    lines = max(2000, vocab_size * 4)
    tokenizer.train_from_iterator(
        _corpus(lines, seed, invented_words=vocab_size * 2), trainer=trainer
    )
    return tokenizer


class _GraphBuilder:
    """Collects ONNX nodes and initializers for one decoder graph (or one If branch)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.nodes: list[Any] = []
        self._count = 0

    def op(self, op_type: str, inputs: list[str], n_out: int = 1, **attrs: Any) -> Any:
        from onnx import helper

        outputs = []
        for _ in range(n_out):
            self._count += 1
            outputs.append(f"{self.prefix}{op_type.lower()}_{self._count}")
        self.nodes.append(helper.make_node(op_type, inputs, outputs, **attrs))
        return outputs[0] if n_out == 1 else outputs


def _decoder_body(
    g: _GraphBuilder, shape: DecoderShape, *, use_past: bool, out_names: list[str]
) -> None:
    """Emit the decoder computation; outer-scope names are the Optimum inputs and weights."""
    from onnx import helper

    nh, nkv = shape.num_attention_heads, shape.num_key_value_heads

    def rms_norm(x: str, weight: str) -> str:
        var = g.op("ReduceMean", [g.op("Mul", [x, x])], axes=[-1], keepdims=1)
        inv = g.op("Reciprocal", [g.op("Sqrt", [g.op("Add", [var, "c_eps"])])])
        return g.op("Mul", [g.op("Mul", [x, inv]), weight])

    x = g.op("Gather", ["embed_tokens", "input_ids"])
    pos = g.op("Unsqueeze", [g.op("Cast", ["position_ids"], to=1), "c_axis_last"])
    freqs = g.op("Mul", [pos, "inv_freq"])
    emb = g.op("Concat", [freqs, freqs], axis=-1)
    cos = g.op("Unsqueeze", [g.op("Cos", [emb]), "c_axis_1"])
    sin = g.op("Unsqueeze", [g.op("Sin", [emb]), "c_axis_1"])

    seq_len = g.op("Gather", [g.op("Shape", ["input_ids"]), "c_idx_1"], axis=0)
    if use_past:
        past_len = g.op("Gather", [g.op("Shape", ["past_key_values.0.key"]), "c_idx_2"], axis=0)
    else:
        past_len = "c_zero_i64"
    total = g.op("Add", [past_len, seq_len])
    q_idx = g.op("Range", [past_len, total, "c_one_i64"])
    k_idx = g.op("Range", ["c_zero_i64", total, "c_one_i64"])
    causal = g.op(
        "LessOrEqual",
        [g.op("Unsqueeze", [k_idx, "c_axis_0"]), g.op("Unsqueeze", [q_idx, "c_axis_last"])],
    )
    keep = g.op("Cast", ["attention_mask"], to=9)
    keep = g.op("Unsqueeze", [keep, "c_axes_1_2"])
    allowed = g.op("And", [causal, keep])
    bias = g.op("Where", [allowed, "c_zero_f", "c_neg_f"])

    def rope(t: str) -> str:
        x1, x2 = g.op("Split", [t, "c_half_split"], n_out=2, axis=-1)
        rotated = g.op("Concat", [g.op("Neg", [x2]), x1], axis=-1)
        return g.op("Add", [g.op("Mul", [t, cos]), g.op("Mul", [rotated, sin])])

    def project(h: str, layer: int, name: str, heads: int) -> str:
        y = g.op("MatMul", [h, f"layers.{layer}.{name}.weight"])
        if shape.attention_bias and name in ("q_proj", "k_proj", "v_proj"):
            y = g.op("Add", [y, f"layers.{layer}.{name}.bias"])
        y = g.op("Reshape", [y, f"c_shape_heads_{heads}"])
        return g.op("Transpose", [y], perm=[0, 2, 1, 3])

    rep = nh // nkv
    for i in range(shape.num_hidden_layers):
        h = rms_norm(x, f"layers.{i}.input_layernorm.weight")
        q = rope(project(h, i, "q_proj", nh))
        k = rope(project(h, i, "k_proj", nkv))
        v = project(h, i, "v_proj", nkv)
        if use_past:
            k = g.op("Concat", [f"past_key_values.{i}.key", k], axis=2)
            v = g.op("Concat", [f"past_key_values.{i}.value", v], axis=2)
        g.nodes.append(helper.make_node("Identity", [k], [out_names[1 + 2 * i]]))
        g.nodes.append(helper.make_node("Identity", [v], [out_names[2 + 2 * i]]))
        if rep > 1:
            k = g.op("Tile", [g.op("Unsqueeze", [k, "c_axis_2"]), "c_tile_rep"])
            k = g.op("Reshape", [k, "c_shape_expand"])
            v = g.op("Tile", [g.op("Unsqueeze", [v, "c_axis_2"]), "c_tile_rep"])
            v = g.op("Reshape", [v, "c_shape_expand"])
        scores = g.op("MatMul", [q, g.op("Transpose", [k], perm=[0, 1, 3, 2])])
        scores = g.op("Add", [g.op("Mul", [scores, "c_scale"]), bias])
        attn = g.op("MatMul", [g.op("Softmax", [scores], axis=-1), v])
        attn = g.op("Reshape", [g.op("Transpose", [attn], perm=[0, 2, 1, 3]), "c_shape_merge"])
        x = g.op("Add", [x, g.op("MatMul", [attn, f"layers.{i}.o_proj.weight"])])
        h = rms_norm(x, f"layers.{i}.post_attention_layernorm.weight")
        gate = g.op("MatMul", [h, f"layers.{i}.gate_proj.weight"])
        up = g.op("MatMul", [h, f"layers.{i}.up_proj.weight"])
        act = g.op("Mul", [g.op("Mul", [gate, g.op("Sigmoid", [gate])]), up])
        x = g.op("Add", [x, g.op("MatMul", [act, f"layers.{i}.down_proj.weight"])])
    x = rms_norm(x, "norm.weight")
    g.nodes.append(helper.make_node("MatMul", [x, "lm_head.weight"], [out_names[0]]))


def _initializers(shape: DecoderShape, seed: int) -> list[Any]:
    from onnx import numpy_helper

    rng = np.random.default_rng(seed)
    h, hd = shape.hidden_size, shape.head_dim
    nh, nkv = shape.num_attention_heads, shape.num_key_value_heads

    def rand(*dims: int, std: float) -> np.ndarray:
        return (rng.standard_normal(dims, dtype=np.float32) * std).astype(np.float32)

    tensors: dict[str, np.ndarray] = {
        "embed_tokens": rand(shape.vocab_size, h, std=1.0),
        # Logits spread of a few units keeps greedy argmax well separated between runtimes.
        "lm_head.weight": rand(h, shape.vocab_size, std=3.0 / math.sqrt(h)),
        "norm.weight": np.ones(h, dtype=np.float32),
    }
    for i in range(shape.num_hidden_layers):
        layer = f"layers.{i}"
        tensors[f"{layer}.input_layernorm.weight"] = np.ones(h, dtype=np.float32)
        tensors[f"{layer}.post_attention_layernorm.weight"] = np.ones(h, dtype=np.float32)
        for name, cols in (("q_proj", nh * hd), ("k_proj", nkv * hd), ("v_proj", nkv * hd)):
            tensors[f"{layer}.{name}.weight"] = rand(h, cols, std=1.0 / math.sqrt(h))
            if shape.attention_bias:
                tensors[f"{layer}.{name}.bias"] = rand(cols, std=0.02)
        tensors[f"{layer}.o_proj.weight"] = rand(nh * hd, h, std=1.0 / math.sqrt(h))
        inter = shape.intermediate_size
        tensors[f"{layer}.gate_proj.weight"] = rand(h, inter, std=1.0 / math.sqrt(h))
        tensors[f"{layer}.up_proj.weight"] = rand(h, inter, std=1.0 / math.sqrt(h))
        tensors[f"{layer}.down_proj.weight"] = rand(inter, h, std=1.0 / math.sqrt(inter))
    inv_freq = 1.0 / (shape.rope_theta ** (np.arange(0, hd, 2, dtype=np.float64) / hd))
    constants: dict[str, np.ndarray] = {
        "inv_freq": inv_freq.astype(np.float32),
        "c_eps": np.array(shape.rms_norm_eps, dtype=np.float32),
        "c_scale": np.array(1.0 / math.sqrt(hd), dtype=np.float32),
        "c_zero_f": np.array(0.0, dtype=np.float32),
        "c_neg_f": np.array(-1e9, dtype=np.float32),
        "c_zero_i64": np.array(0, dtype=np.int64),
        "c_one_i64": np.array(1, dtype=np.int64),
        "c_idx_1": np.array(1, dtype=np.int64),
        "c_idx_2": np.array(2, dtype=np.int64),
        "c_axis_0": np.array([0], dtype=np.int64),
        "c_axis_1": np.array([1], dtype=np.int64),
        "c_axis_2": np.array([2], dtype=np.int64),
        "c_axis_last": np.array([-1], dtype=np.int64),
        "c_axes_1_2": np.array([1, 2], dtype=np.int64),
        "c_half_split": np.array([hd // 2, hd // 2], dtype=np.int64),
        f"c_shape_heads_{nh}": np.array([0, 0, nh, hd], dtype=np.int64),
        f"c_shape_heads_{nkv}": np.array([0, 0, nkv, hd], dtype=np.int64),
        "c_tile_rep": np.array([1, 1, nh // nkv, 1, 1], dtype=np.int64),
        "c_shape_expand": np.array([0, nh, -1, hd], dtype=np.int64),
        "c_shape_merge": np.array([0, 0, nh * hd], dtype=np.int64),
    }
    tensors.update(constants)
    return [numpy_helper.from_array(value, name) for name, value in tensors.items()]


def build_onnx_decoder(shape: DecoderShape, *, seed: int = 0, merged: bool = False) -> Any:
    """An ``onnx.ModelProto`` of the decoder with KV cache (``merged``: the older If form)."""
    from onnx import TensorProto, helper

    n = shape.num_hidden_layers
    kv_shape: list[str | int] = [
        "batch",
        shape.num_key_value_heads,
        "past_sequence_length",
        shape.head_dim,
    ]
    present_shape: list[str | int] = [
        "batch",
        shape.num_key_value_heads,
        "total_sequence_length",
        shape.head_dim,
    ]
    inputs = [
        helper.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "sequence"]),
        helper.make_tensor_value_info(
            "attention_mask", TensorProto.INT64, ["batch", "total_sequence_length"]
        ),
        helper.make_tensor_value_info("position_ids", TensorProto.INT64, ["batch", "sequence"]),
    ]
    out_names = ["logits"]
    for i in range(n):
        for kind in ("key", "value"):
            inputs.append(
                helper.make_tensor_value_info(
                    f"past_key_values.{i}.{kind}", TensorProto.FLOAT, kv_shape
                )
            )
            out_names.append(f"present.{i}.{kind}")
    outputs = [
        helper.make_tensor_value_info(
            "logits", TensorProto.FLOAT, ["batch", "sequence", shape.vocab_size]
        )
    ]
    outputs += [
        helper.make_tensor_value_info(name, TensorProto.FLOAT, present_shape)
        for name in out_names[1:]
    ]
    initializers = _initializers(shape, seed)
    if not merged:
        body = _GraphBuilder("")
        _decoder_body(body, shape, use_past=True, out_names=out_names)
        graph = helper.make_graph(body.nodes, "decoder", inputs, outputs, initializers)
    else:
        inputs.append(helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1]))
        branches = []
        for use_past in (True, False):
            tag = "with_past_" if use_past else "no_past_"
            body = _GraphBuilder(tag)
            names = [tag + name for name in out_names]
            _decoder_body(body, shape, use_past=use_past, out_names=names)
            branch_outputs = [
                helper.make_tensor_value_info(name, TensorProto.FLOAT, None) for name in names
            ]
            branches.append(helper.make_graph(body.nodes, tag + "branch", [], branch_outputs))
        cond = helper.make_node("Squeeze", ["use_cache_branch"], ["use_cache_branch_scalar"])
        if_node = helper.make_node(
            "If",
            ["use_cache_branch_scalar"],
            out_names,
            then_branch=branches[0],
            else_branch=branches[1],
        )
        graph = helper.make_graph([cond, if_node], "decoder", inputs, outputs, initializers)
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 17)], producer_name="edgeward-random"
    )


def _config_json(shape: DecoderShape) -> dict[str, Any]:
    config = asdict(shape)
    config.update(
        architectures=["Qwen2ForCausalLM" if shape.model_type == "qwen2" else "LlamaForCausalLM"],
        head_dim=shape.head_dim,
        bos_token_id=None,
        eos_token_id=2,
        tie_word_embeddings=False,
        torch_dtype="float32",
        hidden_act="silu",
    )
    return config


def write_tokenizer_files(folder: Path, tokenizer: Any) -> None:
    """tokenizer.json, tokenizer_config.json (ChatML template), generation_config.json."""
    tokenizer.save(str(folder / "tokenizer.json"))
    eos = tokenizer.token_to_id("<|im_end|>")
    (folder / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "PreTrainedTokenizerFast",
                "bos_token": None,
                "eos_token": "<|im_end|>",
                "pad_token": "<|endoftext|>",
                "chat_template": CHATML_TEMPLATE,
            },
            indent=2,
        )
    )
    (folder / "generation_config.json").write_text(
        json.dumps({"eos_token_id": [eos, tokenizer.token_to_id("<|endoftext|>")]}, indent=2)
    )


def write_onnx_model(
    folder: Path,
    shape: DecoderShape,
    *,
    seed: int = 0,
    tokenizer: Any = None,
    merged: bool = False,
    external_data: bool = False,
) -> Path:
    """Write an Optimum-style ONNX export folder; returns the folder."""
    import onnx

    folder.mkdir(parents=True, exist_ok=True)
    model = build_onnx_decoder(shape, seed=seed, merged=merged)
    file_name = "decoder_model_merged.onnx" if merged else "model.onnx"
    if external_data:
        onnx.save_model(
            model,
            str(folder / file_name),
            save_as_external_data=True,
            all_tensors_to_one_file=True,
            location=file_name + "_data",
            size_threshold=1024,
        )
    else:
        onnx.save_model(model, str(folder / file_name))
    tokenizer = tokenizer if tokenizer is not None else train_tokenizer(shape.vocab_size)
    write_tokenizer_files(folder, tokenizer)
    (folder / "config.json").write_text(json.dumps(_config_json(shape), indent=2))
    return folder


def _add_beam_idx(model: Any) -> None:
    """Reorder the KV inputs by a ``beam_idx`` input, as optimum-intel does before make-stateful."""
    import openvino as ov
    import openvino.opset13 as ops

    beam_idx = ops.parameter(ov.PartialShape([-1]), ov.Type.i32, name="beam_idx")
    beam_idx.output(0).get_tensor().set_names({"beam_idx"})
    axis = ops.constant(np.array(0, dtype=np.int64))
    for parameter in model.get_parameters():
        if not parameter.get_friendly_name().startswith("past_key_values"):
            continue
        consumers = list(parameter.output(0).get_target_inputs())
        gathered = ops.gather(parameter, beam_idx, axis)
        for consumer in consumers:
            consumer.replace_source_output(gathered.output(0))
    model.add_parameters([beam_idx])
    model.validate_nodes_and_infer_types()


def write_openvino_model(onnx_folder: Path, folder: Path, *, stateful: bool) -> Path:
    """Convert an ONNX export folder to OpenVINO IR (stateful as optimum-intel exports it)."""
    import shutil

    import openvino as ov
    from openvino._offline_transformations import apply_make_stateful_transformation

    folder.mkdir(parents=True, exist_ok=True)
    model = ov.convert_model(str(onnx_folder / "model.onnx"))
    if stateful:
        _add_beam_idx(model)
        pairs = {}
        for parameter in model.get_parameters():
            name = parameter.get_friendly_name()
            if name.startswith("past_key_values."):
                pairs[name] = name.replace("past_key_values.", "present.")
        apply_make_stateful_transformation(model, pairs)
    ov.save_model(model, str(folder / "openvino_model.xml"), compress_to_fp16=False)
    for name in (
        "tokenizer.json",
        "tokenizer_config.json",
        "generation_config.json",
        "config.json",
    ):
        shutil.copyfile(onnx_folder / name, folder / name)
    return folder
