"""A generation as readers see it: its segments with their deleted rows masked, under one position space.

Positions number the rows of all segments in manifest order (deleted rows keep their positions but
are never returned). Opening a generation costs O(segments) given loaded segments: only the masks of
segments whose deletions changed are computed again.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from rag.model.embedding import Vectors
from rag.reading.documents import Span
from rag.storage.postings import LexicalPart
from rag.storage.segments import Segment, StoredDocument
from rag.storage.vectors import is_graph

Mask = npt.NDArray[np.bool_]
Positions = npt.NDArray[np.int64]
Scores = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Part:
    """One segment as a generation sees it: which of its rows are live."""

    segment: Segment
    deleted: frozenset[str]
    live_chunks: Mask
    live_sentences: Mask
    centrality_sum: float  # over live sentences that have a centrality
    centrality_count: int

    @classmethod
    def of(cls, segment: Segment, deleted: frozenset[str]) -> Part:
        dead_chunks, dead_sentences = segment.rows_of(deleted)
        live_sentences = ~dead_sentences
        known = live_sentences & ~np.isnan(segment.centrality)
        return cls(
            segment,
            deleted,
            ~dead_chunks,
            live_sentences,
            float(segment.centrality[known].sum()),
            int(known.sum()),
        )

    def document(self, doc_id: str) -> StoredDocument | None:
        return None if doc_id in self.deleted else self.segment.documents.get(doc_id)


# How many candidates a graph search keeps while it walks (FAISS's efSearch), at least 2k.
GRAPH_BREADTH = 64


def top_live(
    index: Any, vector: Vectors, live: Mask, k: int, *, breadth: int = GRAPH_BREADTH
) -> tuple[Positions, Scores]:
    """The k best live rows of a segment's FAISS index.

    Exact search is asked for as many more rows as there are hidden ones; a graph is searched with the hidden
    rows filtered out as it walks, at `breadth` (bench/vector_search.py measures recall against exact search).
    """
    total = int(index.ntotal)
    if not total or k <= 0:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    if is_graph(index):
        return _top_in_graph(index, vector, live, min(k, total), breadth)
    hidden = total - int(live.sum())
    scores, rows = index.search(vector.reshape(1, -1), min(total, k + hidden))
    keep = rows[0] >= 0
    rows, scores = rows[0][keep], scores[0][keep]
    keep = live[rows]
    return rows[keep][:k].astype(np.int64), scores[keep][:k]


def _top_in_graph(index: Any, vector: Vectors, live: Mask, k: int, breadth: int) -> tuple[Positions, Scores]:
    hidden = not bool(live.all())
    packed = np.packbits(live, bitorder="little") if hidden else None
    params = faiss.SearchParametersHNSW(  # type: ignore[attr-defined]  # missing from faiss's own stubs
        efSearch=max(breadth, 2 * k),
        sel=faiss.IDSelectorBitmap(len(live), faiss.swig_ptr(packed)) if packed is not None else None,
    )
    scores, rows = index.search(vector.reshape(1, -1), k, params=params)
    keep = rows[0] >= 0
    return rows[0][keep].astype(np.int64), scores[0][keep]


class Generation:
    """A loaded, read-only generation."""

    def __init__(self, name: str, path: Path, manifest: dict[str, Any], parts: list[Part]) -> None:
        self.name = name
        self.path = path
        self.manifest = manifest
        self.parts = parts
        self._chunk_offsets = list(np.cumsum([0] + [len(p.segment.chunks) for p in parts])[:-1])
        self._sentence_offsets = list(np.cumsum([0] + [len(p.segment.sentences) for p in parts])[:-1])
        known = sum(p.centrality_count for p in parts)
        # A sentence alone in its document gets the collection's mean centrality: neither favoured nor held back.
        self.mean_centrality = sum(p.centrality_sum for p in parts) / known if known else 0.0

    @property
    def model(self) -> str:
        return str(self.manifest["model"])

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    @property
    def chunk_count(self) -> int:
        """Chunk positions in use, deleted rows included."""
        return sum(len(p.segment.chunks) for p in self.parts)

    def lexical_parts(self) -> list[LexicalPart]:
        return [
            LexicalPart(p.segment.postings, p.live_chunks, int(o))
            for p, o in zip(self.parts, self._chunk_offsets, strict=True)
        ]

    def document(self, doc_id: str) -> StoredDocument | None:
        for part in reversed(self.parts):
            stored = part.document(doc_id)
            if stored is not None:
                return stored
        return None

    def documents(self) -> list[StoredDocument]:
        """Every live document, by id."""
        found = [d for p in self.parts for i, d in p.segment.documents.items() if i not in p.deleted]
        return sorted(found, key=lambda d: d.document.id)

    @staticmethod
    def _locate(offsets: list[int], position: int) -> tuple[int, int]:
        part = bisect.bisect_right(offsets, position) - 1
        return part, position - int(offsets[part])

    def chunk(self, position: int) -> Span:
        part, row = self._locate(self._chunk_offsets, position)
        return self.parts[part].segment.chunks[row]

    def sentence(self, position: int) -> Span:
        part, row = self._locate(self._sentence_offsets, position)
        return self.parts[part].segment.sentences[row]

    def chunk_sentences(self, position: int) -> list[int]:
        """Positions of the sentences the chunk at `position` overlaps."""
        part, row = self._locate(self._chunk_offsets, position)
        offset = int(self._sentence_offsets[part])
        return [offset + s for s in self.parts[part].segment.chunk_sentences[row]]

    def best_sentence_score(self, chunk_position: int, vector: Vectors) -> float | None:
        """The highest cosine of `vector` with a sentence the chunk overlaps (None for a chunk without any)."""
        part, row = self._locate(self._chunk_offsets, chunk_position)
        segment = self.parts[part].segment
        rows = segment.chunk_sentences[row]
        if not rows:
            return None
        return float(np.max(np.asarray(segment.sentence_vectors[rows], dtype=np.float32) @ vector))

    def sentence_vector(self, position: int) -> Vectors:
        part, row = self._locate(self._sentence_offsets, position)
        return np.asarray(self.parts[part].segment.sentence_vectors[row], dtype=np.float32)

    def centrality(self, position: int) -> float:
        part, row = self._locate(self._sentence_offsets, position)
        value = float(self.parts[part].segment.centrality[row])
        return self.mean_centrality if np.isnan(value) else value

    def top_chunks(self, vector: Vectors, k: int) -> tuple[Positions, Scores]:
        """The k live chunks most similar to `vector` (positions, cosines), best first."""
        found = [
            (rows + int(offset), scores)
            for part, offset in zip(self.parts, self._chunk_offsets, strict=True)
            for rows, scores in [top_live(part.segment.chunk_index, vector, part.live_chunks, k)]
        ]
        return self._best(found, k)

    def top_sentence_scores(self, vector: Vectors, k: int, *, exclude: frozenset[str] = frozenset()) -> Scores:
        """The k highest cosines of `vector` with live sentences outside the `exclude`d documents."""
        found = []
        for part in self.parts:
            live = part.live_sentences
            if exclude:
                live = live & ~part.segment.rows_of(exclude)[1]
            rows, scores = top_live(part.segment.sentence_index, vector, live, k)
            found.append((rows, scores))
        return self._best(found, k)[1]

    @staticmethod
    def _best(found: list[tuple[Positions, Scores]], k: int) -> tuple[Positions, Scores]:
        if not found:
            return np.zeros(0, np.int64), np.zeros(0, np.float32)
        positions = np.concatenate([f[0] for f in found])
        scores = np.concatenate([f[1] for f in found]).astype(np.float32)
        order = np.argsort(-scores, kind="stable")[:k]
        return positions[order], scores[order]
