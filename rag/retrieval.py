"""Dense + lexical passage search, fused so that the lexical ranker only helps where its words match."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rag.documents import Span
from rag.embedding import Vectors
from rag.lexical import LexicalIndex, Scores, Tokenizer
from rag.store import Generation

# Dense candidates examined per query before fusion; the rest of the corpus cannot enter the top k.
CANDIDATES = 200


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


class Retriever:
    """Searches one generation. Built once per generation and reused for every query."""

    def __init__(
        self, generation: Generation, tokenizer: Tokenizer, *, lexical_weight: float, ranking: str = "hybrid"
    ) -> None:
        self.generation = generation
        self.lexical = LexicalIndex([c.text for c in generation.content.chunks], tokenizer)
        self.lexical_weight = lexical_weight
        self.ranking = ranking
        self._titles = {d.document.id: d.document.label for d in generation.content.documents}

    def prepare(self, text: str, vector: Vectors) -> Query:
        terms = self.lexical.query_terms(text)
        return Query(text, vector, terms, self.lexical.coverage(terms))

    def dense_scores(self, query: Query) -> Scores:
        """Cosine of the query with every chunk (chunks outside the dense candidates get the floor)."""
        total = len(self.generation.content.chunks)
        scores = np.full(total, -1.0, dtype=np.float32)
        if total:
            found, ids = self.generation.chunk_index.search(query.vector.reshape(1, -1), min(total, CANDIDATES))
            valid = ids[0] >= 0
            scores[ids[0][valid]] = found[0][valid]
            scores[scores == -1.0] = float(found[0][valid].min()) if valid.any() else 0.0
        return scores

    def lexical_scores(self, query: Query) -> Scores:
        """BM25 scaled to 0..1 by the best passage for this query."""
        raw = self.lexical.scores(query.terms)
        top = float(raw.max()) if raw.size else 0.0
        return raw / top if top > 0 else raw

    def fused_scores(self, query: Query) -> tuple[Scores, Scores, Scores]:
        """(fused, dense, lexical) scores of every chunk."""
        dense = self.dense_scores(query)
        lexical = self.lexical_scores(query)
        if self.ranking == "dense":
            return dense, dense, lexical
        if self.ranking == "lexical":
            return lexical, dense, lexical
        # Lexical evidence counts in proportion to how much of the question the corpus vocabulary
        # covers: an English question over Indonesian text keeps almost pure dense ranking.
        return dense + self.lexical_weight * query.coverage * lexical, dense, lexical

    def rank_documents(self, query: Query, *, k: int) -> list[tuple[str, float]]:
        """Documents ranked by their best chunk's fused score."""
        fused, _, _ = self.fused_scores(query)
        best: dict[str, float] = {}
        for position in np.argsort(-fused, kind="stable"):
            doc_id = self.generation.content.chunks[position].doc_id
            if doc_id not in best:
                best[doc_id] = float(fused[position])
                if len(best) == k:
                    break
        return list(best.items())

    def search(self, query: Query, *, k: int, exclude: frozenset[str] = frozenset()) -> list[Hit]:
        """The k best chunks; `exclude` leaves out documents, as if they were not indexed (evaluation)."""
        fused, dense, lexical = self.fused_scores(query)
        if exclude:
            fused = np.where([c.doc_id in exclude for c in self.generation.content.chunks], -np.inf, fused)
        order = np.argsort(-fused, kind="stable")[:k]
        chunks = self.generation.content.chunks
        return [
            Hit(chunks[i], int(i), self._titles[chunks[i].doc_id], float(fused[i]), float(dense[i]), float(lexical[i]))
            for i in order
        ]
