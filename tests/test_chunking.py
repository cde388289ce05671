import pytest

from rag.errors import InvalidInputError
from rag.reading.chunking import Chunker
from rag.reading.documents import Document, default_corpus


def test_every_chunk_is_the_exact_slice_at_its_offsets() -> None:
    document = default_corpus()[0]
    chunks = Chunker(size=300, overlap=60).split(document)
    assert len(chunks) > 20
    for chunk in chunks:
        assert document.text[chunk.start : chunk.end] == chunk.text
        assert len(chunk.text) <= 300
    assert chunks[0].start == document.text.index("Ballerina")
    assert chunks[-1].end == len(document.text.rstrip())


def test_repeated_text_gets_increasing_offsets() -> None:
    text = "Kalimat yang sama persis. " * 40
    chunks = Chunker(size=100, overlap=0).split(Document("d", "d", text))
    starts = [c.start for c in chunks]
    assert starts == sorted(set(starts))
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_overlap_must_be_smaller_than_size() -> None:
    with pytest.raises(InvalidInputError, match="overlap"):
        Chunker(size=100, overlap=100)
