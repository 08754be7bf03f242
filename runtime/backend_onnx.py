"""ONNX Runtime backend for Optimum decoder exports (``model.onnx`` / ``decoder_model_merged``).

The KV cache is the list of ``present.*`` arrays of the last run, fed back as ``past_key_values.*``
(plain ``session.run``: IO binding measured slower per step on small models). Arrays are never
written in place, so a snapshot is a list of references.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import onnxruntime as ort

from .backend import Signature, check_signature, drop_range, step_inputs
from .errors import BackendError, ModelSignatureError
from .model_folder import ModelFolder

_DTYPES = {"tensor(float)": np.float32, "tensor(float16)": np.float16}


class OnnxBackend:
    """One ONNX Runtime session and the KV cache of the sequence being decoded."""

    name = "onnx"

    def __init__(
        self, folder: ModelFolder, device: str = "CPU", threads: int | None = None
    ) -> None:
        if device.upper() != "CPU":
            raise BackendError(
                f"the ONNX Runtime backend runs on CPU only, not {device!r}; "
                "use backend=openvino for GPU or NPU"
            )
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if threads is not None:
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
        file = folder.model_file
        try:
            self.session: ort.InferenceSession = ort.InferenceSession(
                str(file), options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:
            raise ModelSignatureError(file, f"ONNX Runtime cannot load the graph: {exc}") from exc
        # Public for inspection and benchmarks; running it between steps would not touch the cache.
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name: o for o in self.session.get_outputs()}
        self.signature: Signature = check_signature(file, inputs, outputs, folder.config.num_layers)
        first = inputs[self.signature.past_names[0]]
        dtype = _DTYPES.get(first.type)
        if dtype is None:
            raise ModelSignatureError(file, f"KV cache type {first.type} is not float or float16")
        heads, head_dim = first.shape[1], first.shape[3]
        heads = heads if isinstance(heads, int) else folder.config.num_kv_heads
        head_dim = head_dim if isinstance(head_dim, int) else folder.config.head_dim
        width = outputs["logits"].shape[-1]
        self.vocab_size: int = width if isinstance(width, int) else folder.config.vocab_size
        self._empty = np.zeros((1, heads, 0, head_dim), dtype)
        self._output_names = ["logits", *self.signature.present_names]
        self._past: list[np.ndarray] = []
        self._length = 0
        self.reset()

    @property
    def cache_length(self) -> int:
        return self._length

    def reset(self) -> None:
        self._past = [self._empty] * len(self.signature.past_names)
        self._length = 0

    def prefill(self, token_ids: Sequence[int], start_position: int) -> np.ndarray:
        count = len(token_ids)
        total = self._length + count
        feeds = step_inputs(self.signature, token_ids, start_position, self._length)
        feeds.update(zip(self.signature.past_names, self._past, strict=True))
        try:
            outputs = self.session.run(self._output_names, feeds)
        except Exception as exc:
            raise BackendError(f"ONNX Runtime failed on {count} tokens: {exc}") from exc
        self._past = outputs[1:]
        self._length = total
        logits: np.ndarray = outputs[0][0, -1]
        return logits.astype(np.float32, copy=False)

    def step(self, token_id: int, position: int) -> np.ndarray:
        return self.prefill((token_id,), position)

    def snapshot(self) -> object:
        # Each run returns new arrays and none is written in place: references are a snapshot.
        return (tuple(self._past), self._length)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, tuple)
        past, length = snapshot
        self._past = list(past)
        self._length = length

    def drop(self, start: int, stop: int) -> None:
        if not 0 <= start <= stop <= self._length:
            raise ValueError(f"cannot drop cache entries {start}:{stop} of {self._length}")
        self._past = [drop_range(v, start, stop) for v in self._past]
        self._length -= stop - start
