"""Titles come from the file itself, the same way for every format and every way in."""

from __future__ import annotations

import pytest

from rag.indexing.segment_builder import answer_units
from rag.reading.documents import parse_document
from rag.reading.titles import find_title, lead, lead_names, name_words, slot_title
from tests.pdf import make_pdf

BODY = "Tari Saman berasal dari suku Gayo di Aceh. Tarian ini dibawakan oleh banyak penari."


@pytest.mark.parametrize(
    ("name", "raw", "title"),
    [
        ("saman.txt", f"Tari Saman\n\n{BODY}", "Tari Saman"),
        ("saman.txt", BODY, ""),
        ("saman.txt", f"Tari Saman berasal dari Aceh.\n\n{BODY}", ""),
        ("saman.txt", f"Tari Saman\n{BODY}", ""),
        ("saman.txt", f"{'Sangat panjang ' * 10}\n\n{BODY}", ""),
        ("saman.md", f"# Tari Saman\n\n{BODY}", "Tari Saman"),
        ("saman.md", f'---\ntitle: "Tari dari Aceh"\n---\n# Tari Saman\n\n{BODY}', "Tari dari Aceh"),
        ("saman.md", f"Tari Saman\n==========\n\n{BODY}", "Tari Saman"),
        ("saman.md", f"Pengantar singkat.\n\n# Tari Saman\n\n{BODY}", "Tari Saman"),
        ("saman.md", BODY, ""),
        ("saman.html", f"<html><head><title>Tari Saman</title></head><body><p>{BODY}</p></body></html>", "Tari Saman"),
        ("saman.html", f"<html><body><h1>Saman</h1><p>{BODY}</p></body></html>", "Saman"),
        ("saman.html", f"<html><body><p>{BODY}</p></body></html>", ""),
    ],
)
def test_each_format_gets_the_title_it_declares(name: str, raw: str, title: str) -> None:
    document = parse_document(raw.encode(), name=name, doc_id=name, source="test")
    assert document.title == title
    assert document.label == (title or name)


def test_pdf_title_from_metadata_or_a_title_line() -> None:
    with_metadata = make_pdf(["Isi halaman pertama.", "Isi halaman kedua."], title="Candi Jawa")
    titled_page = make_pdf(["Candi Jawa", "Candi Prambanan adalah candi Hindu."], title=None)
    untitled = make_pdf(["Candi Prambanan adalah candi Hindu.", "Isi halaman kedua."], title=None)
    files = (with_metadata, titled_page, untitled)
    titles = [parse_document(raw, name="c.pdf", doc_id="c.pdf", source="t").title for raw in files]
    assert titles == ["Candi Jawa", "Candi Jawa", ""]


def test_a_title_line_is_never_an_answer_sentence() -> None:
    for name, raw in [("a.txt", f"Tari Saman\n\n{BODY}"), ("a.md", f"# Tari Saman\n\n{BODY}")]:
        document = parse_document(raw.encode(), name=name, doc_id=name, source="test")
        assert [unit.text for unit in answer_units(document)] == [
            "Tari Saman berasal dari suku Gayo di Aceh.",
            "Tarian ini dibawakan oleh banyak penari.",
        ]


def test_a_sentence_that_only_resembles_the_title_stays() -> None:
    document = parse_document(f"Saman\n\nSaman.\n\n{BODY}".encode(), name="a.txt", doc_id="a.txt", source="t")
    assert document.title == "Saman"
    assert "Tari Saman berasal dari suku Gayo di Aceh." in [u.text for u in answer_units(document)]


def test_the_title_slot_of_an_untitled_document() -> None:
    assert slot_title("Tari Saman", BODY, "x/saman.txt", untitled="names") == "Tari Saman"
    assert slot_title("", BODY, "x/saman.txt", untitled="names") == "Tari Saman, Gayo, Aceh"
    assert slot_title("", "tanpa nama di sini. Dan lagi.", "x/a.txt", untitled="names") == "tanpa nama di sini."
    assert slot_title("Tari Saman", BODY, "x/saman.txt", untitled="lead") == "Tari Saman"
    assert slot_title("", BODY, "x/saman.txt", untitled="lead") == "Tari Saman berasal dari suku Gayo di Aceh."
    assert slot_title("", BODY, "x/tari_saman-aceh.txt", untitled="name") == "tari saman aceh"
    assert slot_title("", BODY, "x/saman.txt", untitled="none") == ""
    assert name_words("notes/ballerina_id.txt") == "ballerina id"
    long_lead = lead("kata " * 100 + "akhir.")
    assert long_lead.startswith("kata kata") and len(long_lead) <= 120 and not long_lead.endswith(" ")


def test_find_title_ignores_blank_lines_before_the_first_line() -> None:
    assert find_title(f"\n\n  \nTari Saman\n\n{BODY}") == "Tari Saman"


@pytest.mark.parametrize(
    ("text", "names"),
    [
        # A capitalised first word counts only when the sentence does not also write it in lowercase.
        ("Kabupaten Donggala adalah sebuah kabupaten di Sulawesi Tengah.", "Donggala, Sulawesi Tengah"),
        ("Pada tahun 1960, MGM memproduksi Tom and Jerry di Eropa Timur.", "MGM, Tom, Jerry"),
        ("Ferdinand VII lahir di Madrid pada 1784.", "Ferdinand VII, Madrid"),
        ("Ia juga bukan orang pertama.", ""),
        ("Kolumbus tiba di Amerika. Ferdinand VII lahir di Madrid.", "Kolumbus, Amerika"),
    ],
)
def test_lead_names_are_the_names_of_the_first_sentence(text: str, names: str) -> None:
    assert lead_names(text) == names
