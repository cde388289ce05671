"""Composing the cited answer from retrieved passages, or abstaining when the evidence is weak."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rag.answering.abstention import absent_names, decide
from rag.answering.calibration import CompositionParams
from rag.language.answer_types import asks_for_definition, asks_for_time, defines, mentions_time
from rag.language.messages import phrases_for
from rag.reading.documents import Span
from rag.search.retrieval import Hit, Query, Retriever

MAX_ANSWER_CHARS = 300


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
    page: int | None = None


@dataclass(frozen=True)
class Dropped:
    """A generated sentence left out of the answer, and why."""

    sentence: str
    reason: str


@dataclass(frozen=True)
class Answer:
    """An answer and the index generation it was composed from.

    `mode` is "extractive" (source sentences) or "generated" (a model's sentences, each verified against the
    span it cites). When a generated answer was asked for and not given, `fallback_reason` says why and
    `outcome` names it in one word (as counted in rag_generations_total).
    """

    question: str
    text: str
    abstained: bool
    confidence: float
    citations: list[Citation]
    hits: list[Hit]
    generation: str
    model: str
    mode: str = "extractive"
    dropped: list[Dropped] = field(default_factory=list)
    fallback_reason: str | None = None
    outcome: str | None = None
    abstention_reason: str | None = None


@dataclass(frozen=True)
class Candidate:
    """A source sentence considered for the answer.

    `peak` is how far its similarity rises above the best sentences outside its passage: a question
    the corpus answers picks out a few sentences sharply, one it does not answer (but is on topic)
    resembles many sentences about equally. The sentences of its own passage are left out of the
    background because the neighbours of an answer resemble the question too. `cue` is the part of the score that
    comes from what the question asks for (a time, a definition), included in `score`. `chunk` is the
    position of the retrieved passage it was found in.
    """

    sentence: Span
    position: int
    score: float
    similarity: float
    peak: float
    cue: float = 0.0
    chunk: int = -1


@dataclass(frozen=True)
class Weighed:
    """The candidates of a question, best first, and what answering rests on: how far the best ones stand out
    (`margin`, less the missing-terms penalty), whether any is about the question at all, and the question's
    names and numbers the best one's sentence, passage and title lack."""

    ranked: list[Candidate]
    margin: float
    on_topic: bool
    absent: tuple[str, ...]


def second_joins(best: Candidate, second: Candidate, *, params: CompositionParams) -> bool:
    """Whether the second-best sentence joins the answer: it scores nearly as well and the two fit.

    When the two score almost alike the ranking cannot tell which one answers, so both are shown even
    past MAX_ANSWER_CHARS, up to `close_call_chars`.
    """
    gap = best.score - second.score
    budget = params.close_call_chars if gap <= params.close_call_margin else MAX_ANSWER_CHARS
    return gap <= params.second_sentence_margin and len(best.sentence.text) + len(second.sentence.text) <= budget


class Composer:
    """Picks the source sentences that answer a question and cites each of them."""

    def __init__(self, retriever: Retriever, *, params: CompositionParams) -> None:
        self.retriever = retriever
        self.params = params

    def with_params(self, **changes: Any) -> Composer:
        """The same composer over the same retriever with some constants changed (sweeps)."""
        return Composer(self.retriever, params=replace(self.params, **changes))

    def missing_terms(self, query: Query, hits: list[Hit]) -> float:
        """IDF-weighted share of the question's terms that none of the retrieved passages contains."""
        lexical = self.retriever.lexical
        total = sum(lexical.idf(t) for t in query.terms)
        if not total:
            return 0.0
        present = set().union(*(lexical.terms_of(hit.position) for hit in hits))
        return sum(lexical.idf(t) for t in query.terms if t not in present) / total

    def candidates(self, query: Query, hits: list[Hit], *, exclude: frozenset[str] = frozenset()) -> list[Candidate]:
        generation = self.retriever.generation
        best_chunk: dict[int, tuple[float, int]] = {}
        for hit in hits:
            for position in generation.chunk_sentences(hit.position):
                if hit.dense > best_chunk.get(position, (-1.0, -1))[0]:
                    best_chunk[position] = (hit.dense, hit.position)
        if not best_chunk:
            return []
        p = self.params
        vector = query.vector.reshape(-1)
        owns = {
            chunk: ([] if p.own_passage_in_background else generation.chunk_sentences(chunk))
            for _, chunk in best_chunk.values()
        }
        # One search for the whole question: every background is a prefix of the longest one needed (+1: the
        # candidate itself, left out when own_passage_in_background).
        longest = p.background_size + max(len(own) for own in owns.values()) + 1
        ranked_scores = generation.top_sentence_scores(vector, longest, exclude=exclude)
        backgrounds: dict[int, np.ndarray] = {}
        wants_time = asks_for_time(query.text)
        wants_definition = asks_for_definition(query.text)
        result = []
        for position in sorted(best_chunk):
            similarity = float(generation.sentence_vector(position) @ vector)
            sentence = generation.sentence(position)
            dense, chunk = best_chunk[position]
            if p.own_passage_in_background:
                others = self._background(vector, [position], ranked_scores)
            else:
                if chunk not in backgrounds:
                    backgrounds[chunk] = self._background(vector, owns[chunk], ranked_scores)
                others = backgrounds[chunk]
            # What the question asks for (a time, a definition) orders the answers but is no evidence
            # that the corpus answers at all: `cue` is kept apart so abstaining can leave it out.
            cue = (p.time_bonus if wants_time and mentions_time(sentence.text) else 0.0) + (
                p.definition_bonus if wants_definition and defines(sentence.text) else 0.0
            )
            score = (
                p.similarity_weight * similarity
                + (1 - p.similarity_weight) * dense
                - p.centrality_penalty * generation.centrality(position)
                + cue
            )
            peak = similarity - float(others[: p.background_size].mean())
            result.append(Candidate(sentence, position, score, similarity, peak, cue, chunk))
        result.sort(key=lambda c: -c.score)
        return result

    def _background(self, vector: np.ndarray, own: list[int], ranked_scores: np.ndarray) -> np.ndarray:
        """The best cosines of the question with the corpus's sentences other than the `own` ones, from the
        question's best sentence cosines (`ranked_scores`, best first), padded with the floor for a small corpus."""
        p = self.params
        generation = self.retriever.generation
        size = p.background_size + len(own)
        best = ranked_scores[:size]
        best = np.concatenate([best, np.full(size - len(best), p.background_floor)])
        for position in own:
            # Drop one copy of each own sentence's value (or the nearest one when it is not among the best).
            best = np.delete(best, int(np.argmin(np.abs(best - float(generation.sentence_vector(position) @ vector)))))
        return best

    def carried(self, candidate: Candidate) -> str:
        """What a chosen sentence comes with: itself, the passage it was retrieved in and its document's title."""
        generation = self.retriever.generation
        stored = generation.document(candidate.sentence.doc_id)
        chunk = generation.chunk(candidate.chunk).text if candidate.chunk >= 0 else ""
        return "\n".join([candidate.sentence.text, chunk, stored.document.title if stored else ""])

    def weigh(self, query: Query, hits: list[Hit], *, exclude: frozenset[str] = frozenset()) -> Weighed:
        """The candidate sentences and what deciding to answer rests on (bench/abstention_signals.py varies it)."""
        ranked = self.candidates(query, hits, exclude=exclude)
        # A question whose rare words appear in none of the retrieved passages is probably about
        # something else; the penalty scales with how many of its words the passages' own language uses, so a
        # question asked in another language is spared even when other documents share its language.
        p = self.params
        coverage = self.retriever.lexical.coverage_among(query.terms, [hit.position for hit in hits])
        penalty = p.missing_terms_penalty * coverage * self.missing_terms(query, hits)
        # The confidence rests on the best sentences before the answer-type cues: a cue that lifts a sentence
        # into the top three must not push out the one that stands out (untitled TyDi: 2 more false abstentions).
        evidence = sorted(ranked, key=lambda c: c.cue - c.score)[:3]
        return Weighed(
            ranked,
            margin=max((c.peak for c in evidence), default=0.0) - penalty,
            on_topic=any(c.similarity >= p.min_similarity for c in evidence),
            absent=absent_names(query.text, self.carried(ranked[0])) if ranked else (),
        )

    def compose(self, query: Query, hits: list[Hit], *, exclude: frozenset[str] = frozenset()) -> Answer:
        """The answer from the retrieved hits; `exclude` names documents treated as not indexed (evaluation)."""
        weighed = self.weigh(query, hits, exclude=exclude)
        ranked, p = weighed.ranked, self.params
        verdict = decide(on_topic=weighed.on_topic, margin=weighed.margin, absent=weighed.absent, params=p)
        confidence = verdict.confidence(p.confidence_spread)
        if verdict.reason is not None:
            text = phrases_for(query.text).declined(verdict.reason, names=verdict.absent)
            answer = self._answer(query, text, True, confidence, [], hits)
            return replace(answer, abstention_reason=verdict.reason)
        chosen = ranked[:2] if len(ranked) > 1 and second_joins(ranked[0], ranked[1], params=p) else ranked[:1]
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
                    stored.document.label if stored else first.doc_id,
                    first.start,
                    last.end,
                    quote,
                    round(max(c.score for c in group), 4),
                    stored.document.page_at(first.start) if stored else None,
                )
            )
            parts.append(f"{' '.join(quote.split())} [{n}]")
        return self._answer(query, " ".join(parts), False, confidence, citations, hits)

    def _answer(
        self, query: Query, text: str, abstained: bool, confidence: float, citations: list[Citation], hits: list[Hit]
    ) -> Answer:
        generation = self.retriever.generation
        return Answer(
            query.text, text, abstained, round(confidence, 4), citations, hits, generation.name, generation.model
        )
