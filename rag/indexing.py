"""Reindexing: load -> chunk -> embed what changed -> publish a new index generation."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from filelock import FileLock, Timeout
from tqdm import tqdm

from rag.chunking import Chunker
from rag.documents import Document, Skipped, Span
from rag.embedding import Embedder, Vectors
from rag.errors import (
    DocumentNotFoundError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexNotFoundError,
)
from rag.sentences import MAX_SENTENCE_CHARS, split_sentences
from rag.store import Generation, IndexContent, IndexStore, StoredDocument
from rag.vector_cache import VectorCache, embed_with_cache, text_key

BUNDLED = "bundled"
LOCK_FILE = ".lock"


@dataclass(frozen=True)
class ReindexReport:
    """What a reindex did (or, with dry_run, would do)."""

    generation: str | None
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    texts_embedded: int = 0
    seconds: float = 0.0
    dry_run: bool = False


def _within(source: str, roots: Sequence[str]) -> bool:
    return any(source == root or source.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


class Indexer:
    """Builds generations; one writer at a time, guarded by a file lock shared by CLI and service."""

    def __init__(
        self,
        store: IndexStore,
        embedder: Embedder,
        cache: VectorCache,
        chunker: Chunker,
        *,
        keep_generations: int = 3,
        lock_timeout: float = 600.0,
        sentences: bool = True,
        previous: Callable[[], Generation] | None = None,
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.cache = cache
        self.chunker = chunker
        self.keep_generations = keep_generations
        self.lock_timeout = lock_timeout
        # Without sentences an index can rank passages but not compose answers (retrieval benchmarks).
        self.sentences = sentences
        # How to load the generation to build on (default: the one in CURRENT).
        self.load_previous = previous or (lambda: self.store.load(model=self.embedder.model_name))

    def _previous(self) -> Generation | None:
        try:
            return self.load_previous()
        except (IndexNotFoundError, IndexIncompatibleError, IndexCorruptError):
            # A missing, other-model or damaged index is rebuilt from scratch.
            return None

    @property
    def chunking(self) -> dict[str, Any]:
        """How text was cut, recorded in the manifest."""
        return {
            "splitter": "RecursiveCharacterTextSplitter",
            "size": self.chunker.size,
            "overlap": self.chunker.overlap,
            "sentences": self.sentences,
            "max_sentence_chars": MAX_SENTENCE_CHARS,
        }

    def sync(
        self,
        documents: Sequence[Document],
        *,
        roots: Sequence[str],
        skipped: Sequence[Skipped] = (),
        dry_run: bool = False,
        progress: bool = False,
        replace: bool = False,
    ) -> ReindexReport:
        """Make the index hold `documents`; drop indexed documents under `roots` (all, with replace) not seen."""
        with self._writer():
            previous = self._previous()
            old = {d.document.id: d for d in previous.content.documents} if previous else {}
            seen = {d.id for d in documents}
            gone = [i for i, d in old.items() if i not in seen and (replace or _within(d.document.source, roots))]
            kept = [d for i, d in old.items() if i not in seen and i not in gone]
            sources = sorted(set(previous.content.sources if previous else []) | set(roots))
            return self._build(previous, kept, documents, gone, sources, skipped, dry_run, progress)

    def remove(self, doc_ids: Sequence[str], *, progress: bool = False) -> ReindexReport:
        with self._writer():
            previous = self._previous()
            old = previous.content.documents if previous else []
            kept = [d for d in old if d.document.id not in doc_ids]
            gone = [d.document.id for d in old if d.document.id in doc_ids]
            unknown = sorted(set(doc_ids) - set(gone))
            if unknown:
                raise DocumentNotFoundError(f"no document with id {unknown[0]!r}; 'rag documents' lists them")
            sources = previous.content.sources if previous else []
            return self._build(previous, kept, [], gone, sources, [], False, progress)

    @contextmanager
    def _writer(self) -> Iterator[None]:
        self.store.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.store.root / LOCK_FILE, timeout=self.lock_timeout)
        try:
            lock.acquire()
        except Timeout as exc:
            raise IndexBusyError(
                f"another process is writing the index in {self.store.root}; try again when it finishes"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def _build(
        self,
        previous: Generation | None,
        kept: Sequence[StoredDocument],
        incoming: Sequence[Document],
        gone: Sequence[str],
        sources: Sequence[str],
        skipped: Sequence[Skipped],
        dry_run: bool,
        progress: bool,
    ) -> ReindexReport:
        started = time.perf_counter()
        now = time.time()
        old = {d.document.id: d for d in previous.content.documents} if previous else {}
        added, changed, unchanged = [], [], []
        final: list[StoredDocument] = list(kept)
        for document in incoming:
            before = old.get(document.id)
            if before is None:
                added.append(document.id)
                final.append(StoredDocument(document, now, now))
            elif before.document.hash != document.hash or before.document.title != document.title:
                changed.append(document.id)
                final.append(StoredDocument(document, before.added_at, now))
            else:
                unchanged.append(document.id)
                final.append(before)
        final.sort(key=lambda d: d.document.id)
        chunks = [span for d in final for span in self.chunker.split(d.document)]
        sentences = [
            Span(d.document.id, s, e, d.document.text[s:e])
            for d in final
            if self.sentences
            for s, e in split_sentences(d.document.text)
        ]
        titles = {d.document.id: d.document.title for d in final}
        texts = [(titles[span.doc_id], span.text) for span in [*chunks, *sentences]]
        keys = {text_key(text, title) for title, text in texts}
        pending = len(keys - set(self.cache.lookup(self.embedder.model_name, sorted(keys))))
        nothing_changed = (
            previous is not None
            and not (added or changed or gone)
            and (sorted(sources) == sorted(previous.content.sources))
            # A new chunker or sentence splitter rebuilds everything (vectors come from the cache).
            and previous.manifest.get("chunking") == self.chunking
        )
        if dry_run or nothing_changed:
            return ReindexReport(
                previous.name if previous else None,
                added,
                changed,
                list(gone),
                unchanged,
                list(skipped),
                0 if nothing_changed else pending,
                time.perf_counter() - started,
                dry_run,
            )
        vectors, embedded = self._embed(texts, pending, progress)
        content = IndexContent(
            documents=final,
            chunks=chunks,
            chunk_vectors=vectors[: len(chunks)],
            sentences=sentences,
            sentence_vectors=vectors[len(chunks) :],
            sources=list(sources),
        )
        name = self.store.publish(
            content,
            model=self.embedder.model_name,
            dimension=int(vectors.shape[1]),
            chunking=self.chunking,
        )
        self.store.prune(keep=self.keep_generations)
        return ReindexReport(
            name, added, changed, list(gone), unchanged, list(skipped), embedded, time.perf_counter() - started
        )

    def _embed(self, texts: list[tuple[str, str]], pending: int, progress: bool) -> tuple[Vectors, int]:
        with tqdm(total=pending, desc="embedding", unit="text", disable=not progress or not pending) as bar:
            vectors, embedded = embed_with_cache(self.embedder, self.cache, texts, on_batch=bar.update)
        return vectors, embedded
