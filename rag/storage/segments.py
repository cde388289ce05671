"""Segments: immutable directories of documents with their chunks, sentences, vectors and postings.

A segment is written once (files, fsync, then `segment.json` with every file's sha256, then one
rename) and never changed; generations list segments and which of their documents are deleted.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from rag.errors import IndexCorruptError
from rag.language.identification import code_of
from rag.language.tokens import LANGUAGES
from rag.model.embedding import Vectors
from rag.reading.documents import Document, Span
from rag.storage.files import fsync_dir, fsync_file, sha256, write_atomic
from rag.storage.postings import Postings
from rag.storage.vectors import GRAPH_MIN_ROWS, vector_index, vectors_of

SEGMENT_FORMAT = 1
SEGMENT_MANIFEST = "segment.json"
ROWS = "rows.sqlite"
CHUNK_VECTORS = "chunks.faiss"
SENTENCE_VECTORS = "sentences.faiss"
POSTINGS = "postings.npz"
FILES = (ROWS, CHUNK_VECTORS, SENTENCE_VECTORS, POSTINGS)

SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, hash TEXT NOT NULL,
    text TEXT NOT NULL, pages TEXT NOT NULL, added_at REAL NOT NULL, updated_at REAL NOT NULL,
    size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL
);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE TABLE sentences (
    id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL, centrality REAL
);
CREATE INDEX chunks_by_document ON chunks (doc_id);
CREATE INDEX sentences_by_document ON sentences (doc_id);
"""

Floats = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StoredDocument:
    document: Document
    added_at: float
    updated_at: float
    chunk_count: int = 0
    sentence_count: int = 0
    # ISO 639-1 code of the language most of its text is in ('' when none was recognised): each chunk's language
    # is recorded with the postings, a document's is read from its chunks when its segment is loaded.
    language: str = ""


@dataclass(frozen=True)
class SegmentContent:
    """What one segment holds, in memory. Row i of a vector matrix belongs to span i.

    `centrality` is each sentence's cosine with the mean of the other sentences of its document
    (NaN for a sentence alone in its document): it depends on the document only, so it is computed
    once, when the document is indexed.
    """

    documents: list[StoredDocument]
    chunks: list[Span]
    chunk_vectors: Vectors
    sentences: list[Span]
    sentence_vectors: Vectors
    centrality: Floats
    postings: Postings


def document_centrality(sentences: Sequence[Span], vectors: Vectors) -> Floats:
    """Each sentence's cosine with the normalised sum of the other sentences of its document (NaN if alone)."""
    result = np.full(len(sentences), np.nan, dtype=np.float32)
    positions: dict[str, list[int]] = {}
    for position, sentence in enumerate(sentences):
        positions.setdefault(sentence.doc_id, []).append(position)
    for members in positions.values():
        if len(members) < 2:
            continue
        own = vectors[members]
        others = own.sum(axis=0, keepdims=True) - own
        norms = np.linalg.norm(others, axis=1)
        result[members] = (own * others).sum(axis=1) / np.where(norms > 0, norms, 1.0)
    return result


def new_name() -> str:
    """A name that sorts by creation time."""
    return time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"


def write_segment(
    directory: Path, content: SegmentContent, *, model: str, dimension: int, graph_min_rows: int = GRAPH_MIN_ROWS
) -> tuple[str, str]:
    """Write `content` as a new segment under `directory`; returns (name, sha256 of its segment.json)."""
    name = new_name()
    staging = directory / f".{name}.partial"
    staging.mkdir(parents=True)
    _write_rows(staging / ROWS, content)
    for vectors, file_name in ((content.chunk_vectors, CHUNK_VECTORS), (content.sentence_vectors, SENTENCE_VECTORS)):
        faiss.write_index(vector_index(vectors, dimension, graph_min_rows), str(staging / file_name))
    content.postings.save(staging / POSTINGS)
    for file_name in FILES:
        fsync_file(staging / file_name)
    manifest = {
        "format": SEGMENT_FORMAT,
        "name": name,
        "model": model,
        "dimension": dimension,
        "counts": {
            "documents": len(content.documents),
            "chunks": len(content.chunks),
            "sentences": len(content.sentences),
        },
        "files": {file_name: sha256(staging / file_name) for file_name in FILES},
    }
    # segment.json is written last: a directory without one was never finished.
    write_atomic(staging / SEGMENT_MANIFEST, json.dumps(manifest, indent=2))
    staging.rename(directory / name)
    fsync_dir(directory)
    return name, sha256(directory / name / SEGMENT_MANIFEST)


def _write_rows(path: Path, content: SegmentContent) -> None:
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.executescript(SCHEMA)
            connection.executemany(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        s.document.id,
                        s.document.title,
                        s.document.source,
                        s.document.hash,
                        s.document.text,
                        json.dumps(list(s.document.pages)),
                        s.added_at,
                        s.updated_at,
                        s.document.stamp[0],
                        s.document.stamp[1],
                    )
                    for s in content.documents
                ],
            )
            connection.executemany(
                "INSERT INTO chunks VALUES (?, ?, ?, ?)",
                [(i, s.doc_id, s.start, s.end) for i, s in enumerate(content.chunks)],
            )
            connection.executemany(
                "INSERT INTO sentences VALUES (?, ?, ?, ?, ?)",
                [
                    (i, s.doc_id, s.start, s.end, None if np.isnan(c) else float(c))
                    for i, (s, c) in enumerate(zip(content.sentences, content.centrality, strict=True))
                ],
            )
    finally:
        connection.close()


def _verified_manifest(path: Path, digest: str | None) -> dict[str, Any]:
    manifest_path = path / SEGMENT_MANIFEST
    try:
        if digest is not None and sha256(manifest_path) != digest:
            raise IndexCorruptError(f"{manifest_path} is altered; run 'rag reindex'")
        manifest: dict[str, Any] = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"segment {path.name} has no readable segment.json; run 'rag reindex'") from exc
    return manifest


def verify_segment(path: Path, digest: str | None, *, files: bool = True) -> dict[str, Any]:
    """The segment's manifest, after checking it against `digest` and (with `files`) every file against the
    sha256 it records."""
    manifest = _verified_manifest(path, digest)
    for file_name, expected in manifest.get("files", {}).items() if files else ():
        if not (path / file_name).is_file() or sha256(path / file_name) != expected:
            raise IndexCorruptError(f"{path / file_name} is missing or altered; run 'rag reindex'")
    return manifest


def read_documents(path: Path, *, text: bool) -> list[StoredDocument]:
    """The documents of a segment (with an empty text unless `text`), in id order."""
    connection = sqlite3.connect(f"file:{path / ROWS}?mode=ro", uri=True)
    try:
        body = "d.text" if text else "''"
        rows = connection.execute(
            f"SELECT d.id, d.title, d.source, d.hash, {body}, d.pages, d.added_at, d.updated_at, d.size, d.mtime_ns, "
            "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id), "
            "(SELECT COUNT(*) FROM sentences s WHERE s.doc_id = d.id) FROM documents d ORDER BY d.id"
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise IndexCorruptError(f"{path / ROWS} is unreadable ({exc}); run 'rag reindex'") from exc
    finally:
        connection.close()
    return [
        StoredDocument(
            Document(i, title, body, source, digest, tuple(json.loads(pages)), (size, mtime)), add, upd, c, n
        )
        for i, title, source, digest, body, pages, add, upd, size, mtime, c, n in rows
    ]


class Segment:
    """A loaded segment: read-only, shared by every generation that lists it."""

    def __init__(self, path: Path, *, digest: str | None, verified: bool = False) -> None:
        # Segments never change once written: one this process has verified is not hashed again.
        manifest = verify_segment(path, digest, files=not verified)
        self.name = path.name
        self.model = str(manifest["model"])
        self.dimension = int(manifest["dimension"])
        documents = read_documents(path, text=True)
        self.documents = {d.document.id: d for d in documents}
        texts = {d.document.id: d.document.text for d in documents}
        connection = sqlite3.connect(f"file:{path / ROWS}?mode=ro", uri=True)
        try:
            chunk_rows = connection.execute("SELECT doc_id, start, end FROM chunks ORDER BY id").fetchall()
            sentence_rows = connection.execute(
                "SELECT doc_id, start, end, centrality FROM sentences ORDER BY id"
            ).fetchall()
        finally:
            connection.close()
        self.chunks = [Span(d, s, e, texts[d][s:e]) for d, s, e in chunk_rows]
        self.sentences = [Span(d, s, e, texts[d][s:e]) for d, s, e, _ in sentence_rows]
        self.centrality = np.array([np.nan if c is None else c for *_, c in sentence_rows], dtype=np.float32)
        self.chunk_index = faiss.read_index(str(path / CHUNK_VECTORS))
        self.sentence_index = faiss.read_index(str(path / SENTENCE_VECTORS))
        self.chunk_vectors = vectors_of(self.chunk_index)
        self.sentence_vectors = vectors_of(self.sentence_index)
        self.postings = Postings.load(path / POSTINGS)
        if len(self.chunk_vectors) != len(self.chunks) or len(self.sentence_vectors) != len(self.sentences):
            raise IndexCorruptError(f"{path}: vector and row counts differ; run 'rag reindex'")
        order = sorted(self.documents)
        number = {doc_id: n for n, doc_id in enumerate(order)}
        self.doc_ids = order
        self.chunk_docs = np.array([number[c.doc_id] for c in self.chunks], dtype=np.int64)
        self.sentence_docs = np.array([number[s.doc_id] for s in self.sentences], dtype=np.int64)
        self.chunk_sentences = overlaps(self.chunks, self.sentences)
        self.documents = {
            doc_id: replace(d, language=self._language(number[doc_id])) for doc_id, d in self.documents.items()
        }

    def _language(self, doc: int) -> str:
        """The language of most of a document's characters, by its chunks' recorded languages."""
        weights: dict[int, int] = {}
        for position in np.flatnonzero(self.chunk_docs == doc):
            language = int(self.postings.languages[position])
            weights[language] = weights.get(language, 0) + len(self.chunks[position].text)
        return code_of(LANGUAGES[max(weights, key=weights.__getitem__)]) if weights else ""

    def rows_of(self, doc_ids: frozenset[str]) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        """(chunk mask, sentence mask) of the rows belonging to `doc_ids`."""
        numbers = np.array([n for n, d in enumerate(self.doc_ids) if d in doc_ids], dtype=np.int64)
        return np.isin(self.chunk_docs, numbers), np.isin(self.sentence_docs, numbers)


def overlaps(chunks: Sequence[Span], sentences: Sequence[Span]) -> list[list[int]]:
    """For each chunk, the positions of the sentences it overlaps."""
    by_doc: dict[str, list[int]] = {}
    for position, sentence in enumerate(sentences):
        by_doc.setdefault(sentence.doc_id, []).append(position)
    result: list[list[int]] = []
    for chunk in chunks:
        positions = by_doc.get(chunk.doc_id, [])
        starts = [sentences[p].start for p in positions]
        upto = bisect.bisect_left(starts, chunk.end)
        result.append([p for p in positions[:upto] if sentences[p].end > chunk.start])
    return result
