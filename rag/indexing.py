"""Reindexing: load -> chunk -> embed what changed -> publish a new index generation."""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout
from tqdm import tqdm

from rag.chunking import Chunker
from rag.documents import Document, Skipped, Span, default_corpus, scan
from rag.embedding import Embedder, Vectors
from rag.errors import (
    DocumentConflictError,
    DocumentError,
    DocumentNotFoundError,
    IndexBusyError,
    IndexCorruptError,
)
from rag.sentences import MAX_SENTENCE_CHARS, split_sentences
from rag.sources import BUNDLED_SOURCE, Source, SourceBook, legacy, resolve
from rag.store import Generation, IndexContent, IndexStore, StoredDocument
from rag.titles import UntitledContext, is_title_text, slot_title
from rag.vector_cache import VectorCache, embed_with_cache, text_key

LOCK_FILE = ".lock"


@dataclass(frozen=True)
class MissingSource:
    """A known root that was not found: its documents are kept until `rag reindex --prune`."""

    path: str
    documents: int


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
    missing: list[MissingSource] = field(default_factory=list)


def answer_units(document: Document) -> list[Span]:
    """The sentences an answer may quote: every sentence except the title line."""
    spans = (Span(document.id, s, e, document.text[s:e]) for s, e in split_sentences(document.text))
    return [span for span in spans if not is_title_text(span.text, document.title)]


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
        untitled: UntitledContext = "lead",
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.cache = cache
        self.chunker = chunker
        self.keep_generations = keep_generations
        self.lock_timeout = lock_timeout
        # Without sentences an index can rank passages but not compose answers (retrieval benchmarks).
        self.sentences = sentences
        self.untitled = untitled
        self.book = SourceBook(store.root)

    def _previous(self) -> Generation | None:
        # A damaged generation in service falls back to the newest one that reads; another model's
        # index is rebuilt from the sources.
        return self.store.load_newest_readable(model=self.embedder.model_name)

    def _sources(self, previous: Generation | None) -> list[Source]:
        """The roots indexed so far: sources.json, else (older indexes) the newest readable manifest."""
        if self.book.exists():
            return self.book.read()
        if previous is not None:
            return legacy(previous.content.sources)
        if self.store.finished():
            raise IndexCorruptError(
                f"no generation in {self.store.root} can be read and it has no {self.book.path.name}, so the "
                "indexed folders are unknown; run 'rag reindex FOLDER ...' with them"
            )
        return []

    @property
    def chunking(self) -> dict[str, Any]:
        """How text was cut, recorded in the manifest."""
        return {
            "splitter": "RecursiveCharacterTextSplitter",
            "size": self.chunker.size,
            "overlap": self.chunker.overlap,
            "sentences": self.sentences,
            "max_sentence_chars": MAX_SENTENCE_CHARS,
            "untitled": self.untitled,
        }

    def reindex(
        self, paths: Sequence[Path] = (), *, dry_run: bool = False, progress: bool = False, prune: bool = False
    ) -> ReindexReport:
        """Index files and folders; with none, rescan every known root (the bundled article in an empty index).

        A known root that is missing keeps its documents (reported), unless `prune` drops them.
        """
        with self._writer():
            previous = self._previous()
            known = self._sources(previous)
            targets = resolve(paths, known) if paths else (known or [BUNDLED_SOURCE])
            present = [t for t in targets if t.bundled or Path(t.path).exists()]
            absent = [t for t in targets if t not in present]
            if paths and absent:
                raise DocumentError(f"{absent[0].path}: no such file or folder")
            old = {d.document.id: d for d in previous.content.documents} if previous else {}
            found, skipped = scan([t for t in present if not t.bundled], known={i: d.document for i, d in old.items()})
            documents = found + (default_corpus() if BUNDLED_SOURCE in present else [])
            self._check_ids(documents, old)
            dropped = present + (absent if prune else [])
            seen = {d.id for d in documents}
            gone = [i for i, d in old.items() if i not in seen and any(r.holds(d.document.source) for r in dropped)]
            held = {t.path: sum(t.holds(d.document.source) for d in old.values()) for t in absent}
            missing = [] if prune else [MissingSource(path, count) for path, count in held.items()]
            sources = [s for s in [*known, *[t for t in targets if t not in known]] if not (prune and s in absent)]
            kept = [d for i, d in old.items() if i not in seen and i not in gone]
            report = self._build(previous, kept, documents, gone, sources, skipped, dry_run, progress)
            return replace(report, missing=missing)

    def add(self, documents: Sequence[Document]) -> ReindexReport:
        """Add documents given directly (not files), or replace those with the same ids."""
        with self._writer():
            previous = self._previous()
            sources = self._sources(previous)
            old = {d.document.id: d for d in previous.content.documents} if previous else {}
            self._check_ids(documents, old)
            seen = {d.id for d in documents}
            kept = [d for i, d in old.items() if i not in seen]
            return self._build(previous, kept, documents, [], sources, [], False, False)

    def replace_all(self, paths: Sequence[Path], *, progress: bool = False) -> ReindexReport:
        """Make the index hold exactly the files under `paths` (evaluation corpora)."""
        with self._writer():
            previous = self._previous()
            old = {d.document.id: d for d in previous.content.documents} if previous else {}
            targets = resolve(paths, [])
            documents, skipped = scan(targets, known={i: d.document for i, d in old.items()})
            seen = {d.id for d in documents}
            gone = [i for i in old if i not in seen]
            return self._build(previous, [], documents, gone, targets, skipped, False, progress)

    def remove(self, doc_ids: Sequence[str], *, progress: bool = False) -> ReindexReport:
        with self._writer():
            previous = self._previous()
            old = previous.content.documents if previous else []
            kept = [d for d in old if d.document.id not in doc_ids]
            gone = [d.document.id for d in old if d.document.id in doc_ids]
            unknown = sorted(set(doc_ids) - set(gone))
            if unknown:
                raise DocumentNotFoundError(f"no document with id {unknown[0]!r}; 'rag documents' lists them")
            return self._build(previous, kept, [], gone, self._sources(previous), [], False, progress)

    @staticmethod
    def _check_ids(documents: Sequence[Document], old: dict[str, StoredDocument]) -> None:
        """Refuse a document whose id belongs to a document from another source (never overwrite it)."""
        for document in documents:
            before = old.get(document.id)
            if before is None or before.document.source == document.source:
                continue
            raise DocumentConflictError(
                f"id {document.id!r} already belongs to a document from {before.document.source}; "
                f"give this one another id, or remove that one first ('rag rm {document.id}')"
            )

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
        sources: Sequence[Source],
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
                # The new document may carry a newer file stamp; it is saved with the next generation.
                final.append(StoredDocument(document, before.added_at, before.updated_at))
        final.sort(key=lambda d: d.document.id)
        chunks = [span for d in final for span in self.chunker.split(d.document)]
        sentences = [span for d in final if self.sentences for span in answer_units(d.document)]
        titles = {
            d.document.id: slot_title(d.document.title, d.document.text, d.document.id, untitled=self.untitled)
            for d in final
        }
        texts = [(titles[span.doc_id], span.text) for span in [*chunks, *sentences]]
        keys = {text_key(text, title) for title, text in texts}
        pending = len(keys - set(self.cache.lookup(self.embedder.model_name, sorted(keys))))
        nothing_changed = (
            previous is not None
            and not (added or changed or gone)
            and sorted(s.path for s in sources) == sorted(previous.content.sources)
            # A new chunker or sentence splitter rebuilds everything (vectors come from the cache).
            and previous.manifest.get("chunking") == self.chunking
        )
        if not dry_run and self.book.read() != list(sources):
            # Written before CURRENT moves: after a crash in between, the next reindex scans the new roots.
            self.book.write(sources)
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
            sources=[s.path for s in sources],
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
