"""The generation loop on real ONNX Runtime and OpenVINO sessions of the tiny model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from runtime_fixtures import F32, TinyModels

from edgeward.runtime.errors import ContextOverflowError
from edgeward.runtime.local_model import LocalModel, load_model
from edgeward.runtime.random_model import TINY

SYSTEM = "<|im_start|>system\nset temperature to value in the kitchen and living room<|im_end|>\n"
PROMPTS = [
    SYSTEM + "<|im_start|>user\nturn on the garage light please<|im_end|>\n<|im_start|>assistant\n",
    SYSTEM + "<|im_start|>user\nlock the door<|im_end|>\n<|im_start|>assistant\n",
]
SHORT = "<|im_start|>user\nlock the door<|im_end|>\n<|im_start|>assistant\n"


def _open(tiny_models: TinyModels, which: str, **kwargs: object) -> LocalModel:
    return load_model(getattr(tiny_models, which), openvino_properties=F32, **kwargs)


def _full_logits(folder: Path, ids: list[int]) -> np.ndarray:
    """Logits of every position in one pass with an empty cache (no KV reuse at all)."""
    session = ort.InferenceSession(str(folder / "model.onnx"))
    n = len(ids)
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, n), dtype=np.int64),
        "position_ids": np.arange(n, dtype=np.int64)[None],
    }
    empty = np.zeros((1, TINY.num_key_value_heads, 0, TINY.head_dim), dtype=np.float32)
    for i in range(TINY.num_hidden_layers):
        feeds[f"past_key_values.{i}.key"] = empty
        feeds[f"past_key_values.{i}.value"] = empty
    return session.run(["logits"], feeds)[0][0]


@pytest.mark.parametrize("which", ["onnx", "ov_stateful", "ov_stateless", "onnx_merged"])
def test_kv_cache_loop_equals_full_sequence(tiny_models: TinyModels, which: str):
    model = _open(tiny_models, which)
    prompt = model.encode(PROMPTS[0])
    out = model.generate(prompt, max_new_tokens=24)
    assert out.stop_reason == "max_tokens"
    assert len(out.token_ids) == 24 and out.model_calls == 24
    logits = _full_logits(tiny_models.onnx, prompt + list(out.token_ids))
    for k, token in enumerate(out.token_ids):
        row = logits[len(prompt) - 1 + k]
        assert int(np.argmax(row)) == token
        expected = row[token] - np.log(np.sum(np.exp(row - row.max()))) - row.max()
        assert out.logprobs[k] == pytest.approx(expected, abs=1e-4)


def test_runtimes_agree_on_greedy_output(tiny_models: TinyModels):
    outputs = {}
    for which in ("onnx", "onnx_external", "onnx_merged", "ov_stateful", "ov_stateless"):
        model = _open(tiny_models, which)
        outputs[which] = [model.generate(p, max_new_tokens=32).token_ids for p in PROMPTS]
    first = outputs["onnx"]
    assert all(tokens == first for tokens in outputs.values()), outputs


def test_openvino_default_precision_runs(tiny_models: TinyModels):
    """Without the f32 hints (bf16 on AMX machines) the model still decodes to the end."""
    out = load_model(tiny_models.ov_stateful).generate(PROMPTS[0], max_new_tokens=8)
    assert len(out.token_ids) == 8


@pytest.mark.parametrize(
    ("which", "exact"),
    [("onnx", True), ("ov_stateful", True), ("ov_stateless", True), ("ov_stateful", False)],
)
def test_prefix_cache_reuse_equals_cold_run(tiny_models: TinyModels, which: str, exact: bool):
    """``exact=False``: OpenVINO's own defaults (bf16 / u8 KV cache on this kind of CPU)."""
    properties = F32 if exact else None
    warm = load_model(getattr(tiny_models, which), openvino_properties=properties)
    cold = load_model(getattr(tiny_models, which), openvino_properties=properties)
    first = warm.generate(PROMPTS[0], max_new_tokens=12, prefix_cache_key="home")
    assert first.reused_prompt_tokens == 0
    second = warm.generate(PROMPTS[1], max_new_tokens=12, prefix_cache_key="home")
    system_tokens = len(warm.encode(SYSTEM))
    assert second.reused_prompt_tokens >= system_tokens
    reference = cold.generate(PROMPTS[1], max_new_tokens=12)
    assert second.token_ids == reference.token_ids
    np.testing.assert_allclose(second.logprobs, reference.logprobs, atol=1e-4)
    # The same prompt again reuses all but its last token, and a key miss runs cold.
    again = warm.generate(PROMPTS[1], max_new_tokens=12, prefix_cache_key="home")
    assert again.reused_prompt_tokens == second.prompt_tokens - 1
    assert again.token_ids == reference.token_ids
    other = warm.generate(PROMPTS[1], max_new_tokens=12, prefix_cache_key="other")
    assert other.reused_prompt_tokens == 0 and other.token_ids == reference.token_ids


def test_a_pinned_prefix_is_prefilled_alone_and_reused_only_whole(tiny_models: TinyModels):
    """With ``pin``, what a prompt gets does not depend on the prompt before it: the cache kept
    is of the pinned tokens alone, computed in calls of their own, as a cold run computes it."""
    warm = _open(tiny_models, "onnx")
    cold = _open(tiny_models, "onnx")
    head = len(warm.encode(SYSTEM))
    assert warm.encode(PROMPTS[1])[:head] == warm.encode(SYSTEM)
    first = warm.generate(PROMPTS[0], max_new_tokens=12, prefix_cache_key="home", pin=head)
    assert first.reused_prompt_tokens == 0
    second = warm.generate(PROMPTS[1], max_new_tokens=12, prefix_cache_key="home", pin=head)
    assert second.reused_prompt_tokens == head
    reference = cold.generate(PROMPTS[1], max_new_tokens=12, pin=head)
    assert second.token_ids == reference.token_ids
    assert second.logprobs == reference.logprobs
    # the same prompt again reuses the pin, not more; another head reuses nothing
    assert (
        warm.generate(PROMPTS[1], max_new_tokens=4, prefix_cache_key="home", pin=head)
    ).reused_prompt_tokens == head
    other = "<|im_start|>system\nanother home<|im_end|>\n" + SHORT
    pin = len(warm.encode("<|im_start|>system\nanother home<|im_end|>\n"))
    assert (
        warm.generate(other, max_new_tokens=4, prefix_cache_key="home", pin=pin)
    ).reused_prompt_tokens == 0
    for bad in (0, len(warm.encode(PROMPTS[1]))):
        with pytest.raises(ValueError, match="pin"):
            warm.generate(PROMPTS[1], max_new_tokens=1, prefix_cache_key="home", pin=bad)


@pytest.mark.parametrize("which", ["onnx", "ov_stateful", "ov_stateless"])
def test_dropping_cache_entries_matches_numpy_reference(tiny_models: TinyModels, which: str):
    """Evicting entries (sliding window, prefix roll-back) equals slicing the KV tensors of a
    bare ONNX Runtime pass; the next token keeps its own position."""
    backend = _open(tiny_models, which).backend
    ids = list(range(10, 40))
    backend.reset()
    backend.prefill(ids, 0)
    backend.drop(4, 14)
    assert backend.cache_length == 20
    windowed = backend.step(77, 30)

    session = ort.InferenceSession(str(tiny_models.onnx / "model.onnx"))
    names = [f"present.{i}.{k}" for i in range(TINY.num_hidden_layers) for k in ("key", "value")]
    feeds = {
        "input_ids": np.array([ids], dtype=np.int64),
        "attention_mask": np.ones((1, 30), dtype=np.int64),
        "position_ids": np.arange(30, dtype=np.int64)[None],
    }
    empty = np.zeros((1, TINY.num_key_value_heads, 0, TINY.head_dim), dtype=np.float32)
    for name in names:
        feeds[name.replace("present.", "past_key_values.")] = empty
    presents = session.run(names, feeds)
    step = {
        "input_ids": np.array([[77]], dtype=np.int64),
        "attention_mask": np.ones((1, 21), dtype=np.int64),
        "position_ids": np.array([[30]], dtype=np.int64),
    }
    for name, value in zip(names, presents, strict=True):
        kept = np.concatenate([value[:, :, :4], value[:, :, 14:]], axis=2)
        step[name.replace("present.", "past_key_values.")] = kept
    reference = session.run(["logits"], step)[0][0, -1]
    np.testing.assert_allclose(windowed, reference, atol=1e-4)


def test_sliding_window_bounds_the_cache(tiny_models: TinyModels):
    bounded = _open(tiny_models, "onnx", max_context=48, sliding_window=True)
    prompt = bounded.encode(SHORT)
    out = bounded.generate(prompt, max_new_tokens=60)
    assert out.stop_reason == "max_tokens" and len(out.token_ids) == 60
    assert bounded.backend.cache_length <= 48
    unbounded = _open(tiny_models, "onnx").generate(prompt, max_new_tokens=60)
    untouched = 48 - len(prompt)  # tokens decoded before the first eviction
    assert out.token_ids[:untouched] == unbounded.token_ids[:untouched]


def test_context_limit_without_window(tiny_models: TinyModels):
    model = _open(tiny_models, "ov_stateful", max_context=40)
    prompt = model.encode(SHORT)
    out = model.generate(prompt, max_new_tokens=100)
    assert out.stop_reason == "context"
    assert len(prompt) + len(out.token_ids) == 41  # the last token needs no cache entry
    with pytest.raises(ContextOverflowError, match="the prompt has 50 tokens"):
        model.generate(list(range(10, 60)), max_new_tokens=1)


def test_sampling_is_seeded(tiny_models: TinyModels):
    model = _open(tiny_models, "onnx")
    runs = [
        model.generate(PROMPTS[0], max_new_tokens=16, temperature=1.0, seed=s) for s in (1, 1, 2)
    ]
    assert runs[0].token_ids == runs[1].token_ids
    assert runs[0].token_ids != runs[2].token_ids
    greedy = model.generate(PROMPTS[0], max_new_tokens=16)
    nucleus = model.generate(PROMPTS[0], max_new_tokens=16, temperature=1.0, top_p=1e-6, seed=3)
    assert nucleus.token_ids == greedy.token_ids
    assert all(lp <= 0.0 for lp in runs[2].logprobs)


def test_stop_string_cuts_the_text(tiny_models: TinyModels):
    model = _open(tiny_models, "onnx")
    full = model.generate(PROMPTS[0], max_new_tokens=30)
    marker = full.text[10:13]
    cut = model.generate(PROMPTS[0], max_new_tokens=30, stop=(marker, "\x00never"))
    assert cut.stop_reason == "stop"
    assert cut.text == full.text[: full.text.find(marker)]
    assert full.token_ids[: len(cut.token_ids)] == cut.token_ids


def test_eos_stops_generation(tiny_models: TinyModels, tmp_path: Path):
    folder = tiny_models.copy(tiny_models.onnx, tmp_path / "m")
    greedy = load_model(folder).generate(PROMPTS[0], max_new_tokens=10)
    (folder / "generation_config.json").write_text(
        json.dumps({"eos_token_id": greedy.token_ids[5]})
    )
    out = load_model(folder).generate(PROMPTS[0], max_new_tokens=10)
    first = greedy.token_ids.index(greedy.token_ids[5])
    assert out.stop_reason == "eos"
    assert out.token_ids == greedy.token_ids[:first]


def test_a_veto_takes_the_next_best_token_there_and_nowhere_else(tiny_models: TinyModels):
    model = _open(tiny_models, "onnx")
    prompt = model.encode(PROMPTS[0])
    first = model.generate(prompt, max_new_tokens=12)
    k = 5
    retry = model.generate(prompt, max_new_tokens=12, veto={k: {first.token_ids[k]}})
    assert retry.token_ids[:k] == first.token_ids[:k]
    assert retry.token_ids[k] != first.token_ids[k]
    row = _full_logits(tiny_models.onnx, prompt + list(first.token_ids[:k]))[-1]
    row[first.token_ids[k]] = -np.inf
    assert retry.token_ids[k] == int(np.argmax(row[: model.folder.tokenizer_vocab_size]))
    # two tokens barred at one place: the third best
    third = model.generate(
        prompt, max_new_tokens=12, veto={k: {first.token_ids[k], retry.token_ids[k]}}
    )
    row[retry.token_ids[k]] = -np.inf
    assert third.token_ids[k] == int(np.argmax(row[: model.folder.tokenizer_vocab_size]))
    # begun with the first generation's tokens before the veto: the same continuation, with
    # those tokens fed in one call rather than decoded one by one
    resumed = model.generate(
        prompt, max_new_tokens=12, veto={k: {first.token_ids[k]}}, begun=first.token_ids[:k]
    )
    assert resumed.token_ids == retry.token_ids
    assert resumed.logprobs[:k] == (0.0,) * k
    assert resumed.logprobs[k:] == pytest.approx(retry.logprobs[k:], abs=1e-4)
    assert resumed.model_calls < retry.model_calls


def test_a_call_begun_as_a_recent_generation_went_resumes_its_cache(tiny_models: TinyModels):
    model = _open(tiny_models, "onnx")
    prompt = model.encode(PROMPTS[0])
    first = model.generate(prompt, max_new_tokens=12)
    k = 5
    veto = {k: {first.token_ids[k]}}
    resumed = model.generate(prompt, max_new_tokens=12, veto=veto, begun=first.token_ids[:k])
    # the logits at k are the first generation's: the token barred there costs no model call
    assert resumed.reused_prompt_tokens == len(prompt)
    assert resumed.model_calls == len(resumed.token_ids) - k - 1
    row = _full_logits(tiny_models.onnx, prompt + list(first.token_ids[:k]))[-1]
    row[first.token_ids[k]] = -np.inf
    assert resumed.token_ids[k] == int(np.argmax(row[: model.folder.tokenizer_vocab_size]))
    # the same continuation as with nothing to resume from
    model.clear_prefix_cache()
    fresh = model.generate(prompt, max_new_tokens=12, veto=veto, begun=first.token_ids[:k])
    assert fresh.token_ids == resumed.token_ids
    assert fresh.logprobs == pytest.approx(resumed.logprobs, abs=1e-4)
    assert fresh.model_calls > resumed.model_calls
    # begun past where the cache's tokens part from it: rolled back there, the rest fed
    other = model.generate(PROMPTS[1], max_new_tokens=4)
    begun = [*first.token_ids[:3], other.token_ids[0], first.token_ids[4]]
    model.clear_prefix_cache()
    expected = model.generate(prompt, max_new_tokens=12, begun=begun)
    model.generate(prompt, max_new_tokens=12)
    assert model.generate(prompt, max_new_tokens=12, begun=begun).token_ids == expected.token_ids
    # another prompt's generation is never resumed from
    model.clear_prefix_cache()
    model.generate(PROMPTS[1], max_new_tokens=12)
    again = model.generate(prompt, max_new_tokens=12, begun=first.token_ids[:k])
    assert again.reused_prompt_tokens == 0
    assert again.token_ids[:k] == first.token_ids[:k]


def test_bad_arguments_are_rejected(tiny_models: TinyModels):
    model = _open(tiny_models, "onnx")
    for kwargs, message in (
        ({"max_new_tokens": 0}, "max_new_tokens"),
        ({"max_new_tokens": 1, "temperature": -1.0}, "temperature"),
        ({"max_new_tokens": 1, "top_p": 0.0}, "top_p"),
        ({"max_new_tokens": 1, "stop": ("",)}, "stop strings"),
    ):
        with pytest.raises(ValueError, match=message):
            model.generate("hello", **kwargs)
    with pytest.raises(ValueError, match="prompt is empty"):
        model.generate("", max_new_tokens=1)
