"""Merging segments: which to merge (a tiered policy, after Lucene's) and the merged content.

Every write adds one small segment; left alone, a collection edited file by file would become
thousands of one-document segments, each searched on every question. Segments are grouped in
tiers by size (1-9 documents, 10-99, 100-999, ...); when a tier holds `MERGE_FACTOR` segments they
become one segment of the next tier, so a collection of n documents keeps O(log n) segments and
every document is rewritten O(log n) times over its life. A segment whose documents are mostly
deleted is rewritten without them.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

import numpy as np

from rag.storage.entries import SegmentEntry
from rag.storage.generation import Part
from rag.storage.postings import Postings
from rag.storage.segments import SegmentContent
from rag.storage.store import IndexStore

MERGE_FACTOR = 10
# Above this share of deleted documents a segment is rewritten, so deletions do not pile up in big segments.
MAX_DELETED_SHARE = 0.5


def _tier(entry: SegmentEntry) -> int:
    return int(math.log10(max(1, entry.documents + len(entry.deleted))))


def plan(entries: Sequence[SegmentEntry]) -> list[list[str]]:
    """Groups of segment names to merge, each into one segment."""
    tiers: dict[int, list[SegmentEntry]] = {}
    for entry in entries:
        if entry.documents:
            tiers.setdefault(_tier(entry), []).append(entry)
    groups = [[e.name for e in members] for members in tiers.values() if len(members) >= MERGE_FACTOR]
    merging = {name for group in groups for name in group}
    for entry in entries:
        share = len(entry.deleted) / max(1, entry.documents + len(entry.deleted))
        if entry.documents and entry.name not in merging and share > MAX_DELETED_SHARE:
            groups.append([entry.name])
    return groups


def merged(parts: Sequence[Part]) -> SegmentContent:
    """The live documents of `parts` as one segment's content, in document id order (as a fresh build)."""
    homes = sorted(
        (doc_id, number)
        for number, part in enumerate(parts)
        for doc_id in part.segment.doc_ids
        if doc_id not in part.deleted
    )
    chunk_rows: list[np.ndarray] = []
    sentence_rows: list[np.ndarray] = []
    chunk_base = np.cumsum([0] + [len(p.segment.chunks) for p in parts])
    sentence_base = np.cumsum([0] + [len(p.segment.sentences) for p in parts])
    for doc_id, number in homes:
        segment = parts[number].segment
        doc = bisect.bisect_left(segment.doc_ids, doc_id)
        chunk_rows.append(chunk_base[number] + _rows(segment.chunk_docs, doc))
        sentence_rows.append(sentence_base[number] + _rows(segment.sentence_docs, doc))
    chunks_at = np.concatenate(chunk_rows) if chunk_rows else np.zeros(0, np.int64)
    sentences_at = np.concatenate(sentence_rows) if sentence_rows else np.zeros(0, np.int64)
    all_chunks = [c for p in parts for c in p.segment.chunks]
    all_sentences = [s for p in parts for s in p.segment.sentences]
    dimension = parts[0].segment.dimension if parts else 0
    return SegmentContent(
        documents=[parts[number].segment.documents[doc_id] for doc_id, number in homes],
        chunks=[all_chunks[i] for i in chunks_at],
        chunk_vectors=_stack([p.segment.chunk_vectors for p in parts], chunks_at, dimension),
        sentences=[all_sentences[i] for i in sentences_at],
        sentence_vectors=_stack([p.segment.sentence_vectors for p in parts], sentences_at, dimension),
        centrality=np.concatenate([p.segment.centrality for p in parts] or [np.zeros(0, np.float32)])[sentences_at],
        postings=Postings.stack([p.segment.postings for p in parts], chunks_at),
    )


def _rows(docs: np.ndarray, number: int) -> np.ndarray:
    """The rows of document `number` (rows are grouped by document, in id order)."""
    return np.arange(np.searchsorted(docs, number, "left"), np.searchsorted(docs, number, "right"), dtype=np.int64)


def _stack(matrices: Sequence[np.ndarray], rows: np.ndarray, dimension: int) -> np.ndarray:
    if not len(rows):
        return np.zeros((0, dimension), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(matrices)[rows], dtype=np.float32)


def merge(store: IndexStore, entries: list[SegmentEntry], groups: list[list[str]]) -> list[SegmentEntry]:
    """Each group of segments replaced by one merged segment, where the group's first one was."""
    for group in groups:
        members = [e for e in entries if e.name in group]
        parts = [Part.of(store.open_segment(e), e.deleted) for e in members]
        content = merged(parts)
        model = parts[0].segment.model
        replacement = store.add_segment(content, model=model) if content.documents else None
        at = entries.index(members[0])
        entries = [e for e in entries if e.name not in group]
        if replacement is not None:
            entries.insert(at, replacement)
    return entries
