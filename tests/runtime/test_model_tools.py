"""``edgeward model inspect`` / ``quantize`` building blocks on the tiny model folders."""

from __future__ import annotations

from pathlib import Path

import pytest
from runtime_fixtures import TinyModels

from edgeward.runtime.errors import QuantizationError
from edgeward.runtime.local_model import load_model
from edgeward.runtime.model_tools import inspect_model, quantize_model
from edgeward.runtime.random_model import TINY


def test_inspect_onnx(tiny_models: TinyModels):
    info = inspect_model(tiny_models.onnx_external)
    assert info.format == "onnx" and info.graph_file == "model.onnx"
    assert info.architecture == "LlamaForCausalLM"
    assert info.quantization == "none (float32)"
    # Matrices only (norm vectors are not counted); embeddings and lm_head are separate tensors.
    norms = (2 * TINY.num_hidden_layers + 1) * TINY.hidden_size
    lm_head = TINY.vocab_size * TINY.hidden_size
    assert info.parameters == TINY.parameter_count() + lm_head - norms
    assert info.size_bytes > info.parameters * 4
    names = [i.name for i in info.inputs]
    assert names[:3] == ["input_ids", "attention_mask", "position_ids"]
    assert "past_key_values.1.value" in names
    assert (info.layers, info.kv_heads, info.head_dim) == (2, 2, 16)
    assert info.vocab_size == info.tokenizer_vocab_size == 512
    assert info.chat_template == "tokenizer_config.json"
    assert info.to_dict()["inputs"][0] == {
        "name": "input_ids",
        "dtype": "int64",
        "shape": "[batch, sequence]",
    }


def test_inspect_openvino(tiny_models: TinyModels):
    stateful = inspect_model(tiny_models.ov_stateful)
    assert stateful.format == "openvino" and stateful.stateful is True
    assert "beam_idx" in [i.name for i in stateful.inputs]
    assert stateful.quantization == "none (f32)"
    assert inspect_model(tiny_models.ov_stateless).stateful is False


def test_quantize_onnx_int8(tiny_models: TinyModels, tmp_path: Path):
    out = quantize_model(tiny_models.onnx, tmp_path / "int8")
    info = inspect_model(out)
    assert info.quantization == "int8 (ONNX Runtime dynamic)"
    assert info.size_bytes < inspect_model(tiny_models.onnx).size_bytes / 2
    assert sorted(p.name for p in out.iterdir()) == [
        "config.json",
        "generation_config.json",
        "model.onnx",
        "tokenizer.json",
        "tokenizer_config.json",
    ]
    assert len(load_model(out).generate("hello", max_new_tokens=4).token_ids) == 4


@pytest.mark.parametrize(("method", "label"), [("int8", "u8"), ("int4", "u4")])
def test_quantize_openvino(tiny_models: TinyModels, tmp_path: Path, method: str, label: str):
    out = quantize_model(tiny_models.ov_stateful, tmp_path / method, method=method, group_size=16)
    info = inspect_model(out)
    assert label in info.quantization and info.stateful is True
    assert len(load_model(out).generate("hello", max_new_tokens=4).token_ids) == 4


def test_quantize_refusals(tiny_models: TinyModels, tmp_path: Path):
    with pytest.raises(QuantizationError, match="int8 only"):
        quantize_model(tiny_models.onnx, tmp_path / "x", method="int4")
    assert not (tmp_path / "x").exists()
    assert [p.name for p in tmp_path.iterdir()] == []  # the temporary folder was removed
    (tmp_path / "taken").mkdir()
    with pytest.raises(QuantizationError, match="already exists"):
        quantize_model(tiny_models.onnx, tmp_path / "taken")
    with pytest.raises(QuantizationError, match="parent folder does not exist"):
        quantize_model(tiny_models.onnx, tmp_path / "no" / "where")
    with pytest.raises(QuantizationError, match="method must be int8 or int4"):
        quantize_model(tiny_models.onnx, tmp_path / "y", method="int2")
