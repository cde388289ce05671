"""The lexical postings a segment stores: its chunks' term frequencies, saved beside its vectors.

Scoring them (BM25 with collection-wide statistics) is the search package's business; this module only
builds, stacks, saves and loads them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse

from rag.language.tokens import INDONESIAN, LANGUAGES, Tokenizer

# A chunk without a single term still has length 1, as it had in bm25s.
EMPTY = "\x00"
Mask = npt.NDArray[np.bool_]


# How passages are tokenized, recorded with an index's chunking so that a change rewrites the index: 2 since
# passages with few Indonesian or English function words are identified and a title alone takes its document's
# language.
TOKENIZATION = 2


@dataclass(frozen=True)
class Postings:
    """Term frequencies of one segment's chunks (rows) over the segment's own vocabulary (columns)."""

    terms: list[str]
    by_chunk: sparse.csr_matrix
    languages: npt.NDArray[np.int8]  # each chunk's language, an index into LANGUAGES
    vocabulary: dict[str, int] = field(init=False)
    by_term: sparse.csc_matrix = field(init=False)
    lengths: npt.NDArray[np.float64] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "vocabulary", {term: column for column, term in enumerate(self.terms)})
        object.__setattr__(self, "by_term", self.by_chunk.tocsc())
        object.__setattr__(self, "lengths", np.asarray(self.by_chunk.sum(axis=1), dtype=np.float64).reshape(-1))

    @classmethod
    def build(cls, texts: Sequence[str], tokenizer: Tokenizer, defaults: Sequence[str] | None = None) -> Postings:
        """The postings of `texts`; `defaults` gives each text the language it takes when too short to tell (its
        document's: a title alone is read in the language of the text under it)."""
        vocabulary: dict[str, int] = {}
        rows, columns, counts, read = [], [], [], []
        for row, (text, default) in enumerate(zip(texts, defaults or [INDONESIAN] * len(texts), strict=True)):
            language, terms = tokenizer.read(text, default)
            read.append(LANGUAGES.index(language))
            for term, count in Counter(terms or [EMPTY]).items():
                rows.append(row)
                columns.append(vocabulary.setdefault(term, len(vocabulary)))
                counts.append(count)
        matrix = sparse.csr_matrix(
            (np.asarray(counts, dtype=np.int32), (rows, columns)), shape=(len(texts), len(vocabulary))
        )
        languages = np.array(read, dtype=np.int8)
        return cls(list(vocabulary), matrix, languages)

    @classmethod
    def stack(cls, parts: Sequence[Postings], rows: npt.NDArray[np.int64]) -> Postings:
        """Rows `rows` of the segments' postings stacked in order, over one merged vocabulary (compaction)."""
        vocabulary: dict[str, int] = {}
        blocks = []
        for postings in parts:
            columns = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in postings.terms], dtype=np.int64)
            blocks.append((postings.by_chunk.tocoo(), columns))
        stacked = sparse.vstack(
            [sparse.csr_matrix((b.data, (b.row, c[b.col])), shape=(b.shape[0], len(vocabulary))) for b, c in blocks],
            format="csr",
        )
        languages = np.concatenate([p.languages for p in parts]) if parts else np.zeros(0, np.int8)
        return cls(list(vocabulary), stacked[rows], languages[rows])

    def terms_of(self, row: int) -> frozenset[str]:
        start, end = self.by_chunk.indptr[row], self.by_chunk.indptr[row + 1]
        return frozenset(self.terms[c] for c in self.by_chunk.indices[start:end])

    def column(self, term: str) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """(rows, term frequencies) of the chunks holding `term`."""
        column = self.vocabulary.get(term)
        if column is None:
            return np.zeros(0, np.int32), np.zeros(0, np.int32)
        start, end = self.by_term.indptr[column], self.by_term.indptr[column + 1]
        return self.by_term.indices[start:end], self.by_term.data[start:end]

    def save(self, path: Path) -> None:
        np.savez(
            path,
            terms=np.array(self.terms, dtype=object),
            data=self.by_chunk.data,
            indices=self.by_chunk.indices,
            indptr=self.by_chunk.indptr,
            shape=np.array(self.by_chunk.shape),
            languages=self.languages,
        )

    @classmethod
    def load(cls, path: Path) -> Postings:
        # The vocabulary is an object array; the file is only ever read from a verified segment.
        with np.load(path, allow_pickle=True) as stored:
            matrix = sparse.csr_matrix(
                (stored["data"], stored["indices"], stored["indptr"]), shape=tuple(stored["shape"])
            )
            return cls([str(t) for t in stored["terms"]], matrix, stored["languages"])


@dataclass(frozen=True)
class LexicalPart:
    """One segment's postings as a generation sees them: which rows are live, where they start."""

    postings: Postings
    live: Mask
    offset: int
