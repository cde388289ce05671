"""Which matrix products onnx-int8 keeps in float32: cosine with float32 ONNX and speed for each choice.

Usage: python bench/int8_layers.py [--tydi 80] [--scifact 40] [--variants down last last2 ...]
Needs the float32 export: `RAG_EMBEDDING_BACKEND=onnx rag model install`. For each variant the float32 export
is quantized the way rag/model/onnx_model.py does it (onnxruntime's dynamic per-channel int8 of the MatMuls), with the
named products left in float32, into a scratch folder; then the first --tydi TyDi passages and --scifact SciFact
abstracts (title in the document prompt) are embedded one text per call, as the service does, and compared with
the float32 export's vectors. Every variant keeps the MLP down-projections in float32 (quantized, cosine 0.97).
Prints cosine mean / min per corpus and texts/s. Numbers only.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from rag.config import Settings
from rag.model.installer import installed_path
from rag.model.onnx_encoder import OnnxEncoder
from rag.model.onnx_model import GRAPH, export_path, quantize_int8, weight_products

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"


def _variants(layers: int) -> dict[str, Any]:
    last = layers - 1
    return {
        "down": lambda layer, module: False,
        "first": lambda layer, module: layer == 0,
        "last": lambda layer, module: layer == last,
        "last2": lambda layer, module: layer >= last - 1,
        "ends2": lambda layer, module: layer <= 1 or layer >= last - 1,
        "last4": lambda layer, module: layer >= last - 3,
        "o_proj": lambda layer, module: module == "o_proj",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tydi", type=int, default=80)
    parser.add_argument("--scifact", type=int, default=40)
    parser.add_argument("--variants", nargs="+", default=["down", "first", "last", "last2", "ends2", "last4"])
    args = parser.parse_args()
    model = installed_path(Settings().model_dir)
    reference_graph = export_path(model, "onnx") / GRAPH
    rows = [json.loads(line) for line in (DATA / "tydiqa_goldp_id/derived/corpus.jsonl").open()][: args.tydi]
    rows += [json.loads(line) for line in (DATA / "beir_scifact/corpus.jsonl").open()][: args.scifact]
    texts = [f"title: {row.get('title') or 'none'} | text: {row['text']}" for row in rows]
    reference = OnnxEncoder(model, reference_graph).encode(texts)
    graph = onnx.load(str(reference_graph), load_external_data=False).graph
    products = weight_products(graph)
    layers = 1 + max(layer for _, layer, _ in products)
    variants = _variants(layers)
    print(f"{args.tydi} TyDi passages, {args.scifact} SciFact abstracts; {layers} layers")
    print("variant | float32 products | TyDi cos mean | min | SciFact cos mean | min | texts/s")
    for name in args.variants:
        keep = variants[name]
        kept = [node for node, layer, module in products if module == "down_proj" or keep(layer, module)]
        with tempfile.TemporaryDirectory() as scratch:
            target = Path(scratch) / GRAPH
            quantize_int8(reference_graph, target, kept)
            encoder = OnnxEncoder(model, target)
            encoder.encode(texts[:2])
            started = time.perf_counter()
            vectors = encoder.encode(texts)
            seconds = time.perf_counter() - started
        norms = np.linalg.norm(vectors, axis=1) * np.linalg.norm(reference, axis=1)
        cosine = np.sum(vectors * reference, axis=1) / norms
        tydi, scifact = cosine[: args.tydi], cosine[args.tydi :]
        print(
            f"{name} | {len(kept)} | {tydi.mean():.4f} | {tydi.min():.4f} | {scifact.mean():.4f} | {scifact.min():.4f} "
            f"| {len(texts) / seconds:.2f}"
        )


if __name__ == "__main__":
    main()
