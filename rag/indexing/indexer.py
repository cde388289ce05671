"""Reindexing: find what changed, write it as one new segment, mark what it replaces deleted, publish.

A change costs what it changes: unchanged documents stay in the segments that hold them, and only
small segments are merged along the way (rag.storage.compaction).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from rag.errors import (
    DocumentConflictError,
    DocumentError,
    DocumentNotFoundError,
    IndexCorruptError,
)
from rag.indexing.cluster import ClusterWriter
from rag.indexing.legacy import migrate
from rag.indexing.report import MissingSource, ReindexReport
from rag.indexing.segment_builder import SegmentBuilder
from rag.reading.documents import Document, Skipped, default_corpus, scan
from rag.reading.sources import BUNDLED_SOURCE, Source, legacy, resolve
from rag.storage import compaction
from rag.storage.entries import SegmentEntry, Snapshot
from rag.storage.generation import Generation
from rag.storage.segments import StoredDocument, read_documents
from rag.storage.source_book import SourceBook
from rag.storage.store import IndexStore


def _within(source: str, path: str) -> bool:
    return source == path or source.startswith(path.rstrip("/") + "/")


class Indexer:
    """Builds generations; one writer at a time, guarded by a file lock shared by CLI and service."""

    def __init__(
        self,
        store: IndexStore,
        builder: SegmentBuilder,
        *,
        keep_generations: int = 3,
        lock_timeout: float = 600.0,
        loaded: Generation | None = None,
        cluster: ClusterWriter | None = None,
    ) -> None:
        self.store = store
        # With a cluster, documents with texts to embed are written into segments there (see rag.indexing.cluster).
        self.cluster = cluster
        # The generation a serving engine holds: when it is still the one in service, a write builds on it
        # without reading the index again.
        self.loaded = loaded
        self.builder = builder
        self.keep_generations = keep_generations
        self.lock_timeout = lock_timeout
        self.book = SourceBook(store.root)

    @property
    def model(self) -> str:
        return self.builder.embedder.model_name

    def _same_model(self, previous: Snapshot) -> bool:
        """Whether `previous` was built with this model and backend (else every document is embedded again)."""
        return bool(previous.manifest.get("model") == self.model)

    def _previous(self) -> Snapshot | None:
        """The generation to build on: the one in service, else the newest intact one; an index of an
        older format is migrated first. Another model's (or backend's) index is built on too: `_commit` then
        embeds every document again, those added over HTTP included, which have no file to be read from."""
        if self.loaded is not None and self.loaded.name == self.store.current_name():
            return self.store.snapshot_of(self.loaded)
        snapshot = self.store.newest_snapshot(model=self.model) or self.store.newest_snapshot(model=None)
        if snapshot is not None:
            return snapshot
        migrated = migrate(self.store, self.builder, self.book)
        return self.store.snapshot(migrated, model=self.model) if migrated else None

    def _sources(self, previous: Snapshot | None) -> list[Source]:
        """The roots indexed so far: sources.json, else (older indexes) the newest readable manifest."""
        if self.book.exists():
            return self.book.read()
        if previous is not None:
            return legacy(previous.sources)
        if self.store.finished():
            raise IndexCorruptError(
                f"no generation in {self.store.root} can be read and it has no {self.book.path.name}, so the "
                "indexed folders are unknown; run 'rag reindex FOLDER ...' with them"
            )
        return []

    def reindex(
        self, paths: Sequence[Path] = (), *, dry_run: bool = False, progress: bool = False, prune: bool = False
    ) -> ReindexReport:
        """Index files and folders; with none, rescan every known root (the bundled article in an empty index).

        A known root that is missing keeps its documents (reported), unless `prune` drops them.
        """
        with self.store.writer(timeout=self.lock_timeout):
            previous = self._previous()
            known = self._sources(previous)
            targets = resolve(paths, known) if paths else (known or [BUNDLED_SOURCE])
            present = [t for t in targets if t.bundled or Path(t.path).exists()]
            absent = [t for t in targets if t not in present]
            if paths and absent:
                raise DocumentError(f"{absent[0].path}: no such file or folder")
            old = previous.documents if previous else {}
            found, skipped = scan([t for t in present if not t.bundled], known={i: d.document for i, d in old.items()})
            documents = found + (default_corpus() if BUNDLED_SOURCE in present else [])
            self._check_ids(documents, old)
            dropped = present + (absent if prune else [])
            seen = {d.id for d in documents}
            # A file that could not be read this time (or a folder that could not be listed) keeps its last
            # indexed version: an unreadable disk or a half-written file must not delete documents.
            gone = [
                i
                for i, d in old.items()
                if i not in seen
                and any(r.holds(d.document.source) for r in dropped)
                and not any(_within(d.document.source, s.path) for s in skipped)
            ]
            held = {t.path: sum(t.holds(d.document.source) for d in old.values()) for t in absent}
            missing = [] if prune else [MissingSource(path, count) for path, count in held.items()]
            sources = [s for s in [*known, *[t for t in targets if t not in known]] if not (prune and s in absent)]
            report = self._commit(previous, documents, gone, sources, skipped, dry_run=dry_run, progress=progress)
            return replace(report, missing=missing)

    def add(self, documents: Sequence[Document]) -> ReindexReport:
        """Add documents given directly (not files), or replace those with the same ids."""
        with self.store.writer(timeout=self.lock_timeout):
            previous = self._previous()
            self._check_ids(documents, previous.documents if previous else {})
            return self._commit(previous, documents, [], self._sources(previous), [])

    def replace_all(self, paths: Sequence[Path], *, progress: bool = False) -> ReindexReport:
        """Make the index hold exactly the files under `paths` (evaluation corpora)."""
        with self.store.writer(timeout=self.lock_timeout):
            previous = self._previous()
            old = previous.documents if previous else {}
            targets = resolve(paths, [])
            documents, skipped = scan(targets, known={i: d.document for i, d in old.items()})
            seen = {d.id for d in documents}
            gone = [i for i in old if i not in seen]
            return self._commit(previous, documents, gone, targets, skipped, progress=progress)

    def remove(self, doc_ids: Sequence[str]) -> ReindexReport:
        with self.store.writer(timeout=self.lock_timeout):
            previous = self._previous()
            old = previous.documents if previous else {}
            unknown = sorted(set(doc_ids) - set(old))
            if unknown:
                raise DocumentNotFoundError(f"no document with id {unknown[0]!r}; 'rag documents' lists them")
            return self._commit(previous, [], list(doc_ids), self._sources(previous), [])

    def compact(self) -> ReindexReport:
        """Merge every segment into one without deleted rows (answers stay the same)."""
        with self.store.writer(timeout=self.lock_timeout):
            started = time.perf_counter()
            previous = self._previous()
            if previous is None:
                return ReindexReport(None)
            if len(previous.segments) <= 1 and not any(e.deleted for e in previous.segments):
                return ReindexReport(previous.name, seconds=time.perf_counter() - started)
            entries = compaction.merge(self.store, previous.segments, [[e.name for e in previous.segments]])
            name = self._publish(previous, entries, previous.sources, None)
            return ReindexReport(name, unchanged=sorted(previous.documents), seconds=time.perf_counter() - started)

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

    def _commit(
        self,
        previous: Snapshot | None,
        incoming: Sequence[Document],
        gone: Sequence[str],
        sources: Sequence[Source],
        skipped: Sequence[Skipped],
        *,
        dry_run: bool = False,
        progress: bool = False,
    ) -> ReindexReport:
        started = time.perf_counter()
        now = time.time()
        old = previous.documents if previous else {}
        added, changed, unchanged = [], [], []
        writes: list[StoredDocument] = []
        for document in incoming:
            before = old.get(document.id)
            if before is None:
                added.append(document.id)
                writes.append(StoredDocument(document, now, now))
            elif before.document.hash != document.hash or before.document.title != document.title:
                changed.append(document.id)
                writes.append(StoredDocument(document, before.added_at, now))
            else:
                unchanged.append(document.id)
                if before.document.stamp != document.stamp:
                    # Same text, newer file stamp: rewritten (vectors from the cache) so the file is not read again.
                    writes.append(StoredDocument(document, before.added_at, before.updated_at))
        rebuild = previous is not None and (
            previous.manifest.get("chunking") != self.builder.chunking or not self._same_model(previous)
        )
        if rebuild and previous is not None:
            # A new chunker or sentence splitter rewrites every document (vectors come from the cache); another
            # model or backend embeds every document again.
            rewritten = {w.document.id for w in writes} | set(gone)
            writes += self._with_text(previous, [i for i in old if i not in rewritten])
        plan = self.builder.plan(writes)
        same_sources = previous is not None and sorted(s.path for s in sources) == sorted(previous.sources)
        if not dry_run and self.book.read() != list(sources):
            # Written before CURRENT moves: after a crash in between, the next reindex scans the new roots.
            self.book.write(sources)
        if dry_run or (not writes and not gone and same_sources):
            return ReindexReport(
                previous.name if previous else None,
                added,
                changed,
                list(gone),
                unchanged,
                list(skipped),
                plan.pending if dry_run else 0,
                time.perf_counter() - started,
                dry_run,
            )
        embedded, dimension = 0, None
        replaced = {w.document.id for w in writes} | set(gone)
        entries = self._without(previous, replaced) if previous else []
        if plan.documents and self.cluster is not None and plan.pending:
            written, embedded = self.cluster.write(self.store, self.builder, plan, progress=progress)
            entries += written
            dimension = self.builder.embedder.dimension
        elif plan.documents:
            content, embedded = self.builder.build(plan, progress=progress)
            entries.append(self.store.add_segment(content, model=self.model))
            dimension = int(content.chunk_vectors.shape[1])
        entries = compaction.merge(self.store, entries, compaction.plan(entries))
        name = self._publish(previous, entries, [s.path for s in sources], dimension)
        return ReindexReport(
            name, added, changed, list(gone), unchanged, list(skipped), embedded, time.perf_counter() - started
        )

    def _with_text(self, previous: Snapshot, doc_ids: Sequence[str]) -> list[StoredDocument]:
        wanted = set(doc_ids)
        found = []
        for entry in previous.segments:
            for stored in read_documents(self.store.segments_dir / entry.name, text=True):
                if stored.document.id in wanted and stored.document.id not in entry.deleted:
                    found.append(stored)
        return found

    @staticmethod
    def _without(previous: Snapshot, doc_ids: set[str]) -> list[SegmentEntry]:
        """The previous generation's segments with `doc_ids` marked deleted where they live."""
        entries = []
        for entry in previous.segments:
            dropped = [previous.documents[i] for i in doc_ids if previous.homes.get(i) == entry.name]
            if dropped:
                entry = replace(
                    entry,
                    deleted=entry.deleted | {d.document.id for d in dropped},
                    documents=entry.documents - len(dropped),
                    chunks=entry.chunks - sum(d.chunk_count for d in dropped),
                    sentences=entry.sentences - sum(d.sentence_count for d in dropped),
                )
            if entry.documents:
                entries.append(entry)
        return entries

    def _publish(
        self, previous: Snapshot | None, entries: list[SegmentEntry], sources: Sequence[str], dimension: int | None
    ) -> str:
        if previous is not None and self._same_model(previous):
            dimension = int(previous.manifest["dimension"])
        name = self.store.publish(
            entries,
            model=self.model,
            dimension=dimension if dimension is not None else self.builder.embedder.dimension,
            chunking=self.builder.chunking,
            sources=sources,
        )
        self.store.prune(keep=self.keep_generations)
        return name
