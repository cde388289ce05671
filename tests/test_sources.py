"""Nothing is lost: missing folders keep their documents, ids never collide, damage never brings the article back."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from rag import Document, DocumentConflictError, IndexCorruptError, RagEngine
from rag.reading.sources import Source, name_for
from rag.storage.segments import ROWS
from rag.storage.store import MANIFEST
from tests.index_files import segments_of


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_names_distinguish_roots_by_their_path() -> None:
    taken = [Source("/a/notes", "notes")]
    assert name_for(Path("/b/notes"), taken) == "b/notes"
    assert name_for(Path("/x/b/notes"), [*taken, Source("/b/notes", "b/notes")]) == "x/b/notes"
    assert name_for(Path("/a/notes"), taken) == "notes"
    # "b" would give "b/notes/x.md", the same id as a file x.md under a root named "b/notes".
    assert name_for(Path("/q/b"), [Source("/b/notes", "b/notes")]) == "q/b"


def test_a_missing_folder_keeps_its_documents_until_pruned(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "notes", "toba.txt", "Danau Toba terletak di Sumatera Utara.")
    _write(tmp_path / "other", "bromo.txt", "Gunung Bromo terletak di Jawa Timur.")
    fresh_engine.reindex([tmp_path / "notes"])
    fresh_engine.reindex([tmp_path / "other"])
    shutil.move(tmp_path / "notes", tmp_path / "moved")

    report = fresh_engine.reindex()
    assert report.removed == []
    assert [(m.path, m.documents) for m in report.missing] == [(str(tmp_path / "notes"), 1)]
    assert {d.document.id for d in fresh_engine.documents()} == {"notes/toba.txt", "other/bromo.txt"}

    pruned = fresh_engine.reindex(prune=True)
    assert pruned.removed == ["notes/toba.txt"] and pruned.missing == []
    assert [d.document.id for d in fresh_engine.documents()] == ["other/bromo.txt"]
    assert fresh_engine.reindex().missing == []  # the pruned folder is forgotten


def test_a_file_that_cannot_be_read_keeps_its_last_indexed_version(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "notes", "toba.txt", "Danau Toba terletak di Sumatera Utara.")
    fresh_engine.reindex([tmp_path / "notes"])
    (tmp_path / "notes" / "toba.txt").write_bytes(b"Danau Toba \xff\xfe")  # half-written, not UTF-8

    report = fresh_engine.reindex()
    assert report.removed == [] and [Path(s.path).name for s in report.skipped] == ["toba.txt"]
    assert "Sumatera Utara" in fresh_engine.document_text("notes/toba.txt").text
    (tmp_path / "notes" / "toba.txt").unlink()
    assert fresh_engine.reindex().removed == ["notes/toba.txt"]


def test_same_named_folders_in_different_places_coexist(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "a" / "notes", "x.txt", "Candi Borobudur terletak di Magelang.")
    _write(tmp_path / "b" / "notes", "x.txt", "Candi Prambanan terletak di Sleman.")
    assert fresh_engine.reindex([tmp_path / "a" / "notes"]).added == ["notes/x.txt"]
    assert fresh_engine.reindex([tmp_path / "b" / "notes"]).added == ["b/notes/x.txt"]
    again = fresh_engine.reindex()
    assert again.removed == [] and sorted(again.unchanged) == ["b/notes/x.txt", "notes/x.txt"]
    assert "Prambanan" in fresh_engine.ask("Di mana Candi Prambanan?").text


def test_an_id_taken_by_another_source_is_a_clear_error(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "notes", "x.txt", "Candi Borobudur terletak di Magelang.")
    fresh_engine.reindex([tmp_path / "notes"])
    with pytest.raises(DocumentConflictError, match="notes/x.txt"):
        fresh_engine.add_document(Document("notes/x.txt", "", "Teks lain sama sekali.", "api"))
    assert fresh_engine.documents()[0].document.text.startswith("Candi Borobudur")


def test_unchanged_files_are_not_read_again(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "notes", "x.txt", "Candi Borobudur terletak di Magelang.")
    fresh_engine.reindex([tmp_path / "notes"])
    path = tmp_path / "notes" / "x.txt"
    stat = path.stat()
    # Same size and modification time, other bytes: only a scan that reads the file would notice.
    path.write_text("Candi Borobudur terletak di Muntilan!", encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert path.stat().st_size == stat.st_size
    assert fresh_engine.reindex([tmp_path / "notes"]).unchanged == ["notes/x.txt"]
    path.touch()
    assert fresh_engine.reindex([tmp_path / "notes"]).changed == ["notes/x.txt"]


def test_a_damaged_generation_never_brings_the_bundled_article_back(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "notes", "x.txt", "Candi Borobudur terletak di Magelang.")
    _write(tmp_path / "notes", "y.txt", "Candi Prambanan terletak di Sleman.")
    fresh_engine.reindex([tmp_path / "notes"])
    (tmp_path / "notes" / "y.txt").unlink()
    fresh_engine.reindex([tmp_path / "notes"])
    for segment in segments_of(fresh_engine.store.root):
        (segment / ROWS).write_bytes(b"damaged")

    report = fresh_engine.reindex()
    assert "ballerina_id.txt" not in report.added
    assert [d.document.id for d in fresh_engine.documents()] == ["notes/x.txt"]


def test_without_sources_or_readable_generation_reindex_asks_for_the_folders(
    fresh_engine: RagEngine, tmp_path: Path
) -> None:
    _write(tmp_path / "notes", "x.txt", "Candi Borobudur terletak di Magelang.")
    fresh_engine.reindex([tmp_path / "notes"])
    (fresh_engine.store.root / "sources.json").unlink()
    current = fresh_engine.store.generations_dir / (fresh_engine.store.current_name() or "")
    (current / MANIFEST).write_text("{", encoding="utf-8")
    with pytest.raises(IndexCorruptError, match="rag reindex FOLDER"):
        fresh_engine.reindex()
