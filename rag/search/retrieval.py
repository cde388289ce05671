"""Dense + lexical passage search, fused so that the lexical ranker only helps where its words match."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.language.tokens import Tokenizer
from rag.model.embedding import Vectors
from rag.reading.documents import Span
from rag.search.lexical import Lexicon
from rag.storage.generation import Generation, Positions, Scores

# Dense candidates examined per query before fusion; the rest of the corpus cannot enter the top k.
CANDIDATES = 200
# The best chunks by fused score whose sentences are also compared with the question (see `_raise_by_sentences`).
SENTENCE_RERANK = 20


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk with its fused score and the two scores it came from."""

    chunk: Span
    position: int
    title: str
    score: float
    dense: float
    lexical: float


@dataclass(frozen=True)
class Query:
    """A question prepared once: its vector, its lexical terms, and how well those terms match the corpus."""

    text: str
    vector: Vectors
    terms: list[str]
    coverage: float


@dataclass(frozen=True)
class Results:
    """Passages found for a query, and the index generation they were found in."""

    query: str
    hits: list[Hit]
    generation: str
    model: str


class Retriever:
    """Searches one generation. Built once per generation (O(segments)) and reused for every query."""

    def __init__(
        self, generation: Generation, tokenizer: Tokenizer, *, lexical_weight: float, ranking: str = "hybrid"
    ) -> None:
        self.generation = generation
        self.lexical = Lexicon(generation.lexical_parts(), tokenizer)
        self.lexical_weight = lexical_weight
        self.ranking = ranking

    def prepare(self, text: str, vector: Vectors) -> Query:
        terms = self.lexical.query_terms(text)
        return Query(text, vector, terms, self.lexical.coverage(terms))

    def fused_scores(self, query: Query) -> tuple[Positions, Scores, Scores, Scores]:
        """(positions, fused, dense, lexical) of the chunks that can rank: the dense candidates and every
        chunk sharing a term with the question. Dense scores outside the candidates get the lowest candidate's
        score; lexical scores are BM25 scaled to 0..1 by the best chunk for this query."""
        dense_at, dense_found = self.generation.top_chunks(query.vector, CANDIDATES)
        lexical_at, lexical_found = self.lexical.scores(query.terms)
        # The union by marking rather than sorting (both are positions of one generation's chunks).
        member = np.zeros(max(dense_at.max(initial=-1), lexical_at.max(initial=-1)) + 1, dtype=np.bool_)
        member[dense_at] = True
        member[lexical_at] = True
        positions = np.flatnonzero(member)
        floor = float(dense_found.min()) if len(dense_found) else 0.0
        dense = np.full(len(positions), floor, dtype=np.float32)
        dense[np.searchsorted(positions, dense_at)] = dense_found
        lexical = np.zeros(len(positions), dtype=np.float32)
        top = float(lexical_found.max()) if len(lexical_found) else 0.0
        if top > 0:
            lexical[np.searchsorted(positions, lexical_at)] = lexical_found / top
        if self.ranking == "lexical":
            return positions, lexical, dense, lexical
        # Lexical evidence counts in proportion to how much of the question the corpus vocabulary
        # covers: an English question over Indonesian text keeps almost pure dense ranking.
        weight = 0.0 if self.ranking == "dense" else self.lexical_weight * query.coverage
        fused = dense + weight * lexical
        self._raise_by_sentences(query, positions, fused, dense)
        return positions, fused, dense, lexical

    def _raise_by_sentences(self, query: Query, positions: Positions, fused: Scores, dense: Scores) -> None:
        """A chunk is as close to the question as its closest sentence: among the best SENTENCE_RERANK chunks,
        the dense score becomes the higher of the chunk's cosine and its best sentence's (in place).

        A chunk's vector blends everything it says, so one answering sentence among others is diluted. On the
        article's dev set the first passage held the answer for 16 of 20 questions before, 19 after (English
        7 -> 9 of 10); TyDi through `.md` files: top chunk 0.927 -> 0.933, answers 0.892 -> 0.896.
        """
        vector = query.vector.reshape(-1)
        # The best few without sorting every candidate (search sorts the raised scores once, after).
        if len(fused) > SENTENCE_RERANK:
            candidates = np.argpartition(-fused, SENTENCE_RERANK)[:SENTENCE_RERANK]
        else:
            candidates = np.arange(len(fused))
        for i in candidates:
            best = self.generation.best_sentence_score(int(positions[i]), vector)
            if best is not None and best > dense[i]:
                fused[i] += best - dense[i]
                dense[i] = best

    def rank_documents(self, query: Query, *, k: int) -> list[tuple[str, float]]:
        """Documents ranked by their best chunk's fused score."""
        positions, fused, _, _ = self.fused_scores(query)
        best: dict[str, float] = {}
        for i in np.argsort(-fused, kind="stable"):
            doc_id = self.generation.chunk(int(positions[i])).doc_id
            if doc_id not in best:
                best[doc_id] = float(fused[i])
                if len(best) == k:
                    break
        return list(best.items())

    def search(self, query: Query, *, k: int, exclude: frozenset[str] = frozenset()) -> list[Hit]:
        """The k best chunks; `exclude` leaves out documents, as if they were not indexed (evaluation)."""
        positions, fused, dense, lexical = self.fused_scores(query)
        hits: list[Hit] = []
        for i in np.argsort(-fused, kind="stable"):
            position = int(positions[i])
            chunk = self.generation.chunk(position)
            if chunk.doc_id in exclude:
                continue
            stored = self.generation.document(chunk.doc_id)
            title = stored.document.label if stored else chunk.doc_id
            hits.append(Hit(chunk, position, title, float(fused[i]), float(dense[i]), float(lexical[i])))
            if len(hits) == k:
                break
        return hits
