"""Where documents come from: the roots a user indexes (folders or files) and the ids their files get."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

# The bundled article: the first-run default of an empty index, never a fallback.
BUNDLED = "bundled"


@dataclass(frozen=True)
class Source:
    """An indexed root: its absolute path (or BUNDLED) and the name its documents' ids start with."""

    path: str
    name: str

    @property
    def bundled(self) -> bool:
        return self.path == BUNDLED

    def doc_id(self, relative: str) -> str:
        """The id of a file found under this root ('' for the root itself when it is a file)."""
        return f"{self.name}/{relative}" if relative else self.name

    def holds(self, source: str) -> bool:
        """True when a document read from `source` (a file path) came from this root."""
        return source == self.path or source.startswith(self.path.rstrip(os.sep) + os.sep)


def _clashes(name: str, other: str) -> bool:
    """Two names clash when the ids under one could equal the ids under the other."""
    return name == other or name.startswith(other + "/") or other.startswith(name + "/")


def name_for(path: Path, taken: Sequence[Source]) -> str:
    """The shortest trailing part of `path` that no other root's name clashes with.

    `a/notes` is named "notes"; `b/notes` indexed later becomes "b/notes", so their files keep
    distinct ids ("notes/x.md", "b/notes/x.md").
    """
    parts = path.parts[1:] if path.is_absolute() else path.parts
    others = [s.name for s in taken if s.path != str(path)]
    for size in range(1, len(parts) + 1):
        candidate = str(PurePosixPath(*parts[-size:]))
        if not any(_clashes(candidate, other) for other in others):
            return candidate
    number = 2
    while any(_clashes(f"{parts[-1]}~{number}", other) for other in others):
        number += 1
    return f"{parts[-1]}~{number}"


def resolve(paths: Sequence[Path], known: Sequence[Source]) -> list[Source]:
    """The sources for paths given on the command line: known roots keep their name, new ones get one."""
    result: list[Source] = []
    taken = list(known)
    for path in paths:
        absolute = str(path.resolve())
        existing = next((s for s in taken if s.path == absolute), None)
        if existing is None:
            existing = Source(absolute, name_for(Path(absolute), taken))
            taken.append(existing)
        result.append(existing)
    return result


def legacy(paths: Sequence[str]) -> list[Source]:
    """Sources of an index written before sources.json: ids were relative to the root's parent."""
    return [BUNDLED_SOURCE if p == BUNDLED else Source(p, Path(p).name) for p in paths]


# The bundled article's id is its file name, as if its folder had been indexed.
BUNDLED_SOURCE = Source(BUNDLED, "ballerina_id.txt")
