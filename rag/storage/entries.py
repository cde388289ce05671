"""What a generation's manifest lists: its segments (with their deleted documents) and a writer's view of it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from rag.storage.segments import StoredDocument


@dataclass(frozen=True)
class SegmentEntry:
    """A segment as a manifest lists it."""

    name: str
    digest: str  # sha256 of its segment.json
    deleted: frozenset[str] = frozenset()
    documents: int = 0  # live documents
    chunks: int = 0  # live chunks
    sentences: int = 0  # live sentences

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "digest": self.digest,
            "deleted": sorted(self.deleted),
            "documents": self.documents,
            "chunks": self.chunks,
            "sentences": self.sentences,
        }

    @classmethod
    def from_json(cls, row: Mapping[str, Any]) -> SegmentEntry:
        return cls(
            str(row["name"]),
            str(row["digest"]),
            frozenset(row.get("deleted", [])),
            int(row.get("documents", 0)),
            int(row.get("chunks", 0)),
            int(row.get("sentences", 0)),
        )


@dataclass(frozen=True)
class Snapshot:
    """What a writer needs of the generation it builds on: its segments and its live documents' metadata."""

    name: str
    manifest: dict[str, Any]
    segments: list[SegmentEntry]
    documents: dict[str, StoredDocument] = field(default_factory=dict)  # texts are empty
    homes: dict[str, str] = field(default_factory=dict)  # document id -> segment name

    @property
    def sources(self) -> list[str]:
        return list(self.manifest.get("sources", []))
