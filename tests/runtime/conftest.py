"""Tiny real decoder models (random weights), built once per test session without torch."""

from __future__ import annotations

import pytest
from runtime_fixtures import TinyModels

from edgeward.runtime.random_model import (
    TINY,
    train_tokenizer,
    write_onnx_model,
    write_openvino_model,
)


@pytest.fixture(scope="session")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> TinyModels:
    root = tmp_path_factory.mktemp("tiny-models")
    tokenizer = train_tokenizer(TINY.vocab_size)
    onnx = write_onnx_model(root / "onnx", TINY, tokenizer=tokenizer)
    return TinyModels(
        onnx=onnx,
        onnx_external=write_onnx_model(
            root / "onnx-external", TINY, tokenizer=tokenizer, external_data=True
        ),
        onnx_merged=write_onnx_model(root / "onnx-merged", TINY, tokenizer=tokenizer, merged=True),
        ov_stateful=write_openvino_model(onnx, root / "ov-stateful", stateful=True),
        ov_stateless=write_openvino_model(onnx, root / "ov-stateless", stateful=False),
    )
