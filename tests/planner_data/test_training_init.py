"""``train --init`` continues from an exported model folder: its tokenizer and its weights
(needs the ``train`` extra: torch)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("onnxruntime")

import torch

from edgeward.runtime.requests_data import generate
from edgeward.runtime.training.export import export_model
from edgeward.runtime.training.model import Decoder, DecoderConfig
from edgeward.runtime.training.packing import texts_for_tokenizer
from edgeward.runtime.training.reexport import decoder_from_onnx
from edgeward.runtime.training.tokenizer import train_tokenizer
from edgeward.runtime.training.train import main


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tokenizer = train_tokenizer(texts_for_tokenizer(generate("train", 200, seed=3)), 400)
    cfg = DecoderConfig(
        vocab_size=tokenizer.get_vocab_size(),
        hidden_size=48,
        num_attention_heads=6,
        num_key_value_heads=2,
        intermediate_size=64,
    )
    torch.manual_seed(4)
    folder = tmp_path_factory.mktemp("init") / "model"
    export_model(Decoder(cfg), tokenizer, folder, training_report={"run": "test"})
    return folder


def test_a_run_from_a_folder_keeps_its_tokenizer_and_starts_from_its_weights(
    exported: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "continued"
    # a budget shorter than making the first batch: no step is taken, so the export is the start
    assert main(["--init", str(exported), "--out", str(out), "--minutes", "0.0001"]) == 0
    assert "held-out token acc" in capsys.readouterr().out.split("\n")[1]
    report = json.loads((out / "training.json").read_text())
    assert report["steps"] == 0 and report["continued_from"] == {"run": "test"}
    assert (out / "tokenizer.json").read_bytes() == (exported / "tokenizer.json").read_bytes()
    start, continued = decoder_from_onnx(exported), decoder_from_onnx(out)
    assert continued.cfg == start.cfg
    for name, weight in start.state_dict().items():
        # quantizing weights already on an int8 grid again moves them by rounding at most
        step = 2 * float(weight.abs().max()) / 127
        torch.testing.assert_close(continued.state_dict()[name], weight, atol=step, rtol=0)


def test_a_folder_that_cannot_be_read_stops_the_run_with_a_message(tmp_path: Path) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    with pytest.raises(SystemExit, match=f"train: --init {folder}: "):
        main(["--init", str(folder), "--out", str(tmp_path / "out"), "--minutes", "1"])
    assert not (tmp_path / "out").exists()
