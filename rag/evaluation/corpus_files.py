"""Evaluation corpora written out as the files a user would index, so that they take the same path."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rag.errors import DocumentError

FileForm = Literal["md", "txt-title", "txt"]
FILE_FORMS: tuple[FileForm, ...] = ("md", "txt-title", "txt")
_UNSAFE = re.compile(r"[^\w.-]+")


@dataclass(frozen=True)
class CorpusRow:
    """One document of a BEIR-style corpus.jsonl."""

    id: str
    title: str
    text: str


def read_jsonl(path: Path) -> list[dict[str, object]]:
    try:
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except (OSError, ValueError) as exc:
        raise DocumentError(f"{path}: cannot read JSON lines ({exc})") from exc


def read_corpus(path: Path) -> list[CorpusRow]:
    """A corpus.jsonl ({"_id", "title", "text"}); rows without text are left out."""
    return [
        CorpusRow(str(row["_id"]), str(row.get("title") or "").strip(), str(row["text"]))
        for row in read_jsonl(path)
        if str(row.get("text", "")).strip()
    ]


def render(row: CorpusRow, form: FileForm) -> tuple[str, str]:
    """(suffix, content) of the file a user would keep: Markdown with a heading, text with a title
    line, or text alone."""
    if form == "md":
        return ".md", f"# {row.title}\n\n{row.text}\n" if row.title else f"{row.text}\n"
    if form == "txt-title":
        return ".txt", f"{row.title}\n\n{row.text}\n" if row.title else f"{row.text}\n"
    return ".txt", f"{row.text}\n"


def write_corpus(rows: Sequence[CorpusRow], folder: Path, form: FileForm) -> dict[str, str]:
    """Write one file per row into `folder` (only files whose content differs) and delete the rest.

    Returns file name -> corpus id.
    """
    folder.mkdir(parents=True, exist_ok=True)
    names: dict[str, str] = {}
    for row in rows:
        suffix, content = render(row, form)
        stem = _UNSAFE.sub("_", row.id).strip("._") or "doc"
        name, n = stem + suffix, 1
        while name in names:
            n += 1
            name = f"{stem}-{n}{suffix}"
        names[name] = row.id
        path = folder / name
        if not path.is_file() or path.read_text(encoding="utf-8") != content:
            path.write_text(content, encoding="utf-8")
    for stale in folder.iterdir():
        if stale.is_file() and stale.name not in names:
            stale.unlink()
    return names
