"""Reading and rewriting an index directory's files in tests (damage, legacy formats)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

from rag.storage.store import CURRENT, GENERATIONS, MANIFEST, SEGMENTS


def manifest_of(index_dir: Path, generation: str | None = None) -> dict[str, Any]:
    name = generation or (index_dir / CURRENT).read_text(encoding="utf-8").strip()
    manifest: dict[str, Any] = json.loads((index_dir / GENERATIONS / name / MANIFEST).read_text(encoding="utf-8"))
    return manifest


def segments_of(index_dir: Path, generation: str | None = None) -> list[Path]:
    """The segment directories a generation lists (the one in service by default)."""
    return [index_dir / SEGMENTS / row["name"] for row in manifest_of(index_dir, generation)["segments"]]


def unreferenced_segments(index_dir: Path) -> set[str]:
    """Segment directories on disk that no kept generation lists (must always be empty after a command)."""
    listed = {p.name for name in os.listdir(index_dir / GENERATIONS) for p in segments_of(index_dir, name)}
    return {p.name for p in (index_dir / SEGMENTS).iterdir()} - listed


def own_segments(index_dir: Path, generation: str, previous: str) -> list[Path]:
    """The segments `generation` lists and `previous` does not."""
    before = set(segments_of(index_dir, previous))
    return [path for path in segments_of(index_dir, generation) if path not in before]


def files_under(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under `folder`."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.rglob("*") if p.is_file()
    }


def rewrite_as_format_3(index_dir: Path) -> str:
    """Turn an index of one single-segment generation into the format-3 layout (tables and vectors per generation)."""
    manifest = manifest_of(index_dir)
    (segment,) = segments_of(index_dir)
    name = manifest["generation"]
    generation = index_dir / GENERATIONS / name
    files = {"index.sqlite": "rows.sqlite", "chunks.faiss": "chunks.faiss", "sentences.faiss": "sentences.faiss"}
    for new, old in files.items():
        shutil.copyfile(segment / old, generation / new)
    legacy = {k: v for k, v in manifest.items() if k != "segments"}
    legacy["format_version"] = 3
    legacy["files"] = {f: hashlib.sha256((generation / f).read_bytes()).hexdigest() for f in files}
    (generation / MANIFEST).write_text(json.dumps(legacy), encoding="utf-8")
    shutil.rmtree(index_dir / SEGMENTS)
    for other in (index_dir / GENERATIONS).iterdir():
        if other.name != name:
            shutil.rmtree(other)
    return str(name)
