"""Turning documents into one segment's content: chunk, split answer units, embed (cached), tokenize."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from tqdm import tqdm

from rag.chunking import Chunker
from rag.documents import Document, Span
from rag.embedding import Embedder, Vectors
from rag.lexical import Postings, Tokenizer
from rag.segments import SegmentContent, StoredDocument, document_centrality
from rag.sentences import MAX_SENTENCE_CHARS, split_sentences
from rag.titles import UntitledContext, is_title_text, slot_title
from rag.vector_cache import VectorCache, embed_with_cache, text_key


def answer_units(document: Document) -> list[Span]:
    """The sentences an answer may quote: every sentence except the title line."""
    spans = (Span(document.id, s, e, document.text[s:e]) for s, e in split_sentences(document.text))
    return [span for span in spans if not is_title_text(span.text, document.title)]


@dataclass(frozen=True)
class Plan:
    """Documents cut into chunks and answer units, with the (title, text) pairs their vectors need."""

    documents: list[StoredDocument]
    chunks: list[Span]
    sentences: list[Span]
    texts: list[tuple[str, str]]
    pending: int  # distinct texts not in the embedding cache


class SegmentBuilder:
    def __init__(
        self,
        embedder: Embedder,
        cache: VectorCache,
        chunker: Chunker,
        *,
        sentences: bool = True,
        untitled: UntitledContext = "lead",
    ) -> None:
        self.embedder = embedder
        self.cache = cache
        self.chunker = chunker
        # Without sentences an index can rank passages but not compose answers (retrieval benchmarks).
        self.sentences = sentences
        self.untitled = untitled
        self.tokenizer = Tokenizer()

    @property
    def chunking(self) -> dict[str, Any]:
        """How text was cut, recorded in the manifest."""
        return {
            "splitter": "RecursiveCharacterTextSplitter",
            "size": self.chunker.size,
            "overlap": self.chunker.overlap,
            "sentences": self.sentences,
            "max_sentence_chars": MAX_SENTENCE_CHARS,
            "untitled": self.untitled,
        }

    def plan(self, documents: Sequence[StoredDocument]) -> Plan:
        ordered = sorted(documents, key=lambda d: d.document.id)
        chunks, sentences, counted = [], [], []
        for stored in ordered:
            own_chunks = self.chunker.split(stored.document)
            own_sentences = answer_units(stored.document) if self.sentences else []
            chunks += own_chunks
            sentences += own_sentences
            counted.append(replace(stored, chunk_count=len(own_chunks), sentence_count=len(own_sentences)))
        titles = {
            d.document.id: slot_title(d.document.title, d.document.text, d.document.id, untitled=self.untitled)
            for d in ordered
        }
        texts = [(titles[span.doc_id], span.text) for span in [*chunks, *sentences]]
        keys = {text_key(text, title) for title, text in texts}
        pending = len(keys - set(self.cache.lookup(self.embedder.model_name, sorted(keys))))
        return Plan(counted, chunks, sentences, texts, pending)

    def build(self, plan: Plan, *, progress: bool) -> tuple[SegmentContent, int]:
        """The segment content of a plan, and how many texts had to be embedded."""
        vectors, embedded = self._embed(plan.texts, plan.pending, progress)
        chunk_vectors, sentence_vectors = vectors[: len(plan.chunks)], vectors[len(plan.chunks) :]
        content = SegmentContent(
            documents=plan.documents,
            chunks=plan.chunks,
            chunk_vectors=chunk_vectors,
            sentences=plan.sentences,
            sentence_vectors=sentence_vectors,
            centrality=document_centrality(plan.sentences, sentence_vectors),
            postings=Postings.build([c.text for c in plan.chunks], self.tokenizer),
        )
        return content, embedded

    def _embed(self, texts: list[tuple[str, str]], pending: int, progress: bool) -> tuple[Vectors, int]:
        with tqdm(total=pending, desc="embedding", unit="text", disable=not progress or not pending) as bar:
            vectors, embedded = embed_with_cache(self.embedder, self.cache, texts, on_batch=bar.update)
        return vectors, embedded
