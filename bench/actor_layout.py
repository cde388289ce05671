"""How a cluster node's cores should be split among indexing actors: one actor using every core, or one per core.

Usage: python bench/actor_layout.py [--passages 300] [--backend onnx-int8] [--rounds 2]
A Ray indexing actor is a process holding the model; this bench runs the same layouts as plain processes, each
pinned to its cores before it loads the model (the onnx encoder runs as many calls at once as the process may use
cores, as in an actor): layout "1 x N" is one process on all N cores embedding every passage; layout "N x 1" is N
processes on one core each, embedding a share of the passages at the same time. Both embed the first --passages
TyDi passages with their titles, as the indexer does, after loading the model and embedding a warm-up text; the
layouts alternate for --rounds rounds. Prints texts/s of each layout and the peak memory of one process; never
pass/fail.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import time
from pathlib import Path

from rag.config import Settings
from rag.model.embedding import SentenceTransformerEmbedder

CORPUS = Path(__file__).resolve().parents[2] / "shared/data/external/tydiqa_goldp_id/derived/corpus.jsonl"


def embed_share(
    cores: list[int],
    texts: list[str],
    titles: list[str],
    backend: str,
    ready: multiprocessing.synchronize.Barrier,
    results: multiprocessing.Queue,
) -> None:
    """Pin this process to `cores`, load the model, wait for the others, embed, report (seconds, peak MB)."""
    os.sched_setaffinity(0, cores)
    settings = Settings()
    embedder = SentenceTransformerEmbedder(
        settings.embedding_model, model_dir=settings.model_dir, batch_size=settings.batch_size, backend=backend
    )
    embedder.embed_documents(["warm-up"], titles=["warm-up"])
    ready.wait()
    started = time.perf_counter()
    embedder.embed_documents(texts, titles=titles)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put((time.perf_counter() - started, peak_mb))


def run(layout: list[list[int]], texts: list[str], titles: list[str], backend: str) -> tuple[float, float]:
    """Seconds until every process of `layout` (one list of cores per process) embedded its share; peak MB."""
    context = multiprocessing.get_context("spawn")
    ready, results = context.Barrier(len(layout)), context.Queue()
    workers = [
        context.Process(
            target=embed_share, args=(cores, texts[n :: len(layout)], titles[n :: len(layout)], backend, ready, results)
        )
        for n, cores in enumerate(layout)
    ]
    for worker in workers:
        worker.start()
    reports = [results.get() for _ in workers]
    for worker in workers:
        worker.join()
    return max(seconds for seconds, _ in reports), max(peak for _, peak in reports)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=300)
    parser.add_argument("--backend", default="onnx-int8")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = rows[: args.passages]
    texts, titles = [str(r["text"]) for r in rows], [str(r["title"]) for r in rows]
    cores = sorted(os.sched_getaffinity(0))
    layouts = {f"1 x {len(cores)}": [cores], f"{len(cores)} x 1": [[c] for c in cores]}
    print(f"{len(texts)} passages, backend {args.backend}, cores {cores}, load {os.getloadavg()[0]:.2f}")
    seconds: dict[str, list[float]] = {name: [] for name in layouts}
    for _ in range(args.rounds):
        for name, layout in layouts.items():
            spent, peak = run(layout, texts, titles, args.backend)
            seconds[name].append(spent)
            print(f"  {name:>6}: {spent:6.1f} s, {len(texts) / spent:5.1f} texts/s, peak {peak:,.0f} MB per process")
    for name, spent in seconds.items():
        print(f"{name:>6} (processes x cores each): best {len(texts) / min(spent):5.1f} texts/s")
    print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
