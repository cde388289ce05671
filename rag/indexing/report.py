"""What a reindex did: documents added, changed, removed, skipped, and the roots that were missing."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.reading.documents import Skipped


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
