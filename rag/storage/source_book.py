"""The folders and files a user has indexed: stored beside the generations, so they outlive a damaged one."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from rag.errors import IndexCorruptError
from rag.reading.sources import Source
from rag.storage.files import write_atomic

SOURCES_FILE = "sources.json"


class SourceBook:
    """`sources.json` in the index directory: every root indexed so far, in the order added."""

    def __init__(self, root: Path) -> None:
        self.path = root / SOURCES_FILE

    def exists(self) -> bool:
        return self.path.is_file()

    def read(self) -> list[Source]:
        try:
            rows = json.loads(self.path.read_text(encoding="utf-8"))
            return [Source(str(row["path"]), str(row["name"])) for row in rows]
        except FileNotFoundError:
            return []
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise IndexCorruptError(
                f"{self.path} is unreadable ({exc}); restore it, or rebuild with 'rag reindex FOLDER ...'"
            ) from exc

    def write(self, sources: Sequence[Source]) -> None:
        """Replace the file atomically (write, fsync, rename)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(self.path, json.dumps([asdict(s) for s in sources], indent=2))
