"""OpenVINO backend for optimum-intel IR exports, stateful (KV cache inside) or stateless.

A stateful model keeps its KV cache in variables of the infer request: ``reset_state()`` starts
a sequence, ``beam_idx`` (all zeros, batch 1) is fed when present, and snapshots are copies of
the variable states. A stateless model takes ``past_key_values.*`` like the ONNX export.
``device`` is any OpenVINO device name (``CPU``, ``GPU``, ``NPU``, ``AUTO``...).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import openvino as ov

from .backend import Signature, check_signature, drop_range, step_inputs
from .errors import BackendError, ModelSignatureError
from .model_folder import ModelFolder

_DTYPES = {ov.Type.f32: np.float32, ov.Type.f16: np.float16}


class OpenVinoBackend:
    """One compiled model, one infer request, and the KV cache of the sequence being decoded."""

    name = "openvino"

    def __init__(
        self,
        folder: ModelFolder,
        device: str = "CPU",
        threads: int | None = None,
        properties: Mapping[str, str] | None = None,
    ) -> None:
        core = ov.Core()
        file = folder.model_file
        try:
            model = core.read_model(str(file))
        except Exception as exc:
            raise ModelSignatureError(file, f"OpenVINO cannot read the IR: {exc}") from exc
        inputs = {p.get_any_name(): p for p in model.inputs}
        outputs = {p.get_any_name(): p for p in model.outputs}
        self.stateful = bool(model.get_sinks())
        self.signature: Signature = check_signature(
            file, inputs, outputs, folder.config.num_layers, stateful=self.stateful
        )
        width = outputs["logits"].get_partial_shape()[-1]
        self.vocab_size: int = width.get_length() if width.is_static else folder.config.vocab_size
        config: dict[str, object] = dict(properties or {})
        if threads is not None:
            config["INFERENCE_NUM_THREADS"] = threads
        try:
            compiled = core.compile_model(model, device, config)
        except Exception as exc:
            raise BackendError(
                f"OpenVINO cannot compile {file.name} for device {device!r} "
                f"(available: {', '.join(core.available_devices)}): {exc}"
            ) from exc
        self.compiled_model = compiled  # public for inspection and benchmarks
        self._request = compiled.create_infer_request()
        self._logits_port = compiled.output("logits")
        self._present_ports = [compiled.output(n) for n in self.signature.present_names]
        if not self.stateful:
            first = inputs[self.signature.past_names[0]]
            dtype = _DTYPES.get(first.get_element_type())
            if dtype is None:
                raise ModelSignatureError(
                    file, f"KV cache type {first.get_element_type()} is not f32 or f16"
                )
            shape = first.get_partial_shape()
            heads = shape[1].get_length() if shape[1].is_static else folder.config.num_kv_heads
            dim = shape[3].get_length() if shape[3].is_static else folder.config.head_dim
            self._empty = np.zeros((1, heads, 0, dim), dtype=dtype)
        self._beam_idx = np.zeros(1, dtype=np.int32)
        self._past: list[np.ndarray] = []
        self._length = 0
        self.reset()

    @property
    def cache_length(self) -> int:
        return self._length

    def reset(self) -> None:
        if self.stateful:
            self._request.reset_state()
        else:
            self._past = [self._empty] * len(self.signature.past_names)
        self._length = 0

    def prefill(self, token_ids: Sequence[int], start_position: int) -> np.ndarray:
        count = len(token_ids)
        total = self._length + count
        feeds = step_inputs(self.signature, token_ids, start_position, self._length)
        if self.signature.beam_idx:
            feeds["beam_idx"] = self._beam_idx
        feeds.update(zip(self.signature.past_names, self._past, strict=True))
        try:
            self._request.infer(feeds, share_inputs=True)
        except Exception as exc:
            raise BackendError(f"OpenVINO failed on {count} tokens: {exc}") from exc
        if not self.stateful:
            self._past = [self._request.get_tensor(p).data.copy() for p in self._present_ports]
        self._length = total
        logits = self._request.get_tensor(self._logits_port).data[0, -1]
        return np.array(logits, dtype=np.float32)

    def step(self, token_id: int, position: int) -> np.ndarray:
        return self.prefill((token_id,), position)

    def snapshot(self) -> object:
        if self.stateful:
            states = {s.name: s.state.data.copy() for s in self._request.query_state()}
            return (states, self._length)
        return (list(self._past), self._length)

    def restore(self, snapshot: object) -> None:
        assert isinstance(snapshot, tuple)
        saved, length = snapshot
        if self.stateful:
            for state in self._request.query_state():
                state.state = ov.Tensor(np.array(saved[state.name]))
        else:
            self._past = list(saved)
        self._length = length

    def drop(self, start: int, stop: int) -> None:
        if not 0 <= start <= stop <= self._length:
            raise ValueError(f"cannot drop cache entries {start}:{stop} of {self._length}")
        if self.stateful:
            for state in self._request.query_state():
                state.state = ov.Tensor(drop_range(state.state.data, start, stop))
        else:
            self._past = [drop_range(v, start, stop) for v in self._past]
        self._length -= stop - start
