"""The on-disk contract: manifests, refusal of foreign indexes, atomic switching."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

import rag.store
from rag import IndexCorruptError, IndexIncompatibleError, RagEngine
from rag.embedding import SentenceTransformerEmbedder
from rag.store import CURRENT, FORMAT_VERSION, GENERATIONS, MANIFEST, IndexStore
from tests.conftest import make_settings


def test_manifest_describes_the_generation(article_index: Path) -> None:
    store = IndexStore(article_index)
    manifest = json.loads((store.generations_dir / str(store.current_name()) / MANIFEST).read_text())
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["model"] == "google/embeddinggemma-300m"
    assert manifest["dimension"] == 768
    assert manifest["counts"]["documents"] == 1
    assert manifest["counts"]["chunks"] > 5
    assert set(manifest["files"]) == {"index.sqlite", "chunks.faiss", "sentences.faiss"}


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
        store.load(model="google/embeddinggemma-300m")


def test_an_altered_file_is_detected(tmp_path: Path, article_index: Path) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    store = IndexStore(copy)
    with (store.generations_dir / str(store.current_name()) / "chunks.faiss").open("ab") as handle:
        handle.write(b"junk")
    with pytest.raises(IndexCorruptError):
        store.load(model="google/embeddinggemma-300m")


def test_reindex_replaces_a_damaged_generation(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    store = IndexStore(copy)
    (store.generations_dir / str(store.current_name()) / "index.sqlite").write_bytes(b"damaged")
    engine = RagEngine(make_settings(copy), embedder=embedder, store=store)
    report = engine.reindex()
    assert report.added == ["ballerina_id.txt"] and report.texts_embedded == 0
    assert "Lee Chung-hyun" in engine.ask("Siapa sutradara film Ballerina?").text


def test_a_build_interrupted_before_the_switch_leaves_the_old_generation(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    copy = tmp_path / "index"
    shutil.copytree(article_index, copy)
    engine = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    old = engine.generation().name
    extra = tmp_path / "extra"
    extra.mkdir()
    (extra / "new.txt").write_text("Dokumen baru tentang Ok-ju dan latihan baletnya.", encoding="utf-8")

    real_write = rag.store._write_atomic

    def crash_on_switch(path: Path, text: str) -> None:
        if path.name == CURRENT:
            raise KeyboardInterrupt("killed before the switch")
        real_write(path, text)

    monkeypatch.setattr(rag.store, "_write_atomic", crash_on_switch)
    with pytest.raises(KeyboardInterrupt):
        engine.reindex([extra])
    monkeypatch.undo()

    reader = RagEngine(make_settings(copy), embedder=embedder, store=IndexStore(copy))
    assert reader.generation().name == old
    assert [d.document.id for d in reader.documents()] == ["ballerina_id.txt"]
    assert "Lee Chung-hyun" in reader.ask("Siapa sutradara film Ballerina?").text

    report = reader.reindex([extra])
    assert report.added == ["extra/new.txt"]
    assert report.texts_embedded == 0  # the interrupted build's vectors were cached
    assert reader.generation().name != old
    leftovers = [p.name for p in (copy / GENERATIONS).iterdir() if p.name.startswith(".")]
    assert leftovers == []
