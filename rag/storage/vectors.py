"""A segment's vectors in FAISS: exact inner-product search, or an HNSW graph for large segments."""

from __future__ import annotations

from typing import Any

import faiss
import numpy as np

from rag.model.embedding import Vectors

# From this many rows on, a segment's vectors get an HNSW graph instead of exact search. Measured with
# bench/vector_search.py (EmbeddingGemma vectors, 2 cores): exact search costs about 21 ms per 100,000 rows
# per query, a question's whole budget beside its ~30 ms embedding; the graph (M=32) answers in 0.4 ms.
GRAPH_MIN_ROWS = 50_000
GRAPH_NEIGHBOURS = 32
# FAISS's efConstruction. Recall@10 against exact search at the service's search breadth, 100k / 1M rows:
# 40 (FAISS's default) 0.933 / 0.831, 80 0.973 / 0.884, 160 0.974 / 0.934; build 19 / 27 / 58 s per 100k
# rows and 189 / 275 / 665 s per million. 80 buys most of the recall for 1.4x the build time and no search time.
GRAPH_BUILD_BREADTH = 80


def vector_index(
    vectors: Vectors, dimension: int, graph_min_rows: int, *, build_breadth: int = GRAPH_BUILD_BREADTH
) -> Any:
    """Exact inner-product search, or an HNSW graph over the same vectors for `graph_min_rows` rows and more
    (`build_breadth`: FAISS's efConstruction)."""
    index: Any
    if len(vectors) >= graph_min_rows:
        index = faiss.IndexHNSWFlat(dimension, GRAPH_NEIGHBOURS, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = build_breadth
    else:
        index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def is_graph(index: Any) -> bool:
    return isinstance(index, faiss.IndexHNSW)


def vectors_of(index: Any) -> Vectors:
    """The vectors a FAISS index holds (a graph's in its flat storage), as a read-only view (no copy)."""
    flat: Any = faiss.downcast_index(index.storage) if is_graph(index) else index
    if flat.ntotal == 0:
        return np.zeros((0, flat.d), dtype=np.float32)
    view = faiss.rev_swig_ptr(flat.get_xb(), flat.ntotal * flat.d).reshape(flat.ntotal, flat.d)
    view.flags.writeable = False
    return view
