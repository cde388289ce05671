"""Embedding backends side by side: documents/s, one-query latency, agreement with float32, TyDi retrieval.

Usage: python bench/backends.py [BEIR_FOLDER] [--backends torch torch-bf16 torch-int8 onnx onnx-int8]
       [--passages 200] [--subset 150] [--rounds 5]
The onnx backends need their export first: `RAG_EMBEDDING_BACKEND=onnx-int8 rag model install` (and `onnx`).
BEIR_FOLDER defaults to ../shared/data/external/tydiqa_goldp_id/derived. Every backend's model is loaded at
once and, through the service's own embedder (title in the document prompt, as the indexer embeds passages):
- documents/s embedding the first --passages passages, in --rounds rounds that take the backends in turn,
  batched as RAG_BATCH_SIZE says;
- one-query latency p50 / p90, each question embedded alone as the service does, backends in turn;
- cosine with the torch float32 vectors of the same passages (mean / min);
- dense retrieval over the first --subset passages, for every question whose gold passage is among them
  (the same subset for every backend): MRR@10 and hit@1.
Taking the backends in turn spreads the load of other processes on a shared machine over all of them; the
load average is printed too. Prints numbers, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.evaluation.metrics import mrr_at, percentile
from rag.model.backends import BACKENDS, PLAIN_BACKEND
from rag.model.embedding import SentenceTransformerEmbedder, Vectors

QUALITY = ("cos mean", "cos min", "MRR@10", "hit@1")
TYDI = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "tydiqa_goldp_id" / "derived"


def read_beir(folder: Path) -> tuple[list[dict[str, str]], dict[str, str], dict[str, str]]:
    """Passages in file order, question id -> text, question id -> its gold passage id."""
    corpus = [json.loads(line) for line in (folder / "corpus.jsonl").read_text(encoding="utf-8").splitlines()]
    queries = {
        row["_id"]: row["text"]
        for row in map(json.loads, (folder / "queries.jsonl").read_text(encoding="utf-8").splitlines())
    }
    gold = {}
    for line in (folder / "qrels" / "test.tsv").read_text(encoding="utf-8").splitlines()[1:]:
        query, doc, _ = line.split("\t")
        gold[query] = doc
    return corpus, queries, gold


def measure(
    embedders: dict[str, SentenceTransformerEmbedder],
    passages: list[dict[str, str]],
    questions: list[tuple[str, str]],
    *,
    rounds: int,
) -> tuple[dict[str, dict[str, float]], dict[str, Vectors], dict[str, Vectors]]:
    """Time every backend interleaved (passages in rounds, questions one by one), so load from other
    processes falls on all of them alike; returns the numbers, passage vectors and question vectors."""
    numbers: dict[str, dict[str, float]] = {name: {} for name in embedders}
    for name, embedder in embedders.items():
        started = time.perf_counter()
        embedder.embed_queries(["warm-up"])  # loads (and for torch-int8 quantizes) the model
        numbers[name]["load s"] = time.perf_counter() - started
    seconds = dict.fromkeys(embedders, 0.0)
    parts: dict[str, list[Vectors]] = {name: [] for name in embedders}
    size = -(-len(passages) // rounds)
    for turn, offset in enumerate(range(0, len(passages), size)):
        batch = passages[offset : offset + size]
        names = list(embedders)
        for name in names[turn % len(names) :] + names[: turn % len(names)]:
            started = time.perf_counter()
            parts[name].append(
                embedders[name].embed_documents([p["text"] for p in batch], titles=[p["title"] for p in batch])
            )
            seconds[name] += time.perf_counter() - started
    latencies: dict[str, list[float]] = {name: [] for name in embedders}
    asked: dict[str, list[Vectors]] = {name: [] for name in embedders}
    for _, text in questions:
        for name, embedder in embedders.items():
            started = time.perf_counter()
            asked[name].append(embedder.embed_queries([text])[0])
            latencies[name].append((time.perf_counter() - started) * 1000)
    for name in embedders:
        numbers[name]["docs/s"] = len(passages) / seconds[name]
        numbers[name]["query p50 ms"] = percentile(latencies[name], 50)
        numbers[name]["query p90 ms"] = percentile(latencies[name], 90)
    return numbers, {n: np.vstack(v) for n, v in parts.items()}, {n: np.vstack(v) for n, v in asked.items()}


def retrieval(queries: Vectors, passages: Vectors, ids: list[str], gold: list[str]) -> tuple[float, float]:
    """MRR@10 and hit@1 of dense ranking."""
    mrr, hit1 = [], []
    for wanted, row in zip(gold, queries @ passages.T, strict=True):
        ranked = [ids[i] for i in np.argsort(-row)[:10]]
        mrr.append(mrr_at(ranked, {wanted: 1}, 10))
        hit1.append(float(ranked[0] == wanted))
    return float(np.mean(mrr)), float(np.mean(hit1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, nargs="?", default=TYDI)
    parser.add_argument("--backends", nargs="+", default=list(BACKENDS), choices=BACKENDS)
    parser.add_argument("--passages", type=int, default=200)
    parser.add_argument("--subset", type=int, default=150)
    parser.add_argument("--rounds", type=int, default=5, help="passages are timed in this many interleaved rounds")
    args = parser.parse_args()
    settings = Settings()
    corpus, queries, gold = read_beir(args.folder)
    passages = corpus[: args.passages]
    in_subset = {p["_id"] for p in passages[: args.subset]}
    questions = [(gold[q], text) for q, text in queries.items() if gold.get(q) in in_subset]
    print(
        f"{len(passages)} passages (mean {np.mean([len(p['text']) for p in passages]):.0f} chars), "
        f"{len(questions)} questions over the first {args.subset}; batch size {settings.batch_size}; "
        f"{os.cpu_count()} CPUs, torch threads as the library sets them"
    )
    backends = [PLAIN_BACKEND] + [b for b in args.backends if b != PLAIN_BACKEND]
    embedders = {
        backend: SentenceTransformerEmbedder(
            settings.embedding_model, model_dir=settings.model_dir, batch_size=settings.batch_size, backend=backend
        )
        for backend in backends
    }
    before = os.getloadavg()
    numbers, vectors, asked = measure(embedders, passages, questions, rounds=args.rounds)
    after = os.getloadavg()
    ids = [p["_id"] for p in passages[: args.subset]]
    header = ["backend", "load s", "docs/s", "query p50 ms", "query p90 ms", "cos mean", "cos min", "MRR@10", "hit@1"]
    print(" | ".join(header))
    for backend in backends:
        agreement = np.sum(vectors[backend] * vectors[PLAIN_BACKEND], axis=1)
        numbers[backend]["cos mean"], numbers[backend]["cos min"] = float(agreement.mean()), float(agreement.min())
        numbers[backend]["MRR@10"], numbers[backend]["hit@1"] = retrieval(
            asked[backend], vectors[backend][: args.subset], ids, [g for g, _ in questions]
        )
        row = numbers[backend]
        print(" | ".join([backend] + [f"{row[n]:.4f}" if n in QUALITY else f"{row[n]:.3g}" for n in header[1:]]))
    print(f"load average (1, 5, 15 min) before {before}, after {after}")


if __name__ == "__main__":
    main()
