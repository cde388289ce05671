"""Sweep chunk size and overlap on a QA set (answers and passage ranking); prints one row per setting.

Usage: python bench/chunking_sweep.py QA.jsonl [--corpus corpus.jsonl] [--sizes 400,600,800] [--overlaps 0,100]
Each setting builds its own evaluation index; sentence vectors are shared through the evaluation cache, so
a new setting costs only the embedding of its chunks.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

from rag.config import Settings
from rag.evaluation.runner import evaluate_qa
from rag.model.embedding import SentenceTransformerEmbedder


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",")]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--sizes", type=numbers, default=[400, 600, 800, 1000])
    parser.add_argument("--overlaps", type=numbers, default=[0, 100, 200])
    args = parser.parse_args()
    base = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(base)
    rows = []
    for size, overlap in itertools.product(args.sizes, args.overlaps):
        if overlap >= size:
            continue
        settings = base.model_copy(update={"chunk_size": size, "chunk_overlap": overlap})
        report = evaluate_qa(settings, embedder, args.qa, corpus=args.corpus, per_question=False, top_k=settings.top_k)
        rows.append((size, overlap, report["overall"]))
    print("size  overlap  answer acc  false abst  abst acc  Hit@1  Hit@3    MRR  chars")
    for size, overlap, row in rows:
        abstention = "-" if row["abstention_accuracy"] is None else f"{row['abstention_accuracy']:.2f}"
        print(
            f"{size:4}  {overlap:7}  {row['answer_accuracy']:10.3f}  {row['false_abstention_rate']:10.3f}  "
            f"{abstention:>8}  {row['hit_at_1']:5.3f}  {row['hit_at_3']:5.3f}  {row['mrr']:5.3f}  "
            f"{row['mean_answer_chars']:5.0f}"
        )


if __name__ == "__main__":
    main()
