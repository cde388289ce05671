"""The on-disk contract: segments and manifests, refusal of foreign indexes, atomic switching, migration."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import rag.storage.store
from rag import Document, IndexCorruptError, IndexIncompatibleError, RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.segments import FILES, SEGMENT_MANIFEST
from rag.storage.store import CURRENT, FORMAT_VERSION, GENERATIONS, MANIFEST, SEGMENTS, IndexStore
from tests.conftest import MODEL_NAME, make_settings
from tests.index_files import manifest_of, rewrite_as_format_3, segments_of

MODEL = MODEL_NAME


def test_manifest_lists_the_segments_of_the_generation(article_index: Path) -> None:
    manifest = manifest_of(article_index)
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == MODEL and manifest["dimension"] == 768
    assert manifest["counts"]["documents"] == 1 and manifest["counts"]["chunks"] > 5
    (segment,) = segments_of(article_index)
    described = json.loads((segment / SEGMENT_MANIFEST).read_text())
    assert set(described["files"]) == set(FILES)
    assert described["counts"]["chunks"] == manifest["counts"]["chunks"]


def test_an_index_built_with_another_model_is_refused(article_index: Path) -> None:
    with pytest.raises(IndexIncompatibleError, match="rag reindex"):
        IndexStore(article_index).load(model="sentence-transformers/all-MiniLM-L6-v2")


def test_another_format_version_is_refused(tmp_path: Path, article_index: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    store = IndexStore(copy)
    manifest_path = store.generations_dir / str(store.current_name()) / MANIFEST
    manifest = json.loads(manifest_path.read_text())
    manifest["format_version"] = FORMAT_VERSION + 1
    manifest_path.write_text(json.dumps(manifest))
    with pytest.raises(IndexIncompatibleError, match="format"):
        store.load(model=MODEL)


@pytest.mark.parametrize("file_name", [*FILES, SEGMENT_MANIFEST])
def test_an_altered_segment_file_is_detected(tmp_path: Path, article_index: Path, file_name: str) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    (segment,) = segments_of(copy)
    with (segment / file_name).open("ab") as handle:
        handle.write(b"junk")
    with pytest.raises(IndexCorruptError):
        IndexStore(copy).load(model=MODEL)


def test_reindex_replaces_a_damaged_index(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    (segment,) = segments_of(copy)
    (segment / "rows.sqlite").write_bytes(b"damaged")
    engine = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    report = engine.reindex()
    assert report.added == ["ballerina_id.txt"] and report.texts_embedded == 0
    assert "Lee Chung-hyun" in engine.ask("Siapa sutradara film Ballerina?").text
    assert segment not in segments_of(copy)


def test_a_build_interrupted_before_the_switch_leaves_the_old_generation(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    engine = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    old = engine.in_service().generation.name
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "new.txt").write_text("Dokumen baru tentang Ok-ju dan latihan baletnya.", encoding="utf-8")

    real_write = rag.storage.store.write_atomic

    def crash_on_switch(path: Path, text: str) -> None:
        if path.name == CURRENT:
            raise KeyboardInterrupt("killed before the switch")
        real_write(path, text)

    monkeypatch.setattr(rag.storage.store, "write_atomic", crash_on_switch)
    with pytest.raises(KeyboardInterrupt):
        engine.reindex([extra])
    monkeypatch.undo()

    reader = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    assert reader.in_service().generation.name == old
    assert [d.document.id for d in reader.documents()] == ["ballerina_id.txt"]
    assert "Lee Chung-hyun" in reader.ask("Siapa sutradara film Ballerina?").text

    report = reader.reindex([extra])
    assert report.added == ["extra/new.txt"]
    assert report.texts_embedded == 0  # the interrupted build's vectors were cached
    assert reader.in_service().generation.name != old
    leftovers = [p.name for d in (GENERATIONS, SEGMENTS) for p in (copy / d).iterdir() if p.name.startswith(".")]
    assert leftovers == []


def test_an_index_of_the_previous_format_is_refused_for_reading_and_migrated_by_reindex(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    engine = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    engine.add_document(Document("catatan", "", "Gudang beras di Bogor dibangun pada tahun 1920.", "api"))
    engine.compact()
    expected = engine.ask("Siapa sutradara film Ballerina?")
    rewrite_as_format_3(copy)

    reader = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    with pytest.raises(IndexIncompatibleError, match="rag reindex"):
        reader.ask("Siapa sutradara film Ballerina?")
    report = reader.reindex()
    # The document added over HTTP has no file to be read from again: the migration kept it.
    assert report.unchanged == ["ballerina_id.txt"] and report.texts_embedded == 0
    assert [d.document.id for d in reader.documents()] == ["ballerina_id.txt", "catatan"]
    assert reader.ask("Siapa sutradara film Ballerina?").text == expected.text
