"""Embedding backends: how each runs the model on the CPU, and the names that keep their vectors apart.

Measured on EmbeddingGemma-300M with bench/backends.py (numbers in the README's Performance section).
sentence-transformers' own ONNX and OpenVINO backends do not work for this model here, hence the export of
rag/model/onnx_model.py: optimum-onnx 0.1.0 needs transformers < 4.58 (sentence-transformers 6 needs >= 5) and fails
to import under 5.x; optimum-intel 2.2.0 exports Gemma3 only under transformers 5.0.0, and that export's
vectors are wrong (cosine 0.65-0.70 with the torch model's).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

# torch: float32, the reference. torch-bf16: bfloat16 weights and activations (EmbeddingGemma's
# activations overflow float16, not bfloat16's float32-sized range). torch-int8: dynamic int8 quantization.
# onnx, onnx-int8: the model exported by `rag model install` and run with onnxruntime (rag/model/onnx_model.py).
EmbeddingBackend = Literal["torch", "torch-bf16", "torch-int8", "onnx", "onnx-int8"]
BACKENDS: tuple[str, ...] = get_args(EmbeddingBackend)
# The backend whose vectors go under the bare model name: every index and cache entry made before backends
# existed holds float32 torch vectors. Fixed, not the default: changing the default must not let another
# backend's engine accept those vectors as its own.
PLAIN_BACKEND: EmbeddingBackend = "torch"
SEPARATOR = "@"
# A backend whose way of making vectors changed after indexes were built with it records a revision in the name
# ("...@onnx-int8.r2"), so an index of the earlier way is refused (and rebuilt by `rag reindex`) instead of
# meeting the new vectors. onnx-int8 r2 leaves the last two transformer layers in float32 (rag/model/onnx_model.py).
REVISIONS: dict[str, str] = {"onnx-int8": "r2"}

# Left in float32 under torch-int8: the MLP down-projections, whose inputs carry the large outlier
# activations of Gemma models. One int8 scale per batch for those costs the most (48 TyDi passages: cosine
# with float32 0.904 mean / 0.865 min with them quantized, 0.982 / 0.975 without), and a text's vector
# then depends on the batch it is in (min 0.926 alone vs in a batch; 0.989 without).
INT8_SKIP = re.compile(r"\.mlp\.down_proj$")


def recorded_tag(backend: str) -> str:
    """The backend as names record it: with its revision, if it has one."""
    revision = REVISIONS.get(backend)
    return f"{backend}.{revision}" if revision else backend


def qualified_name(model: str, backend: str) -> str:
    """The name vectors are recorded under: the model, plus the backend unless it is the plain one."""
    return model if backend == PLAIN_BACKEND else f"{model}{SEPARATOR}{recorded_tag(backend)}"


def _split(name: str) -> tuple[str, EmbeddingBackend | None]:
    """The model and the backend of a qualified name (None when it names no backend, of any revision)."""
    model, separator, tag = name.rpartition(SEPARATOR)
    backend = tag.split(".", 1)[0]
    if separator and backend in BACKENDS:
        return model, backend  # type: ignore[return-value]
    return name, None


def backend_of(name: str) -> EmbeddingBackend:
    """The backend a qualified name records (the bare name: float32 torch)."""
    return _split(name)[1] or PLAIN_BACKEND


@cache
def cpu_flags(cpuinfo: Path = Path("/proc/cpuinfo")) -> frozenset[str]:
    """The instruction-set flags the CPU declares (none when they cannot be read)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return frozenset()
    return frozenset(re.findall(r"[a-z0-9_]+", " ".join(re.findall(r"^flags\s*:(.*)$", text, re.MULTILINE))))


def native_bfloat16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX); elsewhere torch emulates it."""
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags(cpuinfo))


def int8_dot_products(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU has int8 dot-product instructions (VNNI or AMX), which onnxruntime's int8 kernels use."""
    return bool({"avx512_vnni", "avx_vnni", "amx_int8"} & cpu_flags(cpuinfo))


def preferred_backend(*, onnx: bool = True) -> EmbeddingBackend:
    """The backend for a new index: the fastest one whose quality holds, measured on this machine (README
    "Embedding backends").

    `onnx-int8` where the CPU has int8 dot products and the model's export was measured (`onnx`: the default
    model): SciFact nDCG@10 0.782 (bfloat16 0.785, the speed issue asks 0.78) in 36 minutes of indexing instead
    of 50, queries embedded in about 25 ms instead of 67. Else bfloat16 where the CPU has it natively (1.7x
    float32's throughput, the same answers), else float32.
    """
    if onnx and int8_dot_products():
        return "onnx-int8"
    return "torch-bf16" if native_bfloat16() else "torch"


def base_model(name: str) -> str:
    """The model a qualified name was made from ("google/embeddinggemma-300m@torch-int8" -> the model)."""
    return _split(name)[0]


def is_onnx(backend: str) -> bool:
    return backend.startswith("onnx")


def load_options(backend: str) -> dict[str, Any]:
    """Extra keyword arguments for SentenceTransformer(...) under this backend."""
    if backend == "torch-bf16":
        return {"model_kwargs": {"dtype": "bfloat16"}}
    return {}


def apply_backend(model: SentenceTransformer, backend: str) -> None:
    """Convert a freshly loaded model in place for backends that change it after loading."""
    if backend != "torch-int8":
        return
    import torch

    transformer = model[0]
    linear = {
        name
        for name, module in transformer.named_modules()
        if isinstance(module, torch.nn.Linear) and not INT8_SKIP.search(name)
    }
    with warnings.catch_warnings():
        # torch 2.13 (pinned) still ships eager-mode quantization but marks it deprecated in favour of
        # torchao; the warnings are about that migration, not about this model.
        warnings.filterwarnings("ignore", message="torch.ao.quantization is deprecated", category=DeprecationWarning)
        warnings.filterwarnings("ignore", message="torch.quantize_per_tensor", category=UserWarning)
        torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            transformer, linear, dtype=torch.qint8, inplace=True
        )


@contextmanager
def no_progress_bars() -> Iterator[None]:
    """transformers draws a "Loading weights" bar for a load that takes a fraction of a second: not shown."""
    from transformers.utils import logging as transformers_logging

    bars = transformers_logging.is_progress_bar_enabled()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    try:
        yield
    finally:
        if bars:
            transformers_logging.enable_progress_bar()  # type: ignore[no-untyped-call]
