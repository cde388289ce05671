"""EmbeddingGemma exported to ONNX by hand and run with onnxruntime, beside the torch backends.

Usage: python bench/onnx_export.py [BEIR_FOLDER] [--work DIR] [--passages 200] [--subset 150] [--rounds 5]
Needs the bench extra (onnx, onnxscript, onnxruntime). sentence-transformers' own ONNX backend cannot load
Gemma3 under transformers 5 (rag/backends.py), so this exports the whole sentence-transformers pipeline
(transformer, mean pooling, both dense layers, normalisation) with `torch.onnx.export(dynamo=True)`, then
quantizes it with onnxruntime's dynamic int8 quantization twice: with the MLP down-projections left in
float32 as torch-int8 does (`onnx-int8`), and everything (`onnx-int8-all`). Every candidate embeds the same
passages with the title in the document prompt, batched and sorted as the service batches; the numbers are
those of bench/backends.py (documents/s in interleaved rounds, one-query latency, cosine with torch float32,
dense MRR@10 and hit@1 over the first --subset passages). The export (about 1.2 GB, plus 1 GB per
quantized copy) is written to --work once and reused. Prints numbers, never pass/fail.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from backends import QUALITY, TYDI, measure, read_beir, retrieval

from rag.config import Settings
from rag.embedding import TITLE_SLOT, Embedder, SentenceTransformerEmbedder, Vectors

FLOAT32 = "model.onnx"
QUANTIZED = {"onnx-int8": "int8.onnx", "onnx-int8-all": "int8-all.onnx"}


def export(model: Any, target: Path) -> None:
    """The sentence-transformers pipeline as one ONNX graph: token ids and mask in, normalised vector out."""
    import torch

    class Pipeline(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model({"input_ids": input_ids, "attention_mask": attention_mask})["sentence_embedding"]

    sample = model.tokenizer(["title: none | text: a sample", "task: search result | query: ?"], padding=True)
    inputs = (torch.tensor(sample["input_ids"]), torch.tensor(sample["attention_mask"]))
    batch, length = torch.export.Dim("batch"), torch.export.Dim("length")
    shapes = {"input_ids": {0: batch, 1: length}, "attention_mask": {0: batch, 1: length}}
    torch.onnx.export(
        Pipeline().eval(),
        inputs,
        str(target),
        dynamo=True,
        dynamic_shapes=shapes,
        input_names=["input_ids", "attention_mask"],
        output_names=["vector"],  # "embedding" names a node of the graph already
        external_data=True,
    )


def quantize(source: Path, target: Path, *, keep_down_projections: bool) -> None:
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    graph = onnx.load(str(source), load_external_data=False).graph
    linear = [node.name for node in graph.node if node.op_type == "MatMul" and node.name.startswith("node_linear")]
    # Each of the 24 layers exports seven projections in order: q, k, v, o, gate, up, down.
    down = [name for n, name in enumerate(linear[: 7 * 24]) if n % 7 == 6] if keep_down_projections else []
    quantize_dynamic(
        str(source),
        str(target),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
        nodes_to_exclude=down,
        use_external_data_format=True,
    )


class OnnxEmbedder:
    """The service's prompts, batching and normalisation around an onnxruntime session."""

    def __init__(self, model: Any, path: Path, *, batch_size: int) -> None:
        import onnxruntime

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        # onnxruntime's threads spin after each call by default, taking the CPU from the backend timed next.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self._session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._tokenizer = model.tokenizer
        self._max_length = model.max_seq_length
        self._prompts = model.prompts
        self._batch_size = batch_size

    @property
    def model_name(self) -> str:
        return "onnx"

    @property
    def dimension(self) -> int:
        return 768

    def _encode(self, texts: Sequence[str]) -> Vectors:
        order = sorted(range(len(texts)), key=lambda n: -len(texts[n]))
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(order), self._batch_size):
            rows = order[start : start + self._batch_size]
            tokens = self._tokenizer(
                [texts[n] for n in rows],
                padding=True,
                truncation=True,
                max_length=self._max_length,
                return_tensors="np",
            )
            feed = {"input_ids": tokens["input_ids"], "attention_mask": tokens["attention_mask"]}
            vectors[rows] = self._session.run(None, feed)[0]
        return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self._encode([self._prompts["query"] + text for text in texts])

    def embed_documents(self, texts: Sequence[str], *, titles: Sequence[str] | None = None) -> Vectors:
        prompt = self._prompts["document"]
        return self._encode(
            [
                prompt.replace(TITLE_SLOT, f"title: {title or 'none'} |") + text
                for title, text in zip(titles or [""] * len(texts), texts, strict=True)
            ]
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, nargs="?", default=TYDI)
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-onnx"))
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--subset", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    settings = Settings()
    torch_embedders = {
        backend: SentenceTransformerEmbedder(
            settings.embedding_model, model_dir=settings.model_dir, batch_size=settings.batch_size, backend=backend
        )
        for backend in ("torch", "torch-bf16")
    }
    reference = torch_embedders["torch"]._load()
    args.work.mkdir(parents=True, exist_ok=True)
    if not (args.work / FLOAT32).is_file():
        started = time.perf_counter()
        export(reference, args.work / FLOAT32)
        print(f"exported in {time.perf_counter() - started:.0f} s")
    for name, file in QUANTIZED.items():
        if not (args.work / file).is_file():
            started = time.perf_counter()
            quantize(args.work / FLOAT32, args.work / file, keep_down_projections=name == "onnx-int8")
            print(f"{name} quantized in {time.perf_counter() - started:.0f} s")
    embedders: dict[str, Embedder] = dict(torch_embedders)
    embedders["onnx"] = OnnxEmbedder(reference, args.work / FLOAT32, batch_size=settings.batch_size)
    for name, file in QUANTIZED.items():
        embedders[name] = OnnxEmbedder(reference, args.work / file, batch_size=settings.batch_size)
    corpus, queries, gold = read_beir(args.folder)
    passages = corpus[: args.passages]
    in_subset = {p["_id"] for p in passages[: args.subset]}
    questions = [(gold[q], text) for q, text in queries.items() if gold.get(q) in in_subset]
    print(f"{len(passages)} passages, {len(questions)} questions over the first {args.subset}; {os.cpu_count()} CPUs")
    before = os.getloadavg()
    numbers, vectors, asked = measure(embedders, passages, questions, rounds=args.rounds)
    after = os.getloadavg()
    ids = [p["_id"] for p in passages[: args.subset]]
    header = ["backend", "docs/s", "query p50 ms", "query p90 ms", "cos mean", "cos min", "MRR@10", "hit@1"]
    print(" | ".join(header))
    for name in embedders:
        agreement = np.sum(vectors[name] * vectors["torch"], axis=1)
        numbers[name]["cos mean"], numbers[name]["cos min"] = float(agreement.mean()), float(agreement.min())
        numbers[name]["MRR@10"], numbers[name]["hit@1"] = retrieval(
            asked[name], vectors[name][: args.subset], ids, [g for g, _ in questions]
        )
        row = numbers[name]
        print(" | ".join([name] + [f"{row[n]:.4f}" if n in QUALITY else f"{row[n]:.3g}" for n in header[1:]]))
    print(f"load average (1, 5, 15 min) before {before}, after {after}")


if __name__ == "__main__":
    main()
