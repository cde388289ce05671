"""Words for the lexical ranker: lower-cased, stopwords dropped, stemmed in the text's language (Snowball)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import Stemmer

from rag.language import stopwords

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = stopwords.INDONESIAN | stopwords.ENGLISH
INDONESIAN = "indonesian"
ENGLISH = "english"
LANGUAGES = (INDONESIAN, ENGLISH)


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
