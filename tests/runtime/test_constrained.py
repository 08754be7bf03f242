"""Constrained decoding: whatever the (random) model wants, the output validates."""

from __future__ import annotations

import json

import jsonschema
import pytest
from runtime_fixtures import F32, TinyModels

from edgeward.runtime.constrained import compile_json_schema, compile_lark
from edgeward.runtime.errors import GrammarError
from edgeward.runtime.local_model import LocalModel, load_model

TOOL_CALL = {
    "type": "object",
    "properties": {
        "tool": {"enum": ["light.turn_on", "light.turn_off", "climate.set_temperature"]},
        "args": {
            "type": "object",
            "properties": {
                "entity_id": {"enum": ["light.kitchen", "light.living_room", "climate.hall"]},
                "brightness": {"type": "integer", "minimum": 0, "maximum": 255},
                "temperature": {"type": "number", "minimum": 7, "maximum": 30},
                "transition": {"type": "integer", "minimum": 0, "maximum": 60},
            },
            "required": ["entity_id", "brightness"],
            "additionalProperties": False,
        },
    },
    "required": ["tool", "args"],
    "additionalProperties": False,
}
PROMPT = "<|im_start|>user\nturn on the kitchen light<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def onnx_model(tiny_models: TinyModels) -> LocalModel:
    return load_model(tiny_models.onnx)


def test_output_always_validates_across_seeds(onnx_model: LocalModel):
    grammar = onnx_model.compile_json_schema(TOOL_CALL, key="catalog-1")
    for seed in range(40):
        out = onnx_model.generate(
            PROMPT,
            max_new_tokens=120,
            grammar=grammar,
            temperature=1.5 if seed % 2 else 1.0,
            top_p=0.95 if seed % 3 == 0 else 1.0,
            seed=seed,
        )
        assert out.stop_reason == "grammar", out
        call = json.loads(out.text)
        jsonschema.validate(call, TOOL_CALL)
        assert list(call) == ["tool", "args"]  # the schema's property order is kept
        assert out.model_calls < len(out.token_ids)  # forced tokens rode along
        assert out.forced_tokens > 0
        assert len(out.logprobs) == len(out.token_ids)
        assert all(lp <= 0.0 for lp in out.logprobs)


@pytest.mark.parametrize("which", ["ov_stateful", "ov_stateless"])
def test_openvino_constrained_matches_onnx(
    tiny_models: TinyModels, onnx_model: LocalModel, which: str
):
    ov_model = load_model(getattr(tiny_models, which), openvino_properties=F32)
    for seed in range(3):
        ov_out = ov_model.generate(
            PROMPT,
            max_new_tokens=120,
            grammar=ov_model.compile_json_schema(TOOL_CALL),
            temperature=1.0,
            seed=seed,
        )
        jsonschema.validate(json.loads(ov_out.text), TOOL_CALL)
        onnx_out = onnx_model.generate(
            PROMPT,
            max_new_tokens=120,
            grammar=onnx_model.compile_json_schema(TOOL_CALL),
            temperature=1.0,
            seed=seed,
        )
        assert ov_out.token_ids == onnx_out.token_ids


def test_fast_forward_saves_model_calls(onnx_model: LocalModel):
    grammar = onnx_model.compile_json_schema(TOOL_CALL)
    out = onnx_model.generate(PROMPT, max_new_tokens=120, grammar=grammar)
    sampled = len(out.token_ids) - out.forced_tokens
    # One prompt call, then one call per sampled token except the last (the grammar ends).
    assert out.model_calls == sampled
    forced = [lp for lp in out.logprobs if lp == 0.0]
    assert len(forced) >= out.forced_tokens


def test_compiled_grammars_are_cached_by_key(onnx_model: LocalModel):
    info = onnx_model.tokenizer_info
    first = compile_json_schema(info, TOOL_CALL, key="v7")
    assert compile_json_schema(info, TOOL_CALL, key="v7") is first
    unkeyed = compile_json_schema(info, TOOL_CALL)
    assert compile_json_schema(info, dict(TOOL_CALL)) is unkeyed
    other = compile_json_schema(info, {"type": "object", "properties": {"x": {"enum": ["a"]}}})
    assert other is not unkeyed


def test_lark_grammar(onnx_model: LocalModel):
    grammar = compile_lark(onnx_model.tokenizer_info, 'start: "on" | "off" | "toggle"')
    texts = {
        onnx_model.generate(
            PROMPT, max_new_tokens=10, grammar=grammar, temperature=1.0, seed=s
        ).text
        for s in range(12)
    }
    assert texts <= {"on", "off", "toggle"} and texts


def test_invalid_grammars_are_rejected(onnx_model: LocalModel):
    info = onnx_model.tokenizer_info
    with pytest.raises(GrammarError, match="invalid Lark grammar"):
        compile_lark(info, "start: undefined_rule")
    with pytest.raises(GrammarError, match="invalid JSON schema"):
        compile_json_schema(info, {"type": "no-such-type"})
    with pytest.raises(GrammarError, match="invalid JSON schema"):
        compile_json_schema(info, {"enum": [object()]})


def test_grammar_of_another_model_is_refused(tiny_models: TinyModels, onnx_model: LocalModel):
    other = load_model(tiny_models.onnx_external)
    grammar = other.compile_json_schema(TOOL_CALL)
    with pytest.raises(ValueError, match="another model's tokenizer"):
        onnx_model.generate(PROMPT, max_new_tokens=5, grammar=grammar)
