"""Model folders: format detection, config, tokenizer, chat template and every bad-folder error."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from runtime_fixtures import F32, TinyModels

from edgeward.runtime.errors import (
    BackendError,
    ChatTemplateError,
    ModelConfigError,
    ModelFormatError,
    ModelNotFoundError,
    ModelSignatureError,
    TokenizerError,
)
from edgeward.runtime.local_model import load_model
from edgeward.runtime.random_model import TINY, train_tokenizer, write_onnx_model


def _edit_json(path: Path, **changes: object) -> None:
    data = json.loads(path.read_text())
    for key, value in changes.items():
        if value is None:
            data.pop(key, None)
        else:
            data[key] = value
    path.write_text(json.dumps(data))


@pytest.mark.parametrize(
    ("which", "backend", "fmt"),
    [
        ("onnx", "auto", "onnx"),
        ("onnx_external", "onnx", "onnx"),
        ("onnx_merged", "auto", "onnx"),
        ("ov_stateful", "auto", "openvino"),
        ("ov_stateless", "openvino", "openvino"),
    ],
)
def test_every_export_form_loads(tiny_models: TinyModels, which: str, backend: str, fmt: str):
    model = load_model(getattr(tiny_models, which), backend)
    assert model.folder.format == fmt
    assert model.backend.vocab_size == TINY.vocab_size
    assert model.eos_token_ids == (
        model.tokenizer.token_to_id("<|im_end|>"),
        model.tokenizer.token_to_id("<|endoftext|>"),
    )
    assert model.generate("turn on the light", max_new_tokens=3).token_ids


def test_chat_template_renders_chatml(tiny_models: TinyModels):
    model = load_model(tiny_models.onnx)
    text = model.render_chat(
        [{"role": "system", "content": "tools"}, {"role": "user", "content": "hi"}]
    )
    assert text == "<|im_start|>system\ntools<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n" + (
        "<|im_start|>assistant\n"
    )
    ids = model.encode(text)
    assert ids[0] == model.tokenizer.token_to_id("<|im_start|>")


def test_missing_template_falls_back_to_plain(tiny_models: TinyModels, tmp_path: Path):
    folder = tiny_models.copy(tiny_models.onnx, tmp_path / "m")
    _edit_json(folder / "tokenizer_config.json", chat_template=None)
    model = load_model(folder)
    assert model.chat_template.is_fallback
    assert model.render_chat([{"role": "user", "content": "hi"}]) == "User: hi\nAssistant:"


def test_chat_template_file_is_used(tiny_models: TinyModels, tmp_path: Path):
    folder = tiny_models.copy(tiny_models.onnx, tmp_path / "m")
    _edit_json(folder / "tokenizer_config.json", chat_template=None)
    (folder / "chat_template.jinja").write_text("{{ messages[0]['content'] | upper }}")
    assert load_model(folder).render_chat([{"role": "user", "content": "hi"}]) == "HI"


def test_chat_template_is_sandboxed(tiny_models: TinyModels, tmp_path: Path):
    folder = tiny_models.copy(tiny_models.onnx, tmp_path / "m")
    _edit_json(
        folder / "tokenizer_config.json",
        chat_template="{{ ''.__class__.__mro__[1].__subclasses__() }}",
    )
    with pytest.raises(ChatTemplateError, match=r"tokenizer_config\.json"):
        load_model(folder).render_chat([{"role": "user", "content": "x"}])


def test_chat_template_raise_exception_and_bad_messages(tiny_models: TinyModels, tmp_path: Path):
    folder = tiny_models.copy(tiny_models.onnx, tmp_path / "m")
    _edit_json(
        folder / "tokenizer_config.json",
        chat_template="{{ raise_exception('system role not supported') }}",
    )
    model = load_model(folder)
    with pytest.raises(ChatTemplateError, match="system role not supported"):
        model.render_chat([{"role": "system", "content": "x"}])
    with pytest.raises(ChatTemplateError, match="message 0 needs 'role' and 'content'"):
        model.render_chat([{"text": "x"}])


def _break(folder: Path, how: str) -> None:
    if how == "no tokenizer":
        (folder / "tokenizer.json").unlink()
    elif how == "no config":
        (folder / "config.json").unlink()
    elif how == "config not json":
        (folder / "config.json").write_text("{not json")
    elif how == "config lacks layers":
        _edit_json(folder / "config.json", num_hidden_layers=None)
    elif how == "config bad heads":
        _edit_json(folder / "config.json", num_attention_heads="four")
    elif how == "layer count mismatch":
        _edit_json(folder / "config.json", num_hidden_layers=3)
    elif how == "vocab mismatch":
        _edit_json(folder / "config.json", vocab_size=TINY.vocab_size + 64)
    elif how == "tokenizer too big":
        train_tokenizer(TINY.vocab_size * 2).save(str(folder / "tokenizer.json"))
        _edit_json(folder / "generation_config.json", eos_token_id=[2])
    elif how == "tokenizer corrupt":
        (folder / "tokenizer.json").write_text('{"model": 42}')
    elif how == "bad eos":
        _edit_json(folder / "generation_config.json", eos_token_id=[99999])
    elif how == "no eos anywhere":
        _edit_json(folder / "generation_config.json", eos_token_id=None)
        _edit_json(folder / "config.json", eos_token_id=None)
        _edit_json(folder / "tokenizer_config.json", eos_token=None)
    elif how == "template does not compile":
        _edit_json(folder / "tokenizer_config.json", chat_template="{% for x in %}")
    elif how == "graph corrupt":
        (folder / "model.onnx").write_bytes(b"\x00garbage" * 100)
    elif how == "no graph":
        (folder / "model.onnx").unlink()
    elif how == "external data missing":
        (folder / "model.onnx_data").unlink()
    elif how == "ov weights missing":
        (folder / "openvino_model.bin").unlink()
    else:  # pragma: no cover - test table typo
        raise AssertionError(how)


@pytest.mark.parametrize(
    ("source", "how", "error", "message"),
    [
        ("onnx", "no tokenizer", ModelNotFoundError, r"tokenizer\.json: file is missing"),
        ("onnx", "no config", ModelNotFoundError, r"config\.json: file is missing"),
        ("onnx", "config not json", ModelConfigError, r"config\.json: not valid JSON"),
        ("onnx", "config lacks layers", ModelConfigError, "'num_hidden_layers' is missing"),
        ("onnx", "config bad heads", ModelConfigError, "'num_attention_heads' must be a positive"),
        ("onnx", "layer count mismatch", ModelSignatureError, "says 3 layers but the graph has 2"),
        ("ov_stateless", "layer count mismatch", ModelSignatureError, "says 3 layers"),
        (
            "onnx",
            "vocab mismatch",
            ModelConfigError,
            "vocab_size is 576 but model.onnx outputs 512",
        ),
        ("onnx", "tokenizer too big", TokenizerError, "tokenizer has 1024 tokens"),
        ("onnx", "tokenizer corrupt", TokenizerError, r"tokenizer\.json: cannot load tokenizer"),
        ("onnx", "bad eos", ModelConfigError, r"generation_config\.json: eos_token_id 99999"),
        ("onnx", "no eos anywhere", ModelConfigError, "no end-of-sequence token"),
        ("onnx", "template does not compile", ChatTemplateError, "does not compile"),
        ("onnx", "graph corrupt", ModelSignatureError, r"model\.onnx: ONNX Runtime cannot load"),
        ("onnx", "no graph", ModelFormatError, "no model graph found for backend auto"),
        ("onnx_external", "external data missing", ModelSignatureError, "model.onnx_data"),
        ("ov_stateful", "ov weights missing", ModelNotFoundError, r"openvino_model\.bin"),
    ],
)
def test_bad_folder_gives_its_error(
    tiny_models: TinyModels, tmp_path: Path, source: str, how: str, error: type, message: str
):
    folder = tiny_models.copy(getattr(tiny_models, source), tmp_path / "m")
    _break(folder, how)
    with pytest.raises(error, match=message) as caught:
        load_model(folder)
    assert str(folder) in str(caught.value)


def test_missing_folder_and_wrong_backend(tiny_models: TinyModels, tmp_path: Path):
    with pytest.raises(ModelNotFoundError, match="model folder does not exist"):
        load_model(tmp_path / "nowhere")
    with pytest.raises(ModelFormatError, match=r"expected openvino_model\.xml"):
        load_model(tiny_models.onnx, "openvino")
    with pytest.raises(ModelFormatError, match="backend must be auto, onnx or openvino"):
        load_model(tiny_models.onnx, "tensorrt")
    with pytest.raises(ModelFormatError, match="must be a folder"):
        load_model(tiny_models.onnx / "model.onnx")


def test_unsupported_devices(tiny_models: TinyModels):
    with pytest.raises(BackendError, match="CPU only"):
        load_model(tiny_models.onnx, device="GPU")
    with pytest.raises(BackendError, match=r"device 'NPU'.*available: CPU"):
        load_model(tiny_models.ov_stateful, device="NPU")
    with pytest.raises(BackendError, match="threads must be a positive"):
        load_model(tiny_models.onnx, threads=0)


def _onnx_graph(folder: Path, inputs: list[str], *, past: bool) -> None:
    """A graph that is a decoder in name only: wrong or missing inputs."""
    import onnx
    from onnx import TensorProto, helper

    values = [helper.make_tensor_value_info(n, TensorProto.INT64, [1, "s"]) for n in inputs]
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, "s", 512])]
    table = helper.make_tensor(
        "table", TensorProto.FLOAT, [512, 512], np.zeros(512 * 512, np.float32)
    )
    nodes = [helper.make_node("Gather", ["table", "input_ids"], ["logits"])]
    if past:
        for i in range(TINY.num_hidden_layers):
            for kind in ("key", "value"):
                values.append(
                    helper.make_tensor_value_info(
                        f"past_key_values.{i}.{kind}", TensorProto.FLOAT, [1, 2, "p", 16]
                    )
                )
                outputs.append(
                    helper.make_tensor_value_info(
                        f"present.{i}.{kind}", TensorProto.FLOAT, [1, 2, "p", 16]
                    )
                )
                nodes.append(
                    helper.make_node(
                        "Identity", [f"past_key_values.{i}.{kind}"], [f"present.{i}.{kind}"]
                    )
                )
    graph = helper.make_graph(nodes, "g", values, outputs, [table])
    onnx.save_model(
        helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]),
        str(folder / "model.onnx"),
    )


@pytest.mark.parametrize(
    ("inputs", "past", "message"),
    [
        (["input_ids", "attention_mask"], False, "no past_key_values.* inputs: export it with KV"),
        (["input_ids"], True, "no 'attention_mask' input"),
        (["input_ids", "attention_mask", "token_type_ids"], True, "unsupported graph inputs"),
    ],
)
def test_graph_signature_errors(
    tiny_models: TinyModels, tmp_path: Path, inputs: list[str], past: bool, message: str
):
    folder = tiny_models.copy(tiny_models.onnx, tmp_path / "m")
    _onnx_graph(folder, inputs, past=past)
    with pytest.raises(ModelSignatureError, match=message):
        load_model(folder)


def test_external_data_weights_give_same_logits(tiny_models: TinyModels):
    inline = load_model(tiny_models.onnx).backend
    external = load_model(tiny_models.onnx_external).backend
    ids = [5, 17, 99, 200]
    np.testing.assert_array_equal(inline.prefill(ids, 0), external.prefill(ids, 0))


def test_openvino_properties_are_passed(tiny_models: TinyModels):
    model = load_model(tiny_models.ov_stateful, openvino_properties=F32, threads=1)
    assert model.generate("hello", max_new_tokens=2).token_ids
    with pytest.raises(BackendError, match="NO_SUCH_PROPERTY"):
        load_model(tiny_models.ov_stateful, openvino_properties={"NO_SUCH_PROPERTY": "1"})


def test_padded_model_vocabulary_is_accepted(tmp_path: Path):
    """Models often have more logits than tokens (padded embeddings): never sampled."""
    tokenizer = train_tokenizer(TINY.vocab_size - 64)
    folder = write_onnx_model(tmp_path / "padded", TINY, tokenizer=tokenizer, seed=3)
    model = load_model(folder)
    assert model.folder.tokenizer_vocab_size == TINY.vocab_size - 64
    out = model.generate("hello", max_new_tokens=30, temperature=2.0, seed=1)
    assert max(out.token_ids) < TINY.vocab_size - 64
