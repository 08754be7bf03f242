"""Exceptions of the local model runtime; each message says which file or value is wrong."""

from __future__ import annotations

from pathlib import Path


class ModelError(Exception):
    """Base class: anything wrong with a model folder, its files or running it."""


class ModelFolderError(ModelError):
    """A model folder problem tied to one file (or the folder itself)."""

    def __init__(self, path: Path | str, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


class ModelNotFoundError(ModelFolderError):
    """The model folder, or a file the model needs, does not exist."""


class ModelFormatError(ModelFolderError):
    """The folder holds no supported export, or not the one the requested backend needs."""


class ModelSignatureError(ModelFolderError):
    """The graph's inputs/outputs do not match a supported decoder signature."""


class ModelConfigError(ModelFolderError):
    """config.json, generation_config.json or tokenizer_config.json is unreadable or incomplete."""


class TokenizerError(ModelFolderError):
    """tokenizer.json cannot be loaded, or does not match the model's vocabulary."""


class ChatTemplateError(ModelFolderError):
    """The chat template does not compile or fails to render."""


class BackendError(ModelError):
    """The inference runtime is missing, rejects the model or the device, or fails while running."""


class ContextOverflowError(ModelError):
    """The prompt does not fit in the model's context."""

    def __init__(self, prompt_tokens: int, max_context: int) -> None:
        self.prompt_tokens = prompt_tokens
        self.max_context = max_context
        super().__init__(
            f"the prompt has {prompt_tokens} tokens but the context holds at most {max_context}; "
            "shorten the prompt or raise max_context"
        )


class GrammarError(ModelError):
    """A JSON schema or Lark grammar is invalid, or cannot be used with this tokenizer."""


class QuantizationError(ModelError):
    """A model cannot be quantized as asked (format, method, missing tool, output folder)."""
