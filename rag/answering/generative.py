"""A generated answer in the asker's language, accepted only when every kept sentence is verified.

The model sees the passages the extractive answer was chosen from, numbered. Each sentence it writes
must quote its passage: the quote is located in the indexed text (rag.answering.quotes) and widened to the
whole sentences it touches, which become the citation, an exact span as in extractive answers. Sentences
the span does not support are dropped and reported. The extractive answer is given instead, with the
reason, when the model fails, when nothing or less than half survives, when a sentence contradicts its
span, or when the cited spans answer the question clearly worse than the extractive answer's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from rag.answering.composer import Answer, Citation, Dropped
from rag.answering.generator import DraftSentence, Generator, Passage
from rag.answering.quotes import locate
from rag.answering.verification import Claim, Verifier
from rag.config import Settings
from rag.errors import GeneratorError
from rag.language.identification import NEUTRAL
from rag.model.embedding import Embedder
from rag.search.retrieval import Hit, Query
from rag.storage.generation import Generation

PASSAGES = 3
# How much lower (question cosine) the generated answer's best cited sentence may be than the extractive
# answer's best: within it, the generated answer is taken to answer the question about as well.
RELEVANCE_MARGIN = 0.05


@dataclass(frozen=True)
class _Numbered:
    """A passage shown to the model and where its sentences are in the generation."""

    passage: Passage
    hit: Hit
    sentences: list[int]


@dataclass(frozen=True)
class _Kept:
    text: str
    doc_id: str
    sentences: list[int]


class GenerativeComposer:
    """Turns an extractive answer into a verified generated one, or says why not."""

    def __init__(self, generator: Generator, verifier: Verifier, *, relevance_margin: float = RELEVANCE_MARGIN) -> None:
        self.generator = generator
        self.verifier = verifier
        self.relevance_margin = relevance_margin

    def compose(self, query: Query, extractive: Answer, generation: Generation, *, language: str) -> Answer:
        if extractive.abstained:
            return self._fallback(extractive, "abstained", "the documents do not answer this; nothing to write from")
        numbered = self._numbered(extractive.hits, generation)
        try:
            drafted = self.generator.draft(
                query.text,
                [n.passage for n in numbered],
                language=_language_name(language),
            )
        except GeneratorError as exc:
            return self._fallback(extractive, exc.outcome, exc.message)
        if not drafted:
            return self._fallback(extractive, "declined", "the model found no answer in the passages")
        kept, dropped, contradiction = self._verify(drafted, numbered, generation)
        if contradiction:
            return self._fallback(extractive, "contradiction", contradiction, dropped)
        if not kept or len(kept) * 2 < len(drafted):
            reason = (
                f"{len(drafted) - len(kept)} of {len(drafted)} generated sentences are not supported by their quotes"
            )
            return self._fallback(extractive, "unsupported", reason, dropped)
        best_generated = max(self._relevance(query, generation, k.sentences) for k in kept)
        best_extractive = max(
            (
                self._relevance(query, generation, self._positions(generation, c, extractive.hits))
                for c in extractive.citations
            ),
            default=-1.0,
        )
        if best_generated < best_extractive - self.relevance_margin:
            reason = (
                f"the generated answer cites passages that answer the question less well "
                f"({best_generated:.2f} against {best_extractive:.2f})"
            )
            return self._fallback(extractive, "irrelevant", reason, dropped)
        return self._generated(extractive, kept, dropped, generation)

    @staticmethod
    def _numbered(hits: list[Hit], generation: Generation) -> list[_Numbered]:
        seen: set[int] = set()
        numbered: list[_Numbered] = []
        for hit in hits:
            if hit.position in seen or len(numbered) == PASSAGES:
                continue
            seen.add(hit.position)
            passage = Passage(len(numbered) + 1, hit.title, hit.chunk.text)
            numbered.append(_Numbered(passage, hit, generation.chunk_sentences(hit.position)))
        return numbered

    def _verify(
        self, drafted: list[DraftSentence], numbered: list[_Numbered], generation: Generation
    ) -> tuple[list[_Kept], list[Dropped], str]:
        by_number = {n.passage.n: n for n in numbered}
        cited: list[tuple[DraftSentence, _Numbered, list[int], str]] = []
        dropped: list[Dropped] = []
        for draft in drafted:
            source = by_number.get(draft.passage)
            if source is None:
                dropped.append(Dropped(draft.text, f"cites passage [{draft.passage}], which was not given"))
                continue
            sentences, quote, problem = self._cited_sentences(draft, source, numbered, generation)
            if problem:
                dropped.append(Dropped(draft.text, problem))
                continue
            cited.append((draft, source, sentences, quote))
        claims = [
            Claim(draft.text, self._span_text(generation, sentences), source.hit.title, quote)
            for draft, source, sentences, quote in cited
        ]
        kept: list[_Kept] = []
        contradiction = ""
        for (draft, source, sentences, _), verdict in zip(cited, self.verifier.check(claims), strict=True):
            if verdict.supported:
                kept.append(_Kept(draft.text, source.hit.chunk.doc_id, sentences))
            else:
                dropped.append(Dropped(draft.text, verdict.reason))
                if verdict.contradicts:
                    contradiction = f"a generated sentence contradicts its passage: {draft.text!r} ({verdict.reason})"
        return kept, dropped, contradiction

    def _cited_sentences(
        self, draft: DraftSentence, source: _Numbered, numbered: list[_Numbered], generation: Generation
    ) -> tuple[list[int], str, str]:
        """The sentences of the cited passage the quote lies in and the quote as found, or why it cannot be used."""
        if not draft.quote:  # plain-text replies carry no quote: the passage's sentence closest in meaning
            vectors = self.verifier.embed([draft.text])
            scores = [float(generation.sentence_vector(p) @ vectors[0]) for p in source.sentences]
            if not scores:
                return [], "", "the passage has no sentence"
            return [source.sentences[int(np.argmax(scores))]], "", ""
        found = locate(draft.quote, source.passage.text)
        if found is None:
            for other in numbered:
                if other is not source and locate(draft.quote, other.passage.text) is not None:
                    return (
                        [],
                        "",
                        f"misattributed: its quote is from passage [{other.passage.n}], not [{draft.passage}]",
                    )
            return [], "", "fabricated: its quote is in none of the passages"
        start, end = source.hit.chunk.start + found.start, source.hit.chunk.start + found.end
        touched = [
            p for p in source.sentences if generation.sentence(p).start < end and start < generation.sentence(p).end
        ]
        if not touched:
            return [], "", "its quote lies in no sentence of the passage"
        return touched, source.passage.text[found.start : found.end], ""

    @staticmethod
    def _span_text(generation: Generation, sentences: list[int]) -> str:
        first, last = generation.sentence(sentences[0]), generation.sentence(sentences[-1])
        stored = generation.document(first.doc_id)
        return stored.document.text[first.start : last.end] if stored else first.text

    @staticmethod
    def _relevance(query: Query, generation: Generation, sentences: list[int]) -> float:
        vector = query.vector.reshape(-1)
        return max((float(generation.sentence_vector(p) @ vector) for p in sentences), default=-1.0)

    @staticmethod
    def _positions(generation: Generation, citation: Citation, hits: list[Hit]) -> list[int]:
        """Positions of the sentences an extractive citation spans (they come from the hits' chunks)."""
        found: list[int] = []
        for hit in hits:
            if hit.chunk.doc_id != citation.doc_id:
                continue
            for position in generation.chunk_sentences(hit.position):
                sentence = generation.sentence(position)
                if citation.start <= sentence.start and sentence.end <= citation.end and position not in found:
                    found.append(position)
        return found

    def _generated(
        self, extractive: Answer, kept: list[_Kept], dropped: list[Dropped], generation: Generation
    ) -> Answer:
        citations: list[Citation] = []
        by_span: dict[tuple[str, int, int], int] = {}
        parts = []
        for sentence in kept:
            first, last = generation.sentence(sentence.sentences[0]), generation.sentence(sentence.sentences[-1])
            key = (sentence.doc_id, first.start, last.end)
            if key not in by_span:
                stored = generation.document(sentence.doc_id)
                text = stored.document.text if stored else ""
                by_span[key] = len(citations) + 1
                citations.append(
                    Citation(
                        by_span[key],
                        sentence.doc_id,
                        stored.document.label if stored else sentence.doc_id,
                        first.start,
                        last.end,
                        text[first.start : last.end],
                        0.0,
                        stored.document.page_at(first.start) if stored else None,
                    )
                )
            parts.append(f"{sentence.text} [{by_span[key]}]")
        return replace(
            extractive,
            text=" ".join(parts),
            citations=citations,
            mode="generated",
            dropped=dropped,
            outcome="generated",
        )

    @staticmethod
    def _fallback(extractive: Answer, outcome: str, reason: str, dropped: list[Dropped] | None = None) -> Answer:
        return replace(extractive, fallback_reason=reason, outcome=outcome, dropped=dropped or [])


def _language_name(language: str) -> str:
    """How the prompt names the answer's language: a Snowball name ('russian' -> 'Russian'), else generically."""
    return language.title() if language and language != NEUTRAL else "the language of the question"


def generative_composer(settings: Settings, embedder: Embedder) -> GenerativeComposer | None:
    """The generative composer the settings ask for (RAG_GENERATOR_*), or None when no generator is set."""
    if not settings.generator_url:
        return None
    generator = Generator(
        settings.generator_url,
        model=settings.generator_model,
        api_key=settings.generator_api_key.get_secret_value(),
        timeout=settings.generator_timeout,
    )
    return GenerativeComposer(generator, Verifier(embedder))
