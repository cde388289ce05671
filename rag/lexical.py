"""The lexical ranker: BM25 (bm25s) over Indonesian- and English-aware tokens."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import Stemmer

from rag import stopwords

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = stopwords.INDONESIAN | stopwords.ENGLISH
INDONESIAN = "indonesian"
ENGLISH = "english"
LANGUAGES = (INDONESIAN, ENGLISH)

Scores = npt.NDArray[np.float32]


class Tokenizer:
    """Lower-cases, drops stopwords and stems with the Snowball stemmer of the text's language.

    Indonesian stemming lets 'sutradarai' meet 'sutradara'; English stemming lets 'infections' meet
    'infection'. The language is the one whose function words the text uses more; a text with none of
    either (a short claim, a name) takes `default`.
    """

    def __init__(self) -> None:
        self._stemmers = {language: Stemmer.Stemmer(language) for language in LANGUAGES}

    def language(self, text: str, default: str = INDONESIAN) -> str:
        """'indonesian' or 'english': whichever language's function words the text uses more."""
        return self._language(_WORD.findall(text.lower()), default)

    @staticmethod
    def _language(words: Sequence[str], default: str) -> str:
        indonesian = sum(w in stopwords.INDONESIAN for w in words)
        english = sum(w in stopwords.ENGLISH for w in words)
        if indonesian == english:
            return default
        return INDONESIAN if indonesian > english else ENGLISH

    def __call__(self, text: str, default: str = INDONESIAN) -> list[str]:
        words = _WORD.findall(text.lower())
        stemmer = self._stemmers[self._language(words, default)]
        return list(stemmer.stemWords([w for w in words if w not in _STOPWORDS]))


class LexicalIndex:
    """BM25 over a fixed list of passages; scores every passage for a query."""

    def __init__(self, texts: Sequence[str], tokenizer: Tokenizer) -> None:
        self._tokenize = tokenizer
        self._size = len(texts)
        languages = Counter(tokenizer.language(text) for text in texts)
        # Queries with no function words of either language (short claims, bare names) are read in
        # the corpus's main language, so that they are stemmed like the passages they should match.
        self.language = languages.most_common(1)[0][0] if languages else INDONESIAN
        tokens = [self._tokenize(text) or ["\x00"] for text in texts]
        # Imported here: bm25s (and scipy) take a third of a second, which telling a language does not need.
        import bm25s

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
        return self._tokenize(text, default=self.language)

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
