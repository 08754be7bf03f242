"""The exported decoder computes what the trained one does (needs the ``train`` extra: torch)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("torch")

import torch

from edgeward.runtime.training.export import _export_onnx, _Inference
from edgeward.runtime.training.model import Decoder, DecoderConfig

CFG = DecoderConfig(vocab_size=97, hidden_size=48, num_attention_heads=6, num_key_value_heads=2)


def _trained_like() -> Decoder:
    """A small decoder whose norms are not all ones (training moves them)."""
    torch.manual_seed(3)
    model = Decoder(CFG).eval()
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "norm" in name:
                param.uniform_(0.5, 1.5)
            else:
                param.normal_(0.0, 0.3)
    return model


def _empty_cache(batch: int) -> list[torch.Tensor]:
    return [
        torch.zeros(batch, CFG.num_key_value_heads, 0, CFG.head_dim)
        for _ in range(2 * CFG.num_hidden_layers)
    ]


def test_the_inference_layout_is_the_decoder_with_and_without_a_cache() -> None:
    model = _trained_like()
    ids = torch.randint(0, CFG.vocab_size, (2, 11))
    positions = torch.arange(11).repeat(2, 1)
    with torch.no_grad():
        hidden, _ = model(ids, positions, None)
        expected = model.logits(hidden)
        inference = _Inference(model)
        whole = inference(ids, torch.ones(2, 11, dtype=torch.long), positions, *_empty_cache(2))
        first = inference(
            ids[:, :7], torch.ones(2, 7, dtype=torch.long), positions[:, :7], *_empty_cache(2)
        )
        rest = inference(
            ids[:, 7:], torch.ones(2, 11, dtype=torch.long), positions[:, 7:], *first[1:]
        )
    torch.testing.assert_close(whole[0], expected, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(rest[0], expected[:, 7:], atol=1e-4, rtol=1e-4)
    # the cache holds each layer's keys and values as the decoder computes them
    assert rest[1].shape == (2, CFG.num_key_value_heads, 11, CFG.head_dim)


def test_padding_hides_a_key_as_the_decoders_mask_does() -> None:
    model = _trained_like()
    ids = torch.randint(0, CFG.vocab_size, (1, 6))
    positions = torch.arange(6).unsqueeze(0)
    attention = torch.tensor([[1, 1, 0, 1, 1, 1]])
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    mask = (causal & attention.bool()).view(1, 1, 6, 6)
    with torch.no_grad():
        hidden, _ = model(ids, positions, mask)
        got = _Inference(model)(ids, attention, positions, *_empty_cache(1))[0]
    keep = [0, 1, 3, 4, 5]  # the hidden position's own output is not used
    torch.testing.assert_close(got[:, keep], model.logits(hidden)[:, keep], atol=1e-4, rtol=1e-4)


def test_the_onnx_graph_gives_the_decoders_logits(tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    model = _trained_like()
    path = tmp_path / "model.onnx"
    with torch.no_grad():
        _export_onnx(model, path)
        ids = torch.randint(0, CFG.vocab_size, (1, 9))
        hidden, _ = model(ids, torch.arange(9).unsqueeze(0), None)
        expected = model.logits(hidden).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {
        "input_ids": ids[:, :5].numpy(),
        "attention_mask": np.ones((1, 5), np.int64),
        "position_ids": np.arange(5)[None],
    }
    names = [
        f"past_key_values.{i}.{k}" for i in range(CFG.num_hidden_layers) for k in ("key", "value")
    ]
    feeds.update({name: cache.numpy() for name, cache in zip(names, _empty_cache(1), strict=True)})
    first = session.run(None, feeds)
    feeds.update(
        input_ids=ids[:, 5:].numpy(),
        attention_mask=np.ones((1, 9), np.int64),
        position_ids=np.arange(5, 9)[None],
    )
    feeds.update(zip(names, first[1:], strict=True))
    second = session.run(None, feeds)
    np.testing.assert_allclose(first[0], expected[:, :5], atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(second[0], expected[:, 5:], atol=1e-4, rtol=1e-4)


class _EarlierLayout(torch.nn.Module):
    """The graph the export wrote before its current layout: the decoder's own modules, under
    ``model``, so its nodes carry their names (``/model/layers.0/self_attn/q_proj/MatMul``)."""

    def __init__(self, model: Decoder) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor, position_ids: torch.Tensor) -> torch.Tensor:
        hidden, _ = self.model(input_ids, position_ids, None)
        return self.model.logits(hidden)


def _earlier_int8_folder(model: Decoder, folder: Path) -> None:
    folder.mkdir()
    fp32 = folder / "fp32.onnx"
    with torch.no_grad():
        torch.onnx.export(
            _EarlierLayout(model).eval(),
            (torch.zeros(1, 4, dtype=torch.long), torch.arange(4).unsqueeze(0)),
            str(fp32),
            input_names=["input_ids", "position_ids"],
            output_names=["logits"],
            opset_version=17,
            dynamo=False,
        )
    _quantized_beside(fp32)


def _quantized_beside(fp32: Path) -> None:
    """``model.onnx`` and ``config.json`` beside ``fp32``: its weights quantized as ONNX
    Runtime's int8 export quantizes them (:func:`edgeward.runtime.model_tools.quantize_model`)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(fp32),
        str(fp32.parent / "model.onnx"),
        op_types_to_quantize=["MatMul", "Gather"],
        weight_type=QuantType.QInt8,
    )
    config = CFG.hf_config(eos_token_id=2, pad_token_id=0)
    (fp32.parent / "config.json").write_text(json.dumps(config))


def test_a_model_in_the_earlier_layout_is_rebuilt_from_its_int8_weights(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from edgeward.runtime.training.reexport import decoder_from_onnx

    model = _trained_like()
    _earlier_int8_folder(model, tmp_path / "old")
    rebuilt = decoder_from_onnx(tmp_path / "old")
    assert rebuilt.cfg == CFG
    for name, original in model.state_dict().items():
        got = rebuilt.state_dict()[name]
        # one int8 scale per tensor: off by at most half a step (a step is about max / 127)
        step = float(original.abs().max()) / 127
        torch.testing.assert_close(got, original, atol=step, rtol=0, msg=name)
        if "norm" not in name:  # quantized, so not bit-equal
            assert not torch.equal(got, original), name


def _int8_folder(model: Decoder, folder: Path) -> None:
    """``model`` as the current export writes it: its layout, quantized as ONNX Runtime's is."""
    folder.mkdir()
    with torch.no_grad():
        _export_onnx(model, folder / "fp32.onnx")
    _quantized_beside(folder / "fp32.onnx")


def test_a_model_in_the_current_layout_is_rebuilt_from_its_int8_weights(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from edgeward.runtime.training.reexport import decoder_from_onnx

    model = _trained_like()
    _int8_folder(model, tmp_path / "new")
    rebuilt = decoder_from_onnx(tmp_path / "new")
    assert rebuilt.cfg == CFG
    fused = _Inference(model)
    # each weight is quantized inside the fused matrix it is part of, with that matrix's step
    source = {"embed_tokens.weight": model.embed_tokens.weight, "norm.weight": model.norm.weight}
    for i in range(CFG.num_hidden_layers):
        for proj in ("q_proj", "k_proj", "v_proj"):
            source[f"layers.{i}.self_attn.{proj}.weight"] = fused.qkv[i]
        source[f"layers.{i}.self_attn.o_proj.weight"] = fused.out[i]
        source[f"layers.{i}.gate_proj.weight"] = source[f"layers.{i}.up_proj.weight"] = (
            fused.gate_up[i]
        )
        source[f"layers.{i}.down_proj.weight"] = fused.down[i]
        source[f"layers.{i}.input_layernorm.weight"] = model.layers[i].input_layernorm.weight
        source[f"layers.{i}.post_attention_layernorm.weight"] = model.layers[
            i
        ].post_attention_layernorm.weight
    for name, original in model.state_dict().items():
        got = rebuilt.state_dict()[name]
        if "norm" in name:  # kept in float
            torch.testing.assert_close(got, original, msg=name)
            continue
        # the embedding's uint8 steps span min to max, the others' int8 steps twice the max
        step = 2 * float(source[name].detach().abs().max()) / 255
        if name.endswith("q_proj.weight"):  # stored scaled by 1/sqrt(head_dim)
            step *= CFG.head_dim**0.5
        torch.testing.assert_close(got, original, atol=step, rtol=0, msg=name)
        assert not torch.equal(got, original), name


def test_a_graph_in_neither_layout_is_refused(tmp_path: Path) -> None:
    pytest.importorskip("onnxruntime")
    from edgeward.runtime.training.reexport import decoder_from_onnx

    folder = tmp_path / "fp32"
    folder.mkdir()
    _export_onnx(_trained_like(), folder / "model.onnx")  # today's layout, not quantized
    (folder / "config.json").write_text(json.dumps(CFG.hf_config(eos_token_id=2, pad_token_id=0)))
    with pytest.raises(ValueError, match="weights missing"):
        decoder_from_onnx(folder)
    _int8_folder(_trained_like(), tmp_path / "int8")
    config = CFG.hf_config(eos_token_id=2, pad_token_id=0) | {"num_hidden_layers": 4}
    (tmp_path / "int8" / "config.json").write_text(json.dumps(config))
    with pytest.raises(ValueError, match=r"lacks the weight 'qkv\.3_quantized'"):
        decoder_from_onnx(tmp_path / "int8")


def test_reexport_refuses_a_bad_folder_with_a_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from edgeward.runtime.training.reexport import main

    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(CFG.hf_config(eos_token_id=2, pad_token_id=0)))
    (folder / "model.onnx").write_bytes(b"not a model")
    assert main(["--model", str(folder), "--out", str(tmp_path / "out")]) == 1
    assert "is not an ONNX model" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
    assert main(["--model", str(folder), "--out", str(folder)]) == 2
