"""Chunking with langchain-text-splitters, keeping each chunk's exact offsets in its document."""

from __future__ import annotations

from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.errors import InvalidInputError
from rag.reading.documents import Document, Span

# Prefer paragraph, then line, then sentence boundaries; words and characters only as a last resort.
SEPARATORS = ["\n\n", "\n", ". ", "? ", "! ", "; ", ", ", " ", ""]


class Chunker:
    """Splits documents into overlapping chunks whose text is exactly document.text[start:end]."""

    def __init__(self, *, size: int, overlap: int) -> None:
        if overlap >= size:
            raise InvalidInputError(f"chunk overlap ({overlap}) must be smaller than chunk size ({size})")
        self.size = size
        self.overlap = overlap
        self._splitter = RecursiveCharacterTextSplitter(
            chunk_size=size,
            chunk_overlap=overlap,
            separators=SEPARATORS,
            keep_separator="end",
            strip_whitespace=True,
        )

    def split(self, document: Document) -> list[Span]:
        spans: list[Span] = []
        cursor = 0
        for piece in self._splitter.split_text(document.text):
            # Chunks come in document order and each is a verbatim slice, so searching forward
            # from the previous chunk's start finds the right occurrence even for repeated text.
            start = document.text.find(piece, cursor)
            if start < 0:
                raise AssertionError(f"chunk not found verbatim in {document.id}")
            spans.append(Span(document.id, start, start + len(piece), piece))
            cursor = start + 1
        return spans
