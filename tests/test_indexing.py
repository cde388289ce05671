"""Incremental reindexing with the real model: add, change, remove, skip unchanged text."""

from __future__ import annotations

from pathlib import Path

import pytest

from rag import DocumentNotFoundError, RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from tests.conftest import make_settings
from tests.pdf import make_pdf


def _write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def test_add_change_and_remove_a_file(fresh_engine: RagEngine, tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    _write(folder, "kebun.md", "# Kebun\n\nKebun Raya Bogor didirikan pada tahun 1817 oleh Caspar Reinwardt.")
    assert fresh_engine.reindex([folder]).added == ["notes/kebun.md"]
    assert "Reinwardt" in fresh_engine.ask("Siapa pendiri Kebun Raya Bogor?").text

    _write(folder, "kebun.md", "# Kebun\n\nKebun Raya Bogor didirikan pada tahun 1817 oleh Johannes Teijsmann.")
    report = fresh_engine.reindex([folder])
    assert report.changed == ["notes/kebun.md"]
    answer = fresh_engine.ask("Siapa pendiri Kebun Raya Bogor?")
    assert "Teijsmann" in answer.text and "Reinwardt" not in answer.text
    assert all("Reinwardt" not in h.chunk.text for h in fresh_engine.search("Reinwardt", top_k=5).hits)

    (folder / "kebun.md").unlink()
    assert fresh_engine.reindex([folder]).removed == ["notes/kebun.md"]
    assert fresh_engine.documents() == []


def test_reindexing_twice_embeds_nothing_the_second_time(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "d", "a.txt", "Danau Toba terletak di Sumatera Utara.")
    first = fresh_engine.reindex([tmp_path / "d"])
    second = fresh_engine.reindex([tmp_path / "d"])
    assert first.texts_embedded > 0
    assert second.texts_embedded == 0 and second.unchanged == ["d/a.txt"]
    assert second.generation == first.generation


def test_changing_one_of_many_documents_embeds_only_its_new_text(fresh_engine: RagEngine, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    for n in range(12):
        _write(folder, f"doc{n:02d}.txt", f"Dokumen nomor {n} menjelaskan pulau ke-{n} di Nusantara.")
    fresh_engine.reindex([folder])
    _write(folder, "doc05.txt", "Dokumen nomor 5 kini membahas gunung berapi Merapi.")
    report = fresh_engine.reindex([folder])
    assert report.changed == ["many/doc05.txt"] and len(report.unchanged) == 11
    assert report.texts_embedded == 1  # its one chunk, which is also its one sentence


def test_removing_by_id_and_unknown_ids(fresh_engine: RagEngine, tmp_path: Path) -> None:
    _write(tmp_path / "d", "a.txt", "Candi Borobudur dibangun pada abad ke-9.")
    fresh_engine.reindex([tmp_path / "d"])
    fresh_engine.remove_document("d/a.txt")
    assert fresh_engine.documents() == []
    with pytest.raises(DocumentNotFoundError, match="rag documents"):
        fresh_engine.remove_document("d/a.txt")


def test_html_is_indexed_as_its_visible_text(fresh_engine: RagEngine, tmp_path: Path) -> None:
    page = (
        "<html><head><title>Rendang</title><script>var secret = 'Padang';</script></head>"
        "<body><h1>Rendang</h1><p>Rendang adalah masakan daging dari Minangkabau.</p></body></html>"
    )
    _write(tmp_path / "web", "rendang.html", page)
    fresh_engine.reindex([tmp_path / "web"])
    (stored,) = fresh_engine.documents()
    assert stored.document.title == "Rendang"
    assert "secret" not in stored.document.text and "Minangkabau" in stored.document.text
    answer = fresh_engine.ask("Dari mana asal rendang?")
    assert all(stored.document.text[c.start : c.end] == c.quote for c in answer.citations)


def test_pdf_citations_carry_their_page(fresh_engine: RagEngine, tmp_path: Path) -> None:
    pages = [
        "Candi Borobudur dibangun pada abad ke-9 di Magelang.",
        "Candi Prambanan adalah candi Hindu di Yogyakarta.",
    ]
    folder = tmp_path / "pdf"
    folder.mkdir()
    (folder / "candi.pdf").write_bytes(make_pdf(pages, title="Candi"))
    fresh_engine.reindex([folder])
    answer = fresh_engine.ask("Di mana letak Candi Prambanan?")
    (citation,) = answer.citations
    assert citation.page == 2 and "Prambanan" in citation.quote
    (stored,) = fresh_engine.documents()
    assert stored.document.text[citation.start : citation.end] == citation.quote


def test_an_index_keeps_the_title_slot_it_was_built_with(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    """A new default for untitled documents applies to new indexes; an existing one is not embedded again."""
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "saman.txt").write_text("Tari Saman berasal dari Aceh. Tarian ini dibawakan banyak penari.")
    index_dir = tmp_path / "index"

    def reindex(**overrides: str) -> int:
        engine = RagEngine(make_settings(index_dir, **overrides), embedder=embedder, store=IndexStore(index_dir))
        embedded = engine.reindex([folder]).texts_embedded
        assert engine.store.recorded() is not None
        return embedded

    def recorded() -> str:
        manifest = IndexStore(index_dir).recorded()
        assert manifest is not None
        return str(manifest["chunking"]["untitled"])

    reindex(untitled_context="lead")
    assert recorded() == "lead"
    (folder / "candi.txt").write_text("Candi Prambanan adalah candi Hindu. Candi ini berada di Yogyakarta.")
    assert reindex() == 3  # the new document's chunk and two sentences only
    assert recorded() == "lead"
    assert reindex(untitled_context="names") == 6  # named explicitly: every untitled text again
    assert recorded() == "names"
    fresh = tmp_path / "fresh"
    RagEngine(make_settings(fresh), embedder=embedder, store=IndexStore(fresh)).reindex([folder])
    assert IndexStore(fresh).recorded()["chunking"]["untitled"] == "names"  # type: ignore[index]
