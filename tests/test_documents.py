from pathlib import Path

from rag.reading.documents import default_corpus, scan
from rag.reading.sources import resolve
from tests.pdf import make_pdf


def test_scan_reads_text_and_markdown_with_ids_relative_to_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.md").write_text("# Judul A\n\nIsi dokumen A.", encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("Isi dokumen B.", encoding="utf-8")
    documents, skipped = scan(resolve([folder], []))
    assert {d.id: d.label for d in documents} == {"notes/a.md": "Judul A", "notes/sub/b.txt": "b.txt"}
    assert skipped == []


def test_scan_leaves_out_hidden_files_and_folders_and_lists_files_in_id_order(tmp_path: Path) -> None:
    folder = tmp_path / "notes"
    for relative in ["b.txt", "a/z.txt", "a-b.txt", ".git/config.txt", "sub/.hidden.txt", "sub/.cache/x.txt"]:
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(f"Isi {relative}.", encoding="utf-8")
    (folder / "loop").symlink_to(folder)  # a symlinked folder is not followed: no endless walk
    documents, skipped = scan(resolve([folder], []))
    assert [d.id for d in documents] == ["notes/a-b.txt", "notes/a/z.txt", "notes/b.txt"]
    assert skipped == []


def test_bad_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "latin1.txt").write_bytes("caf\xe9".encode("latin-1"))
    (tmp_path / "blob.txt").write_bytes(b"\x00\x01\x02")
    (tmp_path / "empty.md").write_text("  \n", encoding="utf-8")
    (tmp_path / "image.png").write_bytes(b"\x89PNG")
    (tmp_path / "ok.txt").write_text("Baik.", encoding="utf-8")
    documents, skipped = scan(resolve([tmp_path], []))
    assert [d.id for d in documents] == [f"{tmp_path.name}/ok.txt"]
    reasons = {Path(s.path).name: s.reason for s in skipped}
    assert "UTF-8" in reasons["latin1.txt"]
    assert "binary" in reasons["blob.txt"]
    assert "empty" in reasons["empty.md"]
    assert "unsupported" in reasons["image.png"]


def test_the_bundled_article_ships_with_the_package() -> None:
    (article,) = default_corpus()
    assert "Lee Chung-hyun" in article.text
    assert len(article.hash) == 64


def test_pdf_text_layer_keeps_page_starts(tmp_path: Path) -> None:
    pages = ["Candi Borobudur dibangun pada abad ke-9.", "Candi Prambanan adalah candi Hindu terbesar."]
    (tmp_path / "candi.pdf").write_bytes(make_pdf(pages, title="Candi Jawa"))
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    documents, skipped = scan(resolve([tmp_path], []))
    (document,) = documents
    assert document.title == "Candi Jawa"
    assert document.pages == (0, len(pages[0]) + 2)
    assert document.page_at(document.text.index("Prambanan")) == 2
    assert document.page_at(0) == 1
    assert [Path(s.path).name for s in skipped] == ["broken.pdf"]
    assert "PDF" in skipped[0].reason
