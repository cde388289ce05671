"""The on-disk index: immutable segments, and generations that list them, switched atomically by `CURRENT`.

    index/segments/<name>/          one segment (see rag.storage.segments), never changed once written
    index/generations/<name>/manifest.json
                                    the segments of one generation, each with its deleted documents
    index/CURRENT                   the name of the generation in service

A generation is published by writing its new segments, then its manifest, then replacing CURRENT:
a crash at any point leaves CURRENT naming a complete generation. Files are deleted only when no
kept generation lists them.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from rag.errors import IndexBusyError, IndexCorruptError, IndexIncompatibleError, IndexNotFoundError
from rag.storage.entries import SegmentEntry, Snapshot
from rag.storage.files import fsync_dir, write_atomic
from rag.storage.generation import Generation, Part
from rag.storage.segments import (
    Segment,
    SegmentContent,
    StoredDocument,
    new_name,
    read_documents,
    verify_segment,
    write_segment,
)
from rag.storage.vectors import GRAPH_MIN_ROWS

FORMAT_VERSION = 4
# Formats 2 and 3 kept one directory of tables and vectors per generation; `rag reindex` migrates them.
LEGACY_FORMATS = (2, 3)
GENERATIONS = "generations"
SEGMENTS = "segments"
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
LOCK_FILE = ".lock"


class IndexStore:
    """An index directory."""

    def __init__(self, root: Path, *, graph_min_rows: int = GRAPH_MIN_ROWS) -> None:
        self.root = root
        self.graph_min_rows = graph_min_rows  # rows from which a new segment's vectors get an HNSW graph
        # Segments whose files this process has hashed: they are immutable, so they are not hashed again.
        self._verified: set[str] = set()

    @property
    def generations_dir(self) -> Path:
        return self.root / GENERATIONS

    @property
    def segments_dir(self) -> Path:
        return self.root / SEGMENTS

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def recorded(self) -> dict[str, Any] | None:
        """The manifest of the generation in service, if it can be read."""
        name = self.current_name()
        if name is None:
            return None
        try:
            return self.manifest(name, model=None, legacy=True)
        except (IndexCorruptError, IndexIncompatibleError):
            return None

    def recorded_model(self) -> str | None:
        """The model name (with its backend) the generation in service was built with, if it can be read."""
        manifest = self.recorded()
        return str(manifest["model"]) if manifest and "model" in manifest else None

    def finished(self) -> list[str]:
        """Names of the finished generations, oldest first."""
        if not self.generations_dir.is_dir():
            return []
        return sorted(p.name for p in self.generations_dir.iterdir() if not p.name.startswith("."))

    def manifest(self, name: str, *, model: str | None, legacy: bool = False) -> dict[str, Any]:
        """A generation's manifest; refused when built with another model (unless `model` is None) or in a
        format this version does not serve (`legacy` accepts the formats `rag reindex` migrates)."""
        path = self.generations_dir / name / MANIFEST
        try:
            manifest: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexCorruptError(f"index generation {name} has no readable manifest; run 'rag reindex'") from exc
        version = manifest.get("format_version")
        if version != FORMAT_VERSION and not (legacy and version in LEGACY_FORMATS):
            raise IndexIncompatibleError(
                f"index format {version} in {path.parent}, this version reads {FORMAT_VERSION}; run 'rag reindex'"
            )
        if model is not None and manifest.get("model") != model:
            raise IndexIncompatibleError(
                f"index built with model {manifest.get('model')!r}, engine uses {model!r}; run 'rag reindex'"
            )
        return manifest

    def load(self, *, model: str, reuse: Generation | None = None) -> Generation:
        """Load the generation in service; refuse one built with another model or format."""
        name = self.current_name()
        if name is None:
            raise IndexNotFoundError(f"no index in {self.root}; run 'rag reindex' to build one")
        return self.load_generation(name, model=model, reuse=reuse)

    def load_generation(self, name: str, *, model: str, reuse: Generation | None = None) -> Generation:
        """Open a generation; segments (and their masks) that `reuse` already holds are not read again."""
        manifest = self.manifest(name, model=model)
        held = {p.segment.name: p for p in reuse.parts} if reuse is not None else {}
        parts = []
        for entry in (SegmentEntry.from_json(row) for row in manifest["segments"]):
            known = held.get(entry.name)
            if known is not None and known.deleted == entry.deleted:
                parts.append(known)
                continue
            segment = known.segment if known is not None else self._open_segment(entry, model)
            parts.append(Part.of(segment, entry.deleted))
        return Generation(name, self.generations_dir / name, manifest, parts)

    def open_segment(self, entry: SegmentEntry) -> Segment:
        segment = Segment(self.segments_dir / entry.name, digest=entry.digest, verified=entry.name in self._verified)
        self._verified.add(entry.name)
        return segment

    def _open_segment(self, entry: SegmentEntry, model: str) -> Segment:
        segment = self.open_segment(entry)
        if segment.model != model:
            raise IndexCorruptError(f"segment {entry.name} was built with {segment.model}; run 'rag reindex'")
        return segment

    def _candidates(self) -> list[str]:
        current = self.current_name()
        names = [n for n in reversed(self.finished()) if n != current]
        return [current, *names] if current else names

    def snapshot(self, name: str, *, model: str | None) -> Snapshot:
        """A generation's segments and live documents for a writer, after verifying every segment file
        (`model` None: whichever model built it)."""
        manifest = self.manifest(name, model=model)
        entries = [SegmentEntry.from_json(row) for row in manifest["segments"]]
        documents: dict[str, StoredDocument] = {}
        homes: dict[str, str] = {}
        for entry in entries:
            path = self.segments_dir / entry.name
            verify_segment(path, entry.digest, files=entry.name not in self._verified)
            self._verified.add(entry.name)
            for stored in read_documents(path, text=False):
                if stored.document.id not in entry.deleted:
                    documents[stored.document.id] = stored
                    homes[stored.document.id] = entry.name
        return Snapshot(name, manifest, entries, documents, homes)

    def snapshot_of(self, generation: Generation) -> Snapshot:
        """The snapshot of a generation already loaded in this process (no file is read)."""
        entries = [SegmentEntry.from_json(row) for row in generation.manifest["segments"]]
        documents: dict[str, StoredDocument] = {}
        homes: dict[str, str] = {}
        for part in generation.parts:
            for doc_id, stored in part.segment.documents.items():
                if doc_id not in part.deleted:
                    documents[doc_id] = stored
                    homes[doc_id] = part.segment.name
        return Snapshot(generation.name, generation.manifest, entries, documents, homes)

    def newest_snapshot(self, *, model: str | None) -> Snapshot | None:
        """The snapshot of the generation in service or, when it is damaged, of the newest one intact."""
        for name in self._candidates():
            try:
                return self.snapshot(name, model=model)
            except (IndexCorruptError, IndexIncompatibleError):
                continue
        return None

    @contextmanager
    def writer(self, *, timeout: float) -> Iterator[None]:
        """Hold the index's one writer lock (a file lock shared by the CLI and servers) for the block."""
        self.root.mkdir(parents=True, exist_ok=True)
        lock = FileLock(self.root / LOCK_FILE, timeout=timeout)
        try:
            lock.acquire()
        except Timeout as exc:
            raise IndexBusyError(
                f"another process is writing the index in {self.root}; try again when it finishes"
            ) from exc
        try:
            yield
        finally:
            lock.release()

    def add_segment(self, content: SegmentContent, *, model: str) -> SegmentEntry:
        """Write `content` as a new segment (not yet in any generation)."""
        dimension = int(content.chunk_vectors.shape[1])
        name, digest = write_segment(
            self.segments_dir, content, model=model, dimension=dimension, graph_min_rows=self.graph_min_rows
        )
        return SegmentEntry(
            name,
            digest,
            documents=len(content.documents),
            chunks=len(content.chunks),
            sentences=len(content.sentences),
        )

    def publish(
        self,
        segments: Sequence[SegmentEntry],
        *,
        model: str,
        dimension: int,
        chunking: dict[str, Any],
        sources: Sequence[str],
    ) -> str:
        """Write a generation listing `segments` (already written), then switch CURRENT to it in one rename."""
        self.generations_dir.mkdir(parents=True, exist_ok=True)
        name = new_name()
        staging = self.generations_dir / f".{name}.partial"
        staging.mkdir()
        manifest = {
            "format_version": FORMAT_VERSION,
            "generation": name,
            "created_at": time.time(),
            "model": model,
            "dimension": dimension,
            "chunking": chunking,
            "counts": {
                "documents": sum(s.documents for s in segments),
                "chunks": sum(s.chunks for s in segments),
                "sentences": sum(s.sentences for s in segments),
                "segments": len(segments),
            },
            "sources": list(sources),
            "segments": [s.to_json() for s in segments],
        }
        write_atomic(staging / MANIFEST, json.dumps(manifest, indent=2))
        staging.rename(self.generations_dir / name)
        fsync_dir(self.generations_dir)
        write_atomic(self.root / CURRENT, name + "\n")
        return name

    def prune(self, *, keep: int) -> list[str]:
        """Delete unfinished builds, all but the newest `keep` finished generations (never CURRENT), and the
        segments no remaining generation lists."""
        current = self.current_name()
        finished = self.finished()
        doomed = [n for n in finished[: max(0, len(finished) - keep)] if n != current]
        if self.generations_dir.is_dir():
            doomed += [p.name for p in self.generations_dir.iterdir() if p.name.startswith(".")]
        for name in doomed:
            shutil.rmtree(self.generations_dir / name, ignore_errors=True)
        self._collect_segments()
        return doomed

    def _collect_segments(self) -> None:
        if not self.segments_dir.is_dir():
            return
        listed: set[str] = set()
        for name in self.finished():
            try:
                rows = json.loads((self.generations_dir / name / MANIFEST).read_text(encoding="utf-8"))["segments"]
            except (OSError, ValueError, KeyError):
                # A generation this version cannot read may still list segments: keep everything.
                return
            listed.update(str(row["name"]) for row in rows)
        for path in self.segments_dir.iterdir():
            if path.name not in listed:
                shutil.rmtree(path, ignore_errors=True)
