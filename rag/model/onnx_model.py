"""The `onnx` and `onnx-int8` backends: the model exported to ONNX once, verified, and run with onnxruntime.

sentence-transformers' own ONNX backend cannot load Gemma3 under transformers 5 (rag/model/backends.py), so
`rag model install` exports the whole sentence-transformers pipeline (transformer, mean pooling, both dense
layers, normalisation) with `torch.onnx.export(dynamo=True)`, quantizes it for `onnx-int8`, and keeps the
export only if it embeds a set of probe texts like the float32 torch model. What was verified is recorded
(sizes and modification times, as for the model itself), and a backend whose export no longer matches its
record is refused before use.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from rag.errors import ModelNotInstalledError, ModelVerificationError
from rag.model.backends import REVISIONS, no_progress_bars, recorded_tag
from rag.model.onnx_encoder import OnnxEncoder

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

GRAPH = "model.onnx"
VERIFIED_MARKER = ".verified"
# Lowest cosine with the float32 torch vectors an export may give on the probes. float32 ONNX computes the same
# function (1.0000 on 200 TyDi passages); int8 gave 0.996 mean / 0.993 min there (bench/backends.py), 0.9984 on
# the probes with the last layers in float32. The int8 floor leaves room for CPUs without VNNI, whose int8
# products onnxruntime computes another way.
FLOORS = {"onnx": 0.9999, "onnx-int8": 0.98}
PROBES = (
    ("document", "Ballerina adalah film thriller aksi Korea Selatan tahun 2023 yang disutradarai Lee Chung-hyun."),
    ("document", "Kebun Raya Bogor didirikan pada tahun 1817 oleh Caspar Reinwardt. Luasnya 87 hektare."),
    ("document", "Vitamin D deficiency is associated with an increased risk of respiratory infections."),
    ("query", "Siapa sutradara film Ballerina?"),
    ("query", "Who founded the botanical garden?"),
)

Report = Callable[[str], None]
Vectors = npt.NDArray[np.float32]


def export_path(model_folder: Path, backend: str) -> Path:
    """Where a backend's export lives: beside the model's folder, never inside it (its files are pinned)."""
    return model_folder.with_name(f"{model_folder.name}-{backend}")


def _marker_text(folder: Path) -> str:
    return "\n".join(
        f"{path.name} {path.stat().st_size} {path.stat().st_mtime_ns}"
        for path in sorted(folder.iterdir())
        if path.name != VERIFIED_MARKER
    )


def is_prepared(model_folder: Path, backend: str) -> bool:
    """True when the backend's export was verified and has not changed since."""
    folder = export_path(model_folder, backend)
    try:
        header, files = (folder / VERIFIED_MARKER).read_text().split("\n", 1)
    except (OSError, ValueError):
        return False
    # An export made the way of an earlier revision would give vectors that indexes of this one must not meet.
    current = backend not in REVISIONS or header.startswith(f"{recorded_tag(backend)} ")
    return current and files == _marker_text(folder)


def prepare(model_folder: Path, backend: str, *, report: Report = print, force: bool = False) -> Path:
    """Export (and for onnx-int8 quantize) the installed model, verify it and publish it; a verified one is kept."""
    final = export_path(model_folder, backend)
    if not force and is_prepared(model_folder, backend):
        return final
    from sentence_transformers import SentenceTransformer

    with no_progress_bars():
        reference = SentenceTransformer(str(model_folder), device="cpu", local_files_only=True)
    with tempfile.TemporaryDirectory(dir=model_folder.parent, prefix=f".{backend}-") as scratch:
        work = Path(scratch)
        staged = work / final.name
        staged.mkdir()
        report(f"exporting the model to ONNX for {backend} (a few minutes)")
        if backend == "onnx":
            _export(reference, staged / GRAPH)
        else:
            (work / "float32").mkdir()
            _export(reference, work / "float32" / GRAPH)
            report("quantizing to int8")
            with _quietly():
                _quantize(work / "float32" / GRAPH, staged / GRAPH, model_folder)
        agreement = verify(reference, OnnxEncoder(model_folder, staged / GRAPH), backend)
        header = f"{recorded_tag(backend)} probe cosine min {agreement:.6f}"
        (staged / VERIFIED_MARKER).write_text(f"{header}\n{_marker_text(staged)}")
        if final.exists():
            shutil.rmtree(final)
        staged.rename(final)  # a reader never sees a half-written export
    report(f"{backend} verified (probe cosine with float32 at least {agreement:.4f}) and installed in {final}")
    return final


def verify(reference: SentenceTransformer, encoder: OnnxEncoder, backend: str) -> float:
    """The lowest cosine between the export's and the float32 model's vectors of the probe texts."""
    lowest = 1.0
    for kind in ("document", "query"):
        texts = [text for probe, text in PROBES if probe == kind]
        expected = reference.encode(texts, prompt_name=kind, convert_to_numpy=True)
        got = encoder.encode(texts, prompt_name=kind)
        lowest = min(lowest, float(np.min(np.sum(_unit(expected) * _unit(got), axis=1))))
    if lowest < FLOORS[backend]:
        raise ModelVerificationError(
            f"the {backend} export embeds the probe texts unlike the model (cosine {lowest:.4f} < {FLOORS[backend]})"
            f"; it was not installed"
        )
    return lowest


@contextmanager
def _quietly() -> Iterator[None]:
    """The exporter and the quantizer warn about their own internals (torchvision missing, deprecated tree
    specs, "consider pre-processing"), which no user can act on. Only `rag model install` runs them."""
    exporter = logging.getLogger("torch.onnx")
    level = exporter.level
    exporter.setLevel(logging.ERROR)
    logging.disable(logging.WARNING)  # the quantizer logs through the root logger
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        logging.disable(logging.NOTSET)
        exporter.setLevel(level)


def _unit(vectors: Any) -> Vectors:
    array = np.asarray(vectors, dtype=np.float32)
    unit: Vectors = array / np.linalg.norm(array, axis=1, keepdims=True)
    return unit


def _export(model: SentenceTransformer, target: Path) -> None:
    """The sentence-transformers pipeline as one graph: token ids and mask in, normalised vector out."""
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            vector: torch.Tensor = self.model({"input_ids": input_ids, "attention_mask": attention_mask})[
                "sentence_embedding"
            ]
            return vector

    sample = model.tokenizer(["title: none | text: a sample", "task: search result | query: ?"], padding=True)
    inputs = (torch.tensor(sample["input_ids"]), torch.tensor(sample["attention_mask"]))
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    with _quietly():
        torch.onnx.export(
            Pipeline().eval(),
            inputs,
            str(target),
            dynamo=True,
            dynamic_shapes={"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}},
            input_names=["input_ids", "attention_mask"],
            output_names=["vector"],  # "embedding" already names a node of the graph
            external_data=True,
            verbose=False,
        )


# Kept in float32 under onnx-int8, besides every MLP down-projection: the matrix products of the last layers.
# Cosine with float32 over 80 TyDi passages and 40 SciFact abstracts (bench/int8_layers.py, numbers in the
# README), mean / min: no layer 0.9958 / 0.9935; the first 0.9959; the last 0.9973; the last two 0.9986 / 0.9982
# (layers 0, 1, 22 and 23 the same: the error comes from the end); the last four 0.9989; o_proj everywhere
# 0.9959. The last two cost about a tenth of the speed (SciFact indexed in 36.1 minutes instead of 32.8).
FLOAT32_LAST_LAYERS = 2
_PRODUCT_SCOPE = re.compile(r"\.layers\.(\d+)\.(?:self_attn|mlp)\.(\w+)'")


def weight_products(graph: Any) -> list[tuple[str, int, str]]:
    """(node, layer, module) of every product with a weight matrix in the transformer's layers, found by the torch
    module each came from (the exporter records it); the Dense layers at the end are Gemm nodes, never quantized."""
    weights = {tensor.name for tensor in graph.initializer}
    found = []
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in weights:
            continue
        scopes = next((p.value for p in node.metadata_props if p.key == "pkg.torch.onnx.name_scopes"), "")
        matches = _PRODUCT_SCOPE.findall(scopes)
        if matches:
            layer, module = matches[-1]
            found.append((node.name, int(layer), module))
    return found


def quantize_int8(source: Path, target: Path, float32_nodes: Sequence[str]) -> None:
    """onnxruntime's dynamic per-channel int8 quantization of the MatMuls, the named ones left in float32."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=list(float32_nodes),
        use_external_data_format=True,
    )


def _quantize(source: Path, target: Path, model_folder: Path) -> None:
    """int8 with the MLP down-projections and the last layers left in float32.

    The down-projections' inputs carry Gemma's large outlier activations: quantizing them too gave cosine 0.969
    mean / 0.928 min with float32 instead of 0.994 / 0.989 (the export's first bench, in git at 5e60a44).
    """
    import onnx

    config = json.loads((model_folder / "config.json").read_text(encoding="utf-8"))
    layers = int(config["num_hidden_layers"])
    graph = onnx.load(str(source), load_external_data=False).graph
    kept = [
        node
        for node, layer, module in weight_products(graph)
        if module == "down_proj" or layer >= layers - FLOAT32_LAST_LAYERS
    ]
    # Seven products per layer (q, k, v, o, gate, up, down): one per layer, six more in each last layer.
    expected = layers + 6 * FLOAT32_LAST_LAYERS
    if len(kept) != expected:
        raise ModelVerificationError(f"found {len(kept)} matrix products to keep in float32, expected {expected}")
    quantize_int8(source, target, kept)


def load_encoder(model_folder: Path, backend: str) -> OnnxEncoder:
    """The verified export of `backend`, or ModelNotInstalledError saying how to make it."""
    if not is_prepared(model_folder, backend):
        raise ModelNotInstalledError(
            f"the {backend} backend has no verified export of the model; run "
            f"'RAG_EMBEDDING_BACKEND={backend} rag model install' (or choose another RAG_EMBEDDING_BACKEND)"
        )
    return OnnxEncoder(model_folder, export_path(model_folder, backend) / GRAPH)
