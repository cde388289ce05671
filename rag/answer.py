"""Composing the cited answer from retrieved passages, or abstaining when the evidence is weak."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.documents import Span
from rag.retrieval import Hit, Query, Retriever

MAX_ANSWER_CHARS = 300
# How many of the best other sentences form the background a candidate must stand out from.
BACKGROUND_SIZE = 10
# Cosine of a question with an unrelated sentence (about 0.30 on the dev set); pads the background
# of corpora with fewer than BACKGROUND_SIZE sentences.
BACKGROUND_FLOOR = 0.30
NO_ANSWER = "The documents don't say."


@dataclass(frozen=True)
class Citation:
    """Where an answer sentence came from: document_text[start:end] == quote."""

    n: int
    doc_id: str
    title: str
    start: int
    end: int
    quote: str
    score: float


@dataclass(frozen=True)
class Answer:
    question: str
    text: str
    abstained: bool
    confidence: float
    citations: list[Citation]
    hits: list[Hit]


@dataclass(frozen=True)
class Candidate:
    """A source sentence considered for the answer.

    `peak` is how far its similarity rises above the best other sentences of the corpus: a question
    the corpus answers picks out a few sentences sharply, one it does not answer (but is on topic)
    resembles many sentences about equally. On the dev set the peak separates the two where the raw
    cosine does not (unanswerable 0.018-0.035, answerable 0.055 and above).
    """

    sentence: Span
    position: int
    score: float
    similarity: float
    overlap: float
    peak: float


class Composer:
    """Picks the source sentences that answer a question and cites each of them."""

    def __init__(self, retriever: Retriever, *, abstain_threshold: float) -> None:
        self.retriever = retriever
        self.abstain_threshold = abstain_threshold

    def _overlap(self, query: Query, sentence: Span) -> float:
        """IDF-weighted share of the question's terms that the sentence contains."""
        lexical = self.retriever.lexical
        if not query.terms:
            return 0.0
        present = set(lexical.query_terms(sentence.text))
        total = sum(lexical.idf(t) for t in query.terms)
        return sum(lexical.idf(t) for t in query.terms if t in present) / total if total else 0.0

    def candidates(self, query: Query, hits: list[Hit]) -> list[Candidate]:
        generation = self.retriever.generation
        best_chunk: dict[int, float] = {}
        for hit in hits:
            for position in generation.chunk_sentences[hit.position]:
                best_chunk[position] = max(best_chunk.get(position, -1.0), hit.dense)
        if not best_chunk:
            return []
        everything = generation.content.sentence_vectors @ query.vector.reshape(-1)
        best = np.sort(everything)[::-1][: BACKGROUND_SIZE + 1]
        best = np.concatenate([best, np.full(BACKGROUND_SIZE + 1 - len(best), BACKGROUND_FLOOR)])
        result = []
        for position in sorted(best_chunk):
            similarity = float(everything[position])
            # The background excludes the candidate itself (drop one copy of its value).
            others = np.delete(best, int(np.argmin(np.abs(best - similarity))))
            sentence = generation.content.sentences[position]
            overlap = self._overlap(query, sentence) * query.coverage
            score = 0.6 * similarity + 0.4 * best_chunk[position] + 0.15 * overlap
            peak = similarity - float(others[:BACKGROUND_SIZE].mean())
            result.append(Candidate(sentence, position, score, similarity, overlap, peak))
        result.sort(key=lambda c: -c.score)
        return result

    def compose(self, query: Query, hits: list[Hit]) -> Answer:
        ranked = self.candidates(query, hits)
        confidence = max((c.peak for c in ranked[:3]), default=0.0)
        if not ranked or confidence < self.abstain_threshold:
            return Answer(query.text, NO_ANSWER, True, round(confidence, 4), [], hits)
        chosen = [ranked[0]]
        for candidate in ranked[1:3]:
            length = sum(len(c.sentence.text) for c in chosen) + len(candidate.sentence.text)
            if candidate.score >= ranked[0].score - 0.02 and length <= MAX_ANSWER_CHARS:
                chosen.append(candidate)
        return self._cite(query, chosen, confidence, hits)

    def _cite(self, query: Query, chosen: list[Candidate], confidence: float, hits: list[Hit]) -> Answer:
        generation = self.retriever.generation
        chosen.sort(key=lambda c: (c.sentence.doc_id, c.sentence.start))
        # Sentences next to each other in one document become one citation.
        groups: list[list[Candidate]] = []
        for candidate in chosen:
            if (
                groups
                and groups[-1][-1].sentence.doc_id == candidate.sentence.doc_id
                and (groups[-1][-1].position + 1 == candidate.position)
            ):
                groups[-1].append(candidate)
            else:
                groups.append([candidate])
        citations, parts = [], []
        for n, group in enumerate(groups, start=1):
            first, last = group[0].sentence, group[-1].sentence
            stored = generation.document(first.doc_id)
            text = stored.document.text if stored else ""
            quote = text[first.start : last.end]
            citations.append(
                Citation(
                    n,
                    first.doc_id,
                    stored.document.title if stored else first.doc_id,
                    first.start,
                    last.end,
                    quote,
                    round(max(c.score for c in group), 4),
                )
            )
            parts.append(f"{' '.join(quote.split())} [{n}]")
        return Answer(query.text, " ".join(parts), False, round(confidence, 4), citations, hits)
