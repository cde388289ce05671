"""Reading generations of formats 2 and 3 (one directory of tables and vectors each), to migrate them."""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from rag.errors import IndexCorruptError, IndexIncompatibleError
from rag.indexing.segment_builder import SegmentBuilder, document_languages
from rag.model.embedding import Vectors
from rag.reading.documents import Document, Span
from rag.reading.sources import legacy
from rag.storage.files import sha256
from rag.storage.postings import Postings
from rag.storage.segments import SegmentContent, StoredDocument, document_centrality
from rag.storage.source_book import SourceBook
from rag.storage.store import FORMAT_VERSION, IndexStore

TABLES = "index.sqlite"
CHUNK_VECTORS = "chunks.faiss"
SENTENCE_VECTORS = "sentences.faiss"


@dataclass(frozen=True)
class LegacyContent:
    documents: list[StoredDocument]
    chunks: list[Span]
    chunk_vectors: Vectors
    sentences: list[Span]
    sentence_vectors: Vectors


def read_legacy(path: Path, manifest: dict[str, Any]) -> LegacyContent:
    """Everything a format 2 or 3 generation holds, after checking its files against the manifest."""
    for file_name, digest in manifest.get("files", {}).items():
        if not (path / file_name).is_file() or sha256(path / file_name) != digest:
            raise IndexCorruptError(f"{path / file_name} is missing or altered; run 'rag reindex FOLDER ...'")
    connection = sqlite3.connect(f"file:{path / TABLES}?mode=ro", uri=True)
    try:
        columns = {row[1] for row in connection.execute("PRAGMA table_info(documents)")}
        # Format 2 lacks the files' size and modification time: such files are read once more.
        stamp = "d.size, d.mtime_ns" if "mtime_ns" in columns else "0, 0"
        rows = connection.execute(
            f"SELECT d.id, d.title, d.source, d.hash, d.text, d.pages, d.added_at, d.updated_at, {stamp} "
            "FROM documents d ORDER BY d.id"
        ).fetchall()
        texts = {row[0]: row[4] for row in rows}

        def spans(table: str) -> list[Span]:
            query = f"SELECT doc_id, start, end FROM {table} ORDER BY id"
            return [Span(d, s, e, texts[d][s:e]) for d, s, e in connection.execute(query)]

        chunks, sentences = spans("chunks"), spans("sentences")
    finally:
        connection.close()
    documents = [
        StoredDocument(
            Document(i, title, text, source, digest, tuple(json.loads(pages)), (size, mtime)), added, updated
        )
        for i, title, source, digest, text, pages, added, updated, size, mtime in rows
    ]
    return LegacyContent(
        documents, chunks, _vectors(path / CHUNK_VECTORS), sentences, _vectors(path / SENTENCE_VECTORS)
    )


def _vectors(path: Path) -> Vectors:
    index = faiss.read_index(str(path))
    if index.ntotal == 0:
        return np.zeros((0, index.d), dtype=np.float32)
    return np.ascontiguousarray(index.reconstruct_n(0, index.ntotal), dtype=np.float32)


def migrate(store: IndexStore, builder: SegmentBuilder, book: SourceBook) -> str | None:
    """Rewrite the newest readable generation of an older format as a generation of one segment.

    Its vectors are kept (nothing is embedded); returns the new generation's name, None when there is none.
    """
    model = builder.embedder.model_name
    for name in reversed(store.finished()):
        try:
            manifest = store.manifest(name, model=model, legacy=True)
            if manifest.get("format_version") == FORMAT_VERSION:
                continue
            content = read_legacy(store.generations_dir / name, manifest)
        except (IndexCorruptError, IndexIncompatibleError, sqlite3.DatabaseError):
            continue
        chunks = Counter(c.doc_id for c in content.chunks)
        sentences = Counter(s.doc_id for s in content.sentences)
        documents = [
            replace(d, chunk_count=chunks[d.document.id], sentence_count=sentences[d.document.id])
            for d in content.documents
        ]
        segment = SegmentContent(
            documents=documents,
            chunks=content.chunks,
            chunk_vectors=content.chunk_vectors,
            sentences=content.sentences,
            sentence_vectors=content.sentence_vectors,
            centrality=document_centrality(content.sentences, content.sentence_vectors),
            postings=Postings.build(
                [c.text for c in content.chunks],
                builder.tokenizer,
                document_languages(builder.tokenizer, content.documents, content.chunks),
            ),
        )
        entries = [store.add_segment(segment, model=model)] if content.documents else []
        sources = [str(s) for s in manifest.get("sources", [])]
        if not book.exists():
            book.write(legacy(sources))
        return store.publish(
            entries, model=model, dimension=int(manifest["dimension"]), chunking=manifest["chunking"], sources=sources
        )
    return None
