"""``load_model``: a model folder, its backend and the generation loop behind one object."""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from tokenizers import Tokenizer

from .backend import Backend
from .constrained import CompiledGrammar, TokenizerInfo, compile_json_schema, tokenizer_info
from .errors import BackendError, ModelConfigError, TokenizerError
from .generate import Decoder, Generation
from .model_folder import BackendName, ChatTemplate, ModelFolder, open_model_folder

DEFAULT_MAX_CONTEXT = 4096


class LocalModel:
    """A loaded decoder model. Thread-safe by serialisation: one generation runs at a time."""

    def __init__(
        self,
        folder: ModelFolder,
        backend: Backend,
        *,
        max_context: int | None = None,
        sliding_window: bool = False,
    ) -> None:
        self.folder = folder
        self.backend = backend
        if folder.config.vocab_size != backend.vocab_size:
            raise ModelConfigError(
                folder.path / "config.json",
                f"vocab_size is {folder.config.vocab_size} but {folder.model_file.name} "
                f"outputs {backend.vocab_size} logits",
            )
        if folder.tokenizer_vocab_size > backend.vocab_size:
            raise TokenizerError(
                folder.path / "tokenizer.json",
                f"tokenizer has {folder.tokenizer_vocab_size} tokens but "
                f"{folder.model_file.name} outputs only {backend.vocab_size} logits",
            )
        positions = folder.config.max_position_embeddings
        context = max_context or min(positions or DEFAULT_MAX_CONTEXT, DEFAULT_MAX_CONTEXT)
        if positions is not None and context > positions and not sliding_window:
            raise ModelConfigError(
                folder.path / "config.json",
                f"max_context {context} exceeds max_position_embeddings {positions}",
            )
        self.max_context = context
        self._decoder = Decoder(
            backend,
            folder.tokenizer,
            folder.eos_token_ids,
            tokenizer_vocab_size=folder.tokenizer_vocab_size,
            max_context=context,
            max_positions=positions,
            sliding_window=sliding_window,
        )
        self._lock = threading.Lock()

    @property
    def tokenizer(self) -> Tokenizer:
        return self.folder.tokenizer

    @property
    def chat_template(self) -> ChatTemplate:
        return self.folder.chat_template

    @property
    def eos_token_ids(self) -> tuple[int, ...]:
        return self.folder.eos_token_ids

    @cached_property
    def tokenizer_info(self) -> TokenizerInfo:
        """The tokenizer as llguidance needs it (built on first use: ~1 s for big vocabularies)."""
        return tokenizer_info(self.tokenizer, self.backend.vocab_size, self.eos_token_ids)

    def render_chat(
        self, messages: Sequence[Mapping[str, Any]], *, add_generation_prompt: bool = True
    ) -> str:
        return self.chat_template.render(messages, add_generation_prompt=add_generation_prompt)

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` as-is (a rendered chat already holds its special tokens)."""
        return list(self.tokenizer.encode(text, add_special_tokens=False).ids)

    def compile_json_schema(
        self, schema: Mapping[str, Any], *, key: str | None = None
    ) -> CompiledGrammar:
        return compile_json_schema(self.tokenizer_info, schema, key=key)

    def generate(
        self,
        prompt_or_ids: str | Sequence[int],
        *,
        max_new_tokens: int,
        grammar: CompiledGrammar | None = None,
        prefix_cache_key: str | None = None,
        temperature: float = 0.0,
        top_p: float = 1.0,
        seed: int | None = None,
        stop: Sequence[str] = (),
        veto: Mapping[int, Collection[int]] | None = None,
        begun: Sequence[int] = (),
        pin: int | None = None,
    ) -> Generation:
        """Continue a prompt (text or token ids); see :mod:`generate` for the semantics."""
        ids = self.encode(prompt_or_ids) if isinstance(prompt_or_ids, str) else list(prompt_or_ids)
        if grammar is not None and grammar.info is not self.tokenizer_info:
            raise ValueError("the grammar was compiled for another model's tokenizer")
        with self._lock:
            return self._decoder.generate(
                ids,
                max_new_tokens=max_new_tokens,
                grammar=grammar,
                prefix_cache_key=prefix_cache_key,
                temperature=temperature,
                top_p=top_p,
                seed=seed,
                stop=stop,
                veto=veto,
                begun=begun,
                pin=pin,
            )

    def clear_prefix_cache(self) -> None:
        with self._lock:
            self._decoder.clear_prefix_cache()


def load_model(
    path: Path | str,
    backend: BackendName = "auto",
    device: str = "CPU",
    threads: int | None = None,
    *,
    max_context: int | None = None,
    sliding_window: bool = False,
    openvino_properties: Mapping[str, str] | None = None,
) -> LocalModel:
    """Load an Optimum ONNX or OpenVINO export folder (settings ``[model] path/backend/...``).

    ``openvino_properties`` are passed to ``compile_model`` (e.g. ``INFERENCE_PRECISION_HINT``).
    """
    if threads is not None and threads < 1:
        raise BackendError(f"threads must be a positive integer, got {threads}")
    folder = open_model_folder(path, backend)
    engine: Backend
    if folder.format == "onnx":
        from .backend_onnx import OnnxBackend

        engine = OnnxBackend(folder, device=device, threads=threads)
    else:
        from .backend_openvino import OpenVinoBackend

        engine = OpenVinoBackend(
            folder, device=device, threads=threads, properties=openvino_properties
        )
    return LocalModel(folder, engine, max_context=max_context, sliding_window=sliding_window)
