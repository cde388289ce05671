"""The lexical ranker: BM25 (bm25s) over Indonesian- and English-aware tokens."""

from __future__ import annotations

import re
from collections.abc import Sequence

import bm25s
import numpy as np
import numpy.typing as npt
import Stemmer

_WORD = re.compile(r"\w+", re.UNICODE)

# Function words of Indonesian and English: they match everywhere and carry no evidence.
STOPWORDS = frozenset(
    [
        "ada",
        "adalah",
        "agar",
        "akan",
        "aku",
        "anda",
        "apa",
        "apakah",
        "atas",
        "atau",
        "bagaimana",
        "bagi",
        "bahwa",
        "banyak",
        "beberapa",
        "belum",
        "berapa",
        "bisa",
        "dalam",
        "dan",
        "dapat",
        "dari",
        "demikian",
        "dengan",
        "di",
        "dia",
        "engkau",
        "hal",
        "hanya",
        "harus",
        "ia",
        "ini",
        "itu",
        "jadi",
        "jika",
        "juga",
        "kali",
        "kalau",
        "kami",
        "kamu",
        "karena",
        "ke",
        "kepada",
        "kini",
        "lagi",
        "lain",
        "maka",
        "masih",
        "mana",
        "mereka",
        "meskipun",
        "mengapa",
        "merupakan",
        "namun",
        "oleh",
        "pada",
        "para",
        "pun",
        "saat",
        "saja",
        "sangat",
        "saya",
        "se",
        "sebagai",
        "sebuah",
        "secara",
        "sedang",
        "sejak",
        "seorang",
        "seperti",
        "serta",
        "siapa",
        "sudah",
        "supaya",
        "tahun",
        "telah",
        "tentang",
        "tersebut",
        "tetapi",
        "tidak",
        "untuk",
        "walaupun",
        "yaitu",
        "yakni",
        "yang",
        "dimana",
        "kapan",
        "manakah",
        "siapakah",
        "apakah",
        "berapakah",
        "bagaimanakah",
        "mengapakah",
        "adakah",
        "bukan",
        "belum",
        "sering",
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "he",
        "her",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "she",
        "so",
        "than",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)

Scores = npt.NDArray[np.float32]


class Tokenizer:
    """Lower-cases, drops stopwords and reduces Indonesian affixes (Snowball), so 'sutradarai' meets 'sutradara'."""

    def __init__(self) -> None:
        self._stemmer = Stemmer.Stemmer("indonesian")

    def __call__(self, text: str) -> list[str]:
        words = [w for w in _WORD.findall(text.lower()) if w not in STOPWORDS]
        return list(self._stemmer.stemWords(words))


class LexicalIndex:
    """BM25 over a fixed list of passages; scores every passage for a query."""

    def __init__(self, texts: Sequence[str], tokenizer: Tokenizer) -> None:
        self._tokenize = tokenizer
        self._size = len(texts)
        tokens = [self._tokenize(text) or ["\x00"] for text in texts]
        self._bm25 = bm25s.BM25()
        if texts:
            self._bm25.index(tokens, show_progress=False)
        self._vocabulary: dict[str, int] = dict(self._bm25.vocab_dict) if texts else {}
        self._terms = [frozenset(passage) for passage in tokens]
        counts: dict[str, int] = {}
        for terms in self._terms:
            for token in terms:
                counts[token] = counts.get(token, 0) + 1
        self._document_frequency = counts

    def terms_of(self, position: int) -> frozenset[str]:
        """The distinct terms of passage `position`."""
        return self._terms[position]

    def query_terms(self, text: str) -> list[str]:
        return self._tokenize(text)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency; unseen terms get the highest value."""
        frequency = self._document_frequency.get(term, 0)
        return float(np.log(1.0 + (self._size - frequency + 0.5) / (frequency + 0.5)))

    def coverage(self, terms: Sequence[str]) -> float:
        """The IDF-weighted share of query terms that occur in the corpus at all (0..1)."""
        total = sum(self.idf(t) for t in terms)
        if total == 0:
            return 0.0
        return sum(self.idf(t) for t in terms if t in self._vocabulary) / total

    def scores(self, terms: Sequence[str]) -> Scores:
        known = [t for t in terms if t in self._vocabulary]
        if not known or not self._size:
            return np.zeros(self._size, dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)
