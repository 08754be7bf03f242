"""Read a model folder: detect the export format, load config, tokenizer and chat template.

Supported exports (what Hugging Face Optimum and optimum-intel write):

- ONNX: ``model.onnx`` (or ``model_quantized.onnx``, or the older ``decoder_model_merged.onnx``
  with a ``use_cache_branch`` input), weights inline or as external data;
- OpenVINO IR: ``openvino_model.xml`` + ``openvino_model.bin``, stateful or stateless.

Next to the graph: ``config.json`` (layer/head counts), ``tokenizer.json`` (loaded with the
``tokenizers`` library), ``tokenizer_config.json`` (chat template, special tokens; a template in
``chat_template.jinja`` also counts) and optionally ``generation_config.json`` (EOS ids). Every
problem raises a :mod:`errors` type whose message names the file and what is wrong.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from tokenizers import Tokenizer

from .errors import (
    ChatTemplateError,
    ModelConfigError,
    ModelFormatError,
    ModelNotFoundError,
    TokenizerError,
)

Format = Literal["onnx", "openvino"]
BackendName = Literal["auto", "onnx", "openvino"]

ONNX_FILES = ("model.onnx", "model_quantized.onnx", "decoder_model_merged.onnx")
OPENVINO_FILE = "openvino_model.xml"

PLAIN_TEMPLATE = (
    "{% for message in messages %}"
    "{{ message['role'] | capitalize }}: {{ message['content'] }}\n"
    "{% endfor %}"
    "{% if add_generation_prompt %}Assistant:{% endif %}"
)
"""Used when a model ships no chat template: role-prefixed plain text."""


@dataclass(frozen=True)
class ModelConfig:
    """What the runtime needs from ``config.json``."""

    model_type: str
    architecture: str
    num_layers: int
    num_attention_heads: int
    num_kv_heads: int
    head_dim: int
    vocab_size: int
    max_position_embeddings: int | None


class ChatTemplate:
    """A chat template compiled once in a sandboxed jinja2 environment."""

    def __init__(self, source: str, origin: Path | None, special: Mapping[str, str | None]) -> None:
        """``origin`` is the file the template came from (None for the plain fallback)."""
        from jinja2 import TemplateError
        from jinja2.ext import loopcontrols
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        self.source = source
        self.origin = origin
        self._special = dict(special)
        env = ImmutableSandboxedEnvironment(
            trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols]
        )
        env.filters["tojson"] = _tojson
        env.globals["raise_exception"] = _raise_template_exception
        env.globals["strftime_now"] = lambda fmt: datetime.now().strftime(fmt)
        try:
            self._template = env.from_string(source)
        except TemplateError as exc:
            raise ChatTemplateError(
                origin or "<plain template>", f"chat template does not compile: {exc}"
            ) from exc

    @property
    def is_fallback(self) -> bool:
        return self.origin is None

    def render(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        add_generation_prompt: bool = True,
        **extra: Any,
    ) -> str:
        """Render ``[{"role": ..., "content": ...}, ...]`` into the model's prompt text."""
        from jinja2 import TemplateError

        for index, message in enumerate(messages):
            if (
                not isinstance(message, Mapping)
                or "role" not in message
                or "content" not in message
            ):
                raise ChatTemplateError(
                    self.origin or "<plain template>",
                    f"message {index} needs 'role' and 'content' keys, got {message!r:.80}",
                )
        context = {**self._special, **extra}
        try:
            return self._template.render(
                messages=list(messages), add_generation_prompt=add_generation_prompt, **context
            )
        except TemplateError as exc:
            raise ChatTemplateError(
                self.origin or "<plain template>", f"chat template failed to render: {exc}"
            ) from exc


def _tojson(value: Any, indent: int | None = None) -> str:
    return json.dumps(value, ensure_ascii=False, indent=indent)


def _raise_template_exception(message: str) -> None:
    from jinja2 import TemplateError

    raise TemplateError(message)


@dataclass
class ModelFolder:
    """A validated model folder: which graph file to run and everything around it."""

    path: Path
    format: Format
    model_file: Path
    config: ModelConfig
    tokenizer: Tokenizer
    tokenizer_vocab_size: int
    chat_template: ChatTemplate
    eos_token_ids: tuple[int, ...]


def detect_format(path: Path, backend: BackendName = "auto") -> tuple[Format, Path]:
    """Pick the graph file for ``backend`` (``auto`` prefers ONNX when both exist)."""
    if backend not in ("auto", "onnx", "openvino"):
        raise ModelFormatError(path, f"backend must be auto, onnx or openvino, not {backend!r}")
    if not path.exists():
        raise ModelNotFoundError(path, "model folder does not exist")
    if not path.is_dir():
        raise ModelFormatError(path, "model path must be a folder (an Optimum export)")
    onnx_file = next((path / name for name in ONNX_FILES if (path / name).is_file()), None)
    xml = path / OPENVINO_FILE
    # auto prefers ONNX when both exist: ONNX Runtime runs under the hardened systemd unit
    # (MemoryDenyWriteExecute=yes), OpenVINO's CPU plugin generates code at run time.
    if backend in ("auto", "onnx") and onnx_file is not None:
        return "onnx", onnx_file
    if backend in ("auto", "openvino") and xml.is_file():
        if not xml.with_suffix(".bin").is_file():
            raise ModelNotFoundError(
                xml.with_suffix(".bin"), "OpenVINO weights file is missing (it belongs to the .xml)"
            )
        return "openvino", xml
    wanted = {
        "auto": f"{OPENVINO_FILE} or one of {', '.join(ONNX_FILES)}",
        "onnx": " or ".join(ONNX_FILES),
        "openvino": OPENVINO_FILE,
    }[backend]
    raise ModelFormatError(path, f"no model graph found for backend {backend}: expected {wanted}")


def _read_json(path: Path, *, required: bool) -> dict[str, Any]:
    if not path.is_file():
        if required:
            raise ModelNotFoundError(path, "file is missing from the model folder")
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelConfigError(path, f"not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ModelConfigError(path, "must hold a JSON object")
    return data


def _positive_int(data: Mapping[str, Any], key: str, path: Path, default: int | None = None) -> int:
    value = data.get(key, default)
    if value is None:
        raise ModelConfigError(path, f"field {key!r} is missing")
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ModelConfigError(path, f"field {key!r} must be a positive integer, got {value!r}")
    return value


def read_config(path: Path) -> ModelConfig:
    """Parse ``config.json`` (text config nested under ``text_config`` is accepted too)."""
    file = path / "config.json"
    data = _read_json(file, required=True)
    text = data.get("text_config") if isinstance(data.get("text_config"), dict) else data
    assert isinstance(text, dict)
    heads = _positive_int(text, "num_attention_heads", file)
    head_dim = text.get("head_dim")
    if head_dim is None:
        hidden = _positive_int(text, "hidden_size", file)
        if hidden % heads:
            raise ModelConfigError(
                file, f"hidden_size {hidden} is not divisible by num_attention_heads {heads}"
            )
        head_dim = hidden // heads
    max_pos = text.get("max_position_embeddings")
    architectures = data.get("architectures") or ["unknown"]
    return ModelConfig(
        model_type=str(data.get("model_type", "unknown")),
        architecture=str(architectures[0]),
        num_layers=_positive_int(text, "num_hidden_layers", file),
        num_attention_heads=heads,
        num_kv_heads=_positive_int(text, "num_key_value_heads", file, default=heads),
        head_dim=_positive_int({"head_dim": head_dim}, "head_dim", file),
        vocab_size=_positive_int(text, "vocab_size", file),
        max_position_embeddings=max_pos if isinstance(max_pos, int) and max_pos > 0 else None,
    )


def _token_text(value: Any) -> str | None:
    """A special token in tokenizer_config.json is a string or ``{"content": ...}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    return None


def load_tokenizer(path: Path) -> Tokenizer:
    """The ``tokenizer.json`` of model folder ``path``."""
    file = path / "tokenizer.json"
    if not file.is_file():
        raise ModelNotFoundError(file, "file is missing from the model folder")
    try:
        return Tokenizer.from_file(str(file))
    except Exception as exc:
        raise TokenizerError(file, f"cannot load tokenizer: {exc}") from exc


def _load_chat_template(path: Path, tokenizer_config: Mapping[str, Any]) -> ChatTemplate:
    special = {
        "bos_token": _token_text(tokenizer_config.get("bos_token")) or "",
        "eos_token": _token_text(tokenizer_config.get("eos_token")) or "",
    }
    source: Any = tokenizer_config.get("chat_template")
    origin = path / "tokenizer_config.json"
    if isinstance(
        source, list
    ):  # [{"name": "default", "template": ...}, {"name": "tool_use", ...}]
        named = {
            item.get("name"): item.get("template") for item in source if isinstance(item, dict)
        }
        source = named.get("default")
    if source is None and (path / "chat_template.jinja").is_file():
        origin = path / "chat_template.jinja"
        try:
            source = origin.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ChatTemplateError(origin, f"cannot read the template: {exc}") from exc
    if source is None:
        return ChatTemplate(PLAIN_TEMPLATE, None, special)
    if not isinstance(source, str):
        raise ChatTemplateError(
            origin, f"chat_template must be a string, got {type(source).__name__}"
        )
    return ChatTemplate(source, origin, special)


def _eos_ids(
    path: Path,
    tokenizer: Tokenizer,
    vocab: int,
    config: Mapping[str, Any],
    tok_cfg: Mapping[str, Any],
) -> tuple[int, ...]:
    generation = _read_json(path / "generation_config.json", required=False)
    for file, data in (("generation_config.json", generation), ("config.json", config)):
        raw = data.get("eos_token_id")
        if raw is None:
            continue
        ids = raw if isinstance(raw, list) else [raw]
        for value in ids:
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < vocab:
                raise ModelConfigError(
                    path / file, f"eos_token_id {value!r} is not a token id below {vocab}"
                )
        return tuple(dict.fromkeys(ids))
    eos_text = _token_text(tok_cfg.get("eos_token"))
    eos_id = tokenizer.token_to_id(eos_text) if eos_text else None
    if eos_id is None:
        raise ModelConfigError(
            path / "generation_config.json",
            "no end-of-sequence token: set eos_token_id here, in config.json, "
            "or eos_token in tokenizer_config.json",
        )
    return (eos_id,)


def open_model_folder(path: Path | str, backend: BackendName = "auto") -> ModelFolder:
    """Validate a model folder and load everything but the graph itself."""
    folder = Path(path).expanduser()
    fmt, model_file = detect_format(folder, backend)
    config = read_config(folder)
    config_data = _read_json(folder / "config.json", required=True)
    tokenizer = load_tokenizer(folder)
    tokenizer_size = tokenizer.get_vocab_size(with_added_tokens=True)
    if tokenizer_size > config.vocab_size:
        raise TokenizerError(
            folder / "tokenizer.json",
            f"tokenizer has {tokenizer_size} tokens but config.json says the model has "
            f"vocab_size {config.vocab_size}: tokenizer and model do not belong together",
        )
    tok_cfg = _read_json(folder / "tokenizer_config.json", required=False)
    return ModelFolder(
        path=folder,
        format=fmt,
        model_file=model_file,
        config=config,
        tokenizer=tokenizer,
        tokenizer_vocab_size=tokenizer_size,
        chat_template=_load_chat_template(folder, tok_cfg),
        eos_token_ids=_eos_ids(folder, tokenizer, config.vocab_size, config_data, tok_cfg),
    )
