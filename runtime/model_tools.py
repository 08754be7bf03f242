"""Model tools behind ``edgeward model inspect`` and ``edgeward model quantize``.

``inspect_model`` reads a folder without running it: format, architecture, parameters, size on
disk, quantization, graph inputs, vocabulary and context. ``quantize_model`` writes a new folder
next to nothing else: ONNX Runtime dynamic int8 for ONNX exports, NNCF weight compression
(int8, or int4 with a group size) for OpenVINO IR. Both need the ``tools`` extra
(``onnx``, ``nncf``), which the daemon itself never imports.

Exporting a Hugging Face model for each runtime (done once, off the box)::

    optimum-cli export onnx --model Qwen/Qwen2.5-0.5B-Instruct \
        --task text-generation-with-past qwen-onnx/
    optimum-cli export openvino --model Qwen/Qwen2.5-0.5B-Instruct \
        --task text-generation-with-past --weight-format int4 qwen-ov/
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from .errors import QuantizationError
from .model_folder import ONNX_FILES, BackendName, ModelFolder, open_model_folder

QuantMethod = Literal["int8", "int4"]
_SIDE_FILES_SKIPPED = (*ONNX_FILES, "openvino_model.xml", "openvino_model.bin")
_ONNX_QUANT_OPS = {
    "MatMulInteger": "int8 (ONNX Runtime dynamic)",
    "DynamicQuantizeLinear": "int8 (ONNX Runtime dynamic)",
    "QLinearMatMul": "int8 (static)",
    "MatMulNBits": "int4 (MatMulNBits)",
}


@dataclass(frozen=True)
class GraphInput:
    name: str
    dtype: str
    shape: str


@dataclass(frozen=True)
class ModelInfo:
    """What ``edgeward model inspect`` prints."""

    path: str
    format: str
    graph_file: str
    architecture: str
    model_type: str
    parameters: int
    """Elements of the weight matrices (tensors of rank >= 2; norm vectors are not counted)."""
    size_bytes: int
    quantization: str
    stateful: bool | None
    """OpenVINO only: KV cache inside the model."""
    inputs: tuple[GraphInput, ...]
    layers: int
    attention_heads: int
    kv_heads: int
    head_dim: int
    vocab_size: int
    tokenizer_vocab_size: int
    max_context: int | None
    eos_token_ids: tuple[int, ...]
    chat_template: str
    """The file the template comes from, or ``plain fallback``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _folder_size(folder: ModelFolder) -> int:
    stem = folder.model_file.name
    return sum(
        f.stat().st_size
        for f in folder.path.iterdir()
        if f.is_file() and (f.name.startswith(stem) or f.suffix in (".bin", ".onnx_data", ".data"))
    )


def _require(module: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise QuantizationError(
            f"{module} is not installed: install the model tools with pip install 'edgeward[tools]'"
        ) from exc


def _inspect_onnx(folder: ModelFolder) -> tuple[int, str, tuple[GraphInput, ...]]:
    onnx = _require("onnx")
    model = onnx.load(str(folder.model_file), load_external_data=False)
    graph = model.graph
    parameters = 0
    dtypes: set[str] = set()
    for init in graph.initializer:
        size = 1
        for dim in init.dims:
            size *= dim
        if len(init.dims) >= 2:
            parameters += size
            dtypes.add(onnx.TensorProto.DataType.Name(init.data_type))
    ops = {node.op_type for node in graph.node}
    found = sorted({label for op, label in _ONNX_QUANT_OPS.items() if op in ops})
    if found:
        quantization = ", ".join(found)
    elif "FLOAT16" in dtypes:
        quantization = "none (float16)"
    else:
        quantization = "none (float32)"
    initializers = {init.name for init in graph.initializer}
    inputs = []
    for value in graph.input:
        if value.name in initializers:
            continue
        tensor = value.type.tensor_type
        dims = [d.dim_param or str(d.dim_value) for d in tensor.shape.dim]
        inputs.append(
            GraphInput(
                value.name,
                onnx.TensorProto.DataType.Name(tensor.elem_type).lower(),
                "[" + ", ".join(dims) + "]",
            )
        )
    return parameters, quantization, tuple(inputs)


def _inspect_openvino(folder: ModelFolder) -> tuple[int, str, tuple[GraphInput, ...], bool]:
    import openvino as ov

    model = ov.Core().read_model(str(folder.model_file))
    parameters = 0
    weight_types: set[str] = set()
    for op in model.get_ops():
        if op.get_type_name() != "Constant":
            continue
        shape = op.get_output_partial_shape(0)
        if shape.rank.get_length() < 2:
            continue
        size = 1
        for dim in shape.to_shape():
            size *= dim
        parameters += size
        weight_types.add(op.get_output_element_type(0).get_type_name())
    low = sorted(t for t in weight_types if t in ("i8", "u8", "i4", "u4", "nf4"))
    if low:
        quantization = "weights " + "/".join(low) + " (NNCF weight compression)"
    else:
        main = "f16" if "f16" in weight_types else "f32"
        quantization = f"none ({main})"
    inputs = tuple(
        GraphInput(
            p.get_any_name(), p.get_element_type().get_type_name(), str(p.get_partial_shape())
        )
        for p in model.inputs
    )
    return parameters, quantization, inputs, bool(model.get_sinks())


def inspect_model(path: Path | str, backend: BackendName = "auto") -> ModelInfo:
    """Describe a model folder; raises the folder's specific error if it is not loadable."""
    folder = open_model_folder(path, backend)
    stateful: bool | None = None
    if folder.format == "onnx":
        parameters, quantization, inputs = _inspect_onnx(folder)
    else:
        parameters, quantization, inputs, stateful = _inspect_openvino(folder)
    config = folder.config
    template = folder.chat_template
    return ModelInfo(
        path=str(folder.path),
        format=folder.format,
        graph_file=folder.model_file.name,
        architecture=config.architecture,
        model_type=config.model_type,
        parameters=parameters,
        size_bytes=_folder_size(folder),
        quantization=quantization,
        stateful=stateful,
        inputs=inputs,
        layers=config.num_layers,
        attention_heads=config.num_attention_heads,
        kv_heads=config.num_kv_heads,
        head_dim=config.head_dim,
        vocab_size=config.vocab_size,
        tokenizer_vocab_size=folder.tokenizer_vocab_size,
        max_context=config.max_position_embeddings,
        eos_token_ids=folder.eos_token_ids,
        chat_template=str(template.origin.name) if template.origin else "plain fallback",
    )


def _quantize_onnx(folder: ModelFolder, out: Path, method: QuantMethod) -> None:
    if method != "int8":
        raise QuantizationError(
            f"ONNX models are quantized to int8 only, not {method}; "
            "use an OpenVINO export for int4 weights"
        )
    _require("onnx")
    from onnxruntime.quantization import QuantType, quantize_dynamic

    external = (
        any(f.suffix in (".onnx_data", ".data") for f in folder.path.iterdir() if f.is_file())
        or folder.model_file.stat().st_size > 1_500_000_000
    )
    quantize_dynamic(
        model_input=str(folder.model_file),
        model_output=str(out / "model.onnx"),
        op_types_to_quantize=["MatMul", "Gather"],
        weight_type=QuantType.QInt8,
        use_external_data_format=external,
    )


def _quantize_openvino(
    folder: ModelFolder, out: Path, method: QuantMethod, group_size: int
) -> None:
    import openvino as ov

    nncf = _require("nncf")
    model = ov.Core().read_model(str(folder.model_file))
    if method == "int8":
        mode, options = nncf.CompressWeightsMode.INT8_ASYM, {}
    else:
        mode, options = nncf.CompressWeightsMode.INT4_ASYM, {"group_size": group_size, "ratio": 1.0}
    try:
        compressed = nncf.compress_weights(model, mode=mode, **options)
    except Exception as exc:
        raise QuantizationError(f"NNCF cannot compress {folder.model_file}: {exc}") from exc
    ov.save_model(compressed, str(out / "openvino_model.xml"), compress_to_fp16=False)


def _publishable(folder: Path) -> None:
    """mkdtemp makes the folder private (0700): give it, and its files, the umask's modes."""
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for item in folder.iterdir():
        item.chmod(0o666 & ~umask)


def quantize_model(
    source: Path | str,
    destination: Path | str,
    *,
    method: QuantMethod = "int8",
    backend: BackendName = "auto",
    group_size: int = 128,
) -> Path:
    """Write a quantized copy of ``source`` into the new folder ``destination``.

    The folder appears complete or not at all (built in a temporary sibling, then renamed).
    """
    if method not in ("int8", "int4"):
        raise QuantizationError(f"method must be int8 or int4, not {method!r}")
    if group_size < 1:
        raise QuantizationError(f"group_size must be positive, got {group_size}")
    folder = open_model_folder(source, backend)
    target = Path(destination).expanduser()
    if target.exists():
        raise QuantizationError(f"{target}: destination already exists; choose a new folder")
    if not target.parent.is_dir():
        raise QuantizationError(f"{target.parent}: parent folder does not exist")
    work = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=target.parent))
    try:
        if folder.format == "onnx":
            _quantize_onnx(folder, work, method)
        else:
            _quantize_openvino(folder, work, method, group_size)
        for item in folder.path.iterdir():
            if (
                item.is_file()
                and item.name not in _SIDE_FILES_SKIPPED
                and not item.name.startswith(folder.model_file.name)
            ):
                shutil.copy2(item, work / item.name)
        _publishable(work)
        work.rename(target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return target
