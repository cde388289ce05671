"""Turning documents into one segment's content: chunk, split answer units, embed (cached), tokenize."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from tqdm import tqdm

from rag.config import UntitledContext
from rag.language.sentences import MAX_SENTENCE_CHARS, split_sentences
from rag.language.tokens import Tokenizer
from rag.model.embedding import Embedder, Vectors
from rag.reading.chunking import Chunker
from rag.reading.documents import Document, Span
from rag.reading.titles import is_title_text, slot_title
from rag.storage.postings import TOKENIZATION, Postings
from rag.storage.segments import SegmentContent, StoredDocument, document_centrality, overlaps
from rag.storage.vector_cache import Cache, embed_with_cache, text_key


def answer_units(document: Document) -> list[Span]:
    """The sentences an answer may quote: every sentence except the title line."""
    spans = (Span(document.id, s, e, document.text[s:e]) for s, e in split_sentences(document.text))
    return [span for span in spans if not is_title_text(span.text, document.title)]


# "embedded" (default): every chunk is embedded as a text of its own. "sentences": a chunk's vector is the mean
# of the vectors of the answer units it overlaps, weighted by their length, so only sentences go through the
# model (a chunk without any answer unit, such as a lone title line, is still embedded): about half the
# embedding work, the same answers on titled documents (TyDi .md 0.896 -> 0.899 under torch-bf16), but
# untitled ones lose retrieval (TyDi .txt without title: top chunk 0.894 -> 0.862, answers 0.800 -> 0.786).
ChunkVectors = Literal["embedded", "sentences"]


@dataclass(frozen=True)
class Plan:
    """Documents cut into chunks and answer units, with the (title, text) pairs their vectors need."""

    documents: list[StoredDocument]
    chunks: list[Span]
    sentences: list[Span]
    texts: list[tuple[str, str]]  # the embedded chunks' texts (see `embedded_chunks`), then the sentences'
    pending: int  # distinct texts not in the embedding cache
    embedded_chunks: list[int]  # positions of the chunks embedded as texts of their own
    chunk_sentences: list[list[int]]  # for each chunk, the answer units it overlaps

    def keys_by_document(self) -> dict[str, list[str]]:
        """The cache keys of each document's texts."""
        spans = [*(self.chunks[n] for n in self.embedded_chunks), *self.sentences]
        keys: dict[str, list[str]] = {}
        for span, (title, text) in zip(spans, self.texts, strict=True):
            keys.setdefault(span.doc_id, []).append(text_key(text, title))
        return keys


class SegmentBuilder:
    def __init__(
        self,
        embedder: Embedder,
        cache: Cache,
        chunker: Chunker,
        *,
        sentences: bool = True,
        untitled: UntitledContext = "lead",
        chunk_vectors: ChunkVectors = "embedded",
    ) -> None:
        self.embedder = embedder
        self.cache = cache
        self.chunker = chunker
        # Without sentences an index can rank passages but not compose answers (retrieval benchmarks).
        self.sentences = sentences
        self.untitled = untitled
        self.chunk_vectors = chunk_vectors if sentences else "embedded"
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
            # Recorded only when not the original way, so indexes made before the choice existed stay valid.
            **({} if self.chunk_vectors == "embedded" else {"chunk_vectors": self.chunk_vectors}),
            # An index tokenized before is rewritten by the next reindex (vectors from the cache), so that no
            # index mixes two ways of reading its passages.
            "tokenization": TOKENIZATION,
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
        chunk_sentences = overlaps(chunks, sentences)
        embedded_chunks = [n for n, own in enumerate(chunk_sentences) if self.chunk_vectors == "embedded" or not own]
        spans = [*(chunks[n] for n in embedded_chunks), *sentences]
        texts = [(titles[span.doc_id], span.text) for span in spans]
        keys = {text_key(text, title) for title, text in texts}
        pending = len(keys - set(self.cache.lookup(self.embedder.model_name, sorted(keys))))
        return Plan(counted, chunks, sentences, texts, pending, embedded_chunks, chunk_sentences)

    def build(self, plan: Plan, *, progress: bool) -> tuple[SegmentContent, int]:
        """The segment content of a plan, and how many texts had to be embedded."""
        vectors, embedded = self._embed(plan.texts, plan.pending, progress)
        own = len(plan.embedded_chunks)
        sentence_vectors = vectors[own:]
        chunk_vectors = _chunk_vectors(plan, vectors[:own], sentence_vectors)
        content = SegmentContent(
            documents=plan.documents,
            chunks=plan.chunks,
            chunk_vectors=chunk_vectors,
            sentences=plan.sentences,
            sentence_vectors=sentence_vectors,
            centrality=document_centrality(plan.sentences, sentence_vectors),
            postings=Postings.build(
                [c.text for c in plan.chunks],
                self.tokenizer,
                document_languages(self.tokenizer, plan.documents, plan.chunks),
            ),
        )
        return content, embedded

    def _embed(self, texts: list[tuple[str, str]], pending: int, progress: bool) -> tuple[Vectors, int]:
        with tqdm(total=pending, desc="embedding", unit="text", disable=not progress or not pending) as bar:
            return embed_with_cache(self.embedder, self.cache, texts, on_batch=bar.update)


def document_languages(tokenizer: Tokenizer, documents: Sequence[StoredDocument], chunks: Sequence[Span]) -> list[str]:
    """Each chunk's document's language: what a chunk too short to tell (a title alone) is read in."""
    of_document = {d.document.id: tokenizer.language(d.document.text) for d in documents}
    return [of_document[chunk.doc_id] for chunk in chunks]


def _chunk_vectors(plan: Plan, embedded: Vectors, sentence_vectors: Vectors) -> Vectors:
    """Every chunk's vector: its own where it was embedded, else the length-weighted mean of its sentences'."""
    result = np.zeros((len(plan.chunks), sentence_vectors.shape[1]), dtype=np.float32)
    result[plan.embedded_chunks] = embedded
    own = set(plan.embedded_chunks)
    lengths = np.array([len(s.text) for s in plan.sentences], dtype=np.float32)
    for n, members in enumerate(plan.chunk_sentences):
        if n in own:
            continue
        mean = lengths[members] @ sentence_vectors[members]
        result[n] = mean / np.linalg.norm(mean)
    return result
