"""The on-disk index: one directory per generation (FAISS vectors + SQLite tables + manifest), switched atomically."""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.documents import Document, Span
from rag.embedding import Vectors
from rag.errors import IndexCorruptError, IndexIncompatibleError, IndexNotFoundError

FORMAT_VERSION = 3
# Format 2 lacks the files' size and modification time; it is read with (0, 0), so its files are
# read once more by the next reindex, which then writes format 3.
READABLE_FORMATS = (2, 3)
GENERATIONS = "generations"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
TABLES = "index.sqlite"
CHUNK_VECTORS = "chunks.faiss"
SENTENCE_VECTORS = "sentences.faiss"

SCHEMA = """
CREATE TABLE documents (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, source TEXT NOT NULL, hash TEXT NOT NULL,
    text TEXT NOT NULL, pages TEXT NOT NULL, added_at REAL NOT NULL, updated_at REAL NOT NULL,
    size INTEGER NOT NULL DEFAULT 0, mtime_ns INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE chunks (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
CREATE TABLE sentences (id INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, start INTEGER NOT NULL, end INTEGER NOT NULL);
"""


@dataclass(frozen=True)
class StoredDocument:
    document: Document
    added_at: float
    updated_at: float
    chunk_count: int = 0


@dataclass(frozen=True)
class IndexContent:
    """Everything a generation holds, in memory. Row i of a vector matrix belongs to span i."""

    documents: list[StoredDocument]
    chunks: list[Span]
    chunk_vectors: Vectors
    sentences: list[Span]
    sentence_vectors: Vectors
    sources: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Generation:
    """A loaded, read-only index generation."""

    name: str
    path: Path
    manifest: dict[str, Any]
    content: IndexContent
    chunk_index: Any  # faiss.IndexFlatIP over content.chunk_vectors
    chunk_sentences: list[list[int]]  # chunk position -> positions of the sentences it overlaps
    by_id: dict[str, StoredDocument]

    @property
    def model(self) -> str:
        return str(self.manifest["model"])

    @property
    def dimension(self) -> int:
        return int(self.manifest["dimension"])

    def document(self, doc_id: str) -> StoredDocument | None:
        return self.by_id.get(doc_id)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _flat_index(vectors: Vectors, dimension: int) -> Any:
    index = faiss.IndexFlatIP(dimension)
    if len(vectors):
        index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    return index


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    _fsync_dir(path.parent)


def _overlaps(chunks: list[Span], sentences: list[Span]) -> list[list[int]]:
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


class IndexStore:
    """An index directory: `generations/<name>/` plus a `CURRENT` file naming the one in service."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def generations_dir(self) -> Path:
        return self.root / GENERATIONS

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def load(self, *, model: str) -> Generation:
        """Load the generation in service; refuse one built with another model or format."""
        name = self.current_name()
        if name is None:
            raise IndexNotFoundError(f"no index in {self.root}; run 'rag reindex' to build one")
        return self.load_generation(name, model=model)

    def finished(self) -> list[str]:
        """Names of the finished generations, oldest first."""
        if not self.generations_dir.is_dir():
            return []
        return sorted(p.name for p in self.generations_dir.iterdir() if not p.name.startswith("."))

    def load_newest_readable(self, *, model: str) -> Generation | None:
        """The generation in service, or when it cannot be read the newest one that can (None if none)."""
        current = self.current_name()
        names = [n for n in reversed(self.finished()) if n != current]
        for name in [current, *names] if current else names:
            try:
                return self.load_generation(name, model=model)
            except (IndexCorruptError, IndexIncompatibleError):
                continue
        return None

    def load_generation(self, name: str, *, model: str) -> Generation:
        path = self.generations_dir / name
        try:
            manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"index generation {name} has no readable manifest; run 'rag reindex'") from exc
        if manifest.get("format_version") not in READABLE_FORMATS:
            raise IndexIncompatibleError(
                f"index format {manifest.get('format_version')} in {path}, this version reads "
                f"{FORMAT_VERSION}; run 'rag reindex'"
            )
        if manifest.get("model") != model:
            raise IndexIncompatibleError(
                f"index built with model {manifest.get('model')!r}, engine uses {model!r}; run 'rag reindex'"
            )
        for file_name, digest in manifest["files"].items():
            if not (path / file_name).is_file() or _sha256(path / file_name) != digest:
                raise IndexCorruptError(f"{path / file_name} is missing or altered; run 'rag reindex'")
        content = self._read_content(path, manifest)
        return Generation(
            name=name,
            path=path,
            manifest=manifest,
            content=content,
            chunk_index=_flat_index(content.chunk_vectors, int(manifest["dimension"])),
            chunk_sentences=_overlaps(content.chunks, content.sentences),
            by_id={d.document.id: d for d in content.documents},
        )

    @staticmethod
    def _read_content(path: Path, manifest: dict[str, Any]) -> IndexContent:
        connection = sqlite3.connect(f"file:{path / TABLES}?mode=ro", uri=True)
        try:
            texts: dict[str, str] = {}
            columns = {row[1] for row in connection.execute("PRAGMA table_info(documents)")}
            stamp = "d.size, d.mtime_ns" if "mtime_ns" in columns else "0, 0"
            rows = connection.execute(
                f"SELECT d.id, d.title, d.source, d.hash, d.text, d.pages, d.added_at, d.updated_at, {stamp}, "
                "(SELECT COUNT(*) FROM chunks c WHERE c.doc_id = d.id) FROM documents d ORDER BY d.id"
            ).fetchall()
            documents = []
            for doc_id, title, source, digest, text, pages, added, updated, size, mtime, count in rows:
                texts[doc_id] = text
                document = Document(doc_id, title, text, source, digest, tuple(json.loads(pages)), (size, mtime))
                documents.append(StoredDocument(document, added, updated, count))

            def spans(table: str) -> list[Span]:
                query = f"SELECT doc_id, start, end FROM {table} ORDER BY id"
                return [Span(d, s, e, texts[d][s:e]) for d, s, e in connection.execute(query)]

            chunks, sentences = spans("chunks"), spans("sentences")
        finally:
            connection.close()
        chunk_vectors = _read_vectors(path / CHUNK_VECTORS)
        sentence_vectors = _read_vectors(path / SENTENCE_VECTORS)
        if len(chunk_vectors) != len(chunks) or len(sentence_vectors) != len(sentences):
            raise IndexCorruptError(f"{path}: vector and row counts differ; run 'rag reindex'")
        return IndexContent(
            documents, chunks, chunk_vectors, sentences, sentence_vectors, list(manifest.get("sources", []))
        )

    def publish(self, content: IndexContent, *, model: str, dimension: int, chunking: dict[str, Any]) -> str:
        """Write a new generation beside the others, then switch CURRENT to it in one rename."""
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        name = time.strftime("%Y%m%dT%H%M%S") + f"-{time.time_ns() % 1_000_000_000:09d}"
        staging = self.generations_dir / f".{name}.partial"
        staging.mkdir()
        _write_tables(staging / TABLES, content)
        faiss.write_index(_flat_index(content.chunk_vectors, dimension), str(staging / CHUNK_VECTORS))
        faiss.write_index(_flat_index(content.sentence_vectors, dimension), str(staging / SENTENCE_VECTORS))
        files = {f: _sha256(staging / f) for f in (TABLES, CHUNK_VECTORS, SENTENCE_VECTORS)}
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": name,
            "created_at": time.time(),
            "model": model,
            "dimension": dimension,
            "chunking": chunking,
            "counts": {
                "documents": len(content.documents),
                "chunks": len(content.chunks),
                "sentences": len(content.sentences),
            },
            "sources": content.sources,
            "files": files,
        }
        # The manifest is written last: a directory without one was never finished.
        _write_atomic(staging / MANIFEST, json.dumps(manifest, indent=2))
        staging.rename(self.generations_dir / name)
        _fsync_dir(self.generations_dir)
        _write_atomic(self.root / CURRENT, name + "\n")
        return name

    def prune(self, *, keep: int) -> list[str]:
        """Delete unfinished builds and all but the newest `keep` finished generations (never CURRENT)."""
        if not self.generations_dir.is_dir():
            return []
        current = self.current_name()
        finished = self.finished()
        doomed = [n for n in finished[: max(0, len(finished) - keep)] if n != current]
        doomed += [p.name for p in self.generations_dir.iterdir() if p.name.startswith(".")]
        for name in doomed:
            shutil.rmtree(self.generations_dir / name, ignore_errors=True)
        return doomed


def _read_vectors(path: Path) -> Vectors:
    index = faiss.read_index(str(path))
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def _write_tables(path: Path, content: IndexContent) -> None:
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
            for table, spans in (("chunks", content.chunks), ("sentences", content.sentences)):
                connection.executemany(
                    f"INSERT INTO {table} VALUES (?, ?, ?, ?)",
                    [(i, s.doc_id, s.start, s.end) for i, s in enumerate(spans)],
                )
    finally:
        connection.close()
