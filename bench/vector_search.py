"""Vector search alone (no model): exact search against the HNSW graph a large segment gets, at 100k / 1M rows.

Usage: python bench/vector_search.py [--sizes 100000 1000000] [--queries 200] [--vectors embeddings.sqlite]
                                    [--model NAME] [--partner W] [--breadths 64 128] [--build-breadths 40 80]

Rows are made from real EmbeddingGemma vectors of a vector cache (default: the evaluation cache of `rag eval`,
the vectors of one model and backend, by default this machine's for a new index):
each row is a random real vector plus W times another random one, with a little noise (cosine about 0.95 with
the mix), normalised. With W = 0 rows are noisy copies of the ~22,000 real vectors, so at 1M each has ~45
near-identical copies and a query's ten nearest rows are near-ties that no index can rank reliably; the
default W = 0.5 spreads the rows over the space the real vectors span without such ties. Without a cache,
random unit vectors (a harder, structureless case). Queries are made the same way. Both index types are built by
the service's own `vector_index` and searched one query at a time by its `top_live`, as a question searches
a segment, the graph at each --breadths (FAISS's efSearch; the service searches at GRAPH_BREADTH), built at
each --build-breadths (efConstruction; the service builds at GRAPH_BUILD_BREADTH). Prints build seconds,
p50 / p99 ms per query, recall@10 against exact search and memory per million vectors.
"""

from __future__ import annotations

import argparse
import sqlite3
import time
from pathlib import Path

import faiss
import numpy as np

from rag.config import Settings
from rag.model.backends import qualified_name
from rag.storage.generation import GRAPH_BREADTH, top_live
from rag.storage.vectors import GRAPH_BUILD_BREADTH, vector_index

DIMENSION = 768
NOISE = 0.012  # per coordinate, on unit vectors: cosine about 0.95 with the source vector


def _sources(cache: Path, model: str) -> np.ndarray:
    # One model's vectors only: the same text under two backends gives two vectors 0.998+ alike, near-ties again.
    if not cache.is_file():
        return np.zeros((0, DIMENSION), dtype=np.float32)
    with sqlite3.connect(f"file:{cache}?mode=ro", uri=True) as connection:
        rows = connection.execute("SELECT vector FROM vectors WHERE model = ?", (model,)).fetchall()
    vectors = [np.frombuffer(blob, dtype=np.float32) for (blob,) in rows]
    return np.stack([v for v in vectors if v.shape == (DIMENSION,)]) if vectors else np.zeros((0, DIMENSION))


def _noisy(sources: np.ndarray, n: int, rng: np.random.Generator, partner: float) -> np.ndarray:
    if len(sources):
        base = sources[rng.integers(0, len(sources), n)] + partner * sources[rng.integers(0, len(sources), n)]
        base /= np.linalg.norm(base, axis=1, keepdims=True)
        vectors = base + rng.standard_normal(base.shape, dtype=np.float32) * NOISE
    else:
        vectors = rng.standard_normal((n, DIMENSION), dtype=np.float32)
    return np.ascontiguousarray(vectors / np.linalg.norm(vectors, axis=1, keepdims=True), dtype=np.float32)


def _search(index: object, queries: np.ndarray, live: np.ndarray, breadth: int) -> tuple[list[np.ndarray], list[float]]:
    found, seconds = [], []
    for query in queries:
        started = time.perf_counter()
        rows, _ = top_live(index, query, live, 10, breadth=breadth)
        seconds.append(time.perf_counter() - started)
        found.append(rows)
    return found, seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--vectors", type=Path, default=Settings().eval_dir / "embeddings.sqlite")
    parser.add_argument("--partner", type=float, default=0.5, help="weight of a second real vector in each row")
    settings = Settings()
    parser.add_argument("--model", default=qualified_name(settings.embedding_model, settings.backend_for_new_index))
    parser.add_argument("--breadths", type=int, nargs="+", default=[GRAPH_BREADTH])
    parser.add_argument("--build-breadths", type=int, nargs="+", default=[GRAPH_BUILD_BREADTH])
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    sources = _sources(args.vectors, args.model)
    print(
        f"{len(sources):,} real vectors of {args.model} from {args.vectors}, partner weight {args.partner}; "
        f"{faiss.omp_get_max_threads()} FAISS threads"
    )
    print("rows | index | build breadth | breadth | build s | p50 ms | p99 ms | recall@10 | MB per million vectors")
    for size in args.sizes:
        vectors = _noisy(sources, size, rng, args.partner)
        queries = _noisy(sources, args.queries, rng, args.partner)
        live = np.ones(size, dtype=bool)
        exact_rows: list[np.ndarray] = []
        builds = [("exact", size + 1, 0)] + [("graph", size, b) for b in args.build_breadths]
        for name, threshold, build_breadth in builds:
            started = time.perf_counter()
            index = vector_index(vectors, DIMENSION, threshold, build_breadth=build_breadth or GRAPH_BUILD_BREADTH)
            built = time.perf_counter() - started
            megabytes = len(faiss.serialize_index(index)) / 2**20 * 1_000_000 / size
            for breadth in args.breadths if name == "graph" else [0]:
                found, seconds = _search(index, queries, live, breadth)
                if name == "exact":
                    exact_rows = found
                recall = np.mean([len(set(f) & set(e)) / 10 for f, e in zip(found, exact_rows, strict=True)])
                print(
                    f"{size:,} | {name} | {build_breadth or '-'} | {breadth or '-'} | {built:.1f} | "
                    f"{1000 * np.percentile(seconds, 50):.2f} | "
                    f"{1000 * np.percentile(seconds, 99):.2f} | {recall:.3f} | {megabytes:,.0f}"
                )
            del index


if __name__ == "__main__":
    main()
