"""Shared helpers of the runtime tests: the tiny model folders and exact-precision settings."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

F32 = {"INFERENCE_PRECISION_HINT": "f32", "KV_CACHE_PRECISION": "f32"}
"""OpenVINO properties for exact comparisons (CPUs with AMX/bf16 default to lower precision)."""


@dataclass(frozen=True)
class TinyModels:
    onnx: Path
    onnx_external: Path
    onnx_merged: Path
    ov_stateful: Path
    ov_stateless: Path

    def copy(self, which: Path, destination: Path) -> Path:
        """A private copy of one folder, free to break."""
        return Path(shutil.copytree(which, destination))
