"""Words for the lexical ranker: lower-cased, stopwords dropped, stemmed in the text's language (Snowball)."""

from __future__ import annotations

import re
from collections.abc import Sequence

import Stemmer

from rag.language import stopwords
from rag.language.identification import MIN_WORDS, NEUTRAL, SNOWBALL, code_of, identify, stopwords_for

_WORD = re.compile(r"\w+", re.UNICODE)
_STOPWORDS = stopwords.INDONESIAN | stopwords.ENGLISH
INDONESIAN = "indonesian"
ENGLISH = "english"
# A chunk's language is stored in its segment as an index into this tuple: new languages are only ever appended.
LANGUAGES = (INDONESIAN, ENGLISH, *sorted(set(SNOWBALL.values()) - {INDONESIAN, ENGLISH}), NEUTRAL)
# Below this share of Indonesian or English function words a passage is identified. TyDi passages through `.md`
# files: 432 of 1,051 Finnish chunks read as English before (Finnish "on" is an English stopword), 11 after;
# Russian 89 of 1,369 -> 6, Arabic 22 of 1,281 -> 2; Indonesian and English unchanged (0.1: Finnish 50).
FUNCTION_SHARE = 0.2


class Tokenizer:
    """Lower-cases, drops stopwords and stems with the Snowball stemmer of the text's language.

    Indonesian stemming lets 'sutradarai' meet 'sutradara'; English stemming lets 'infections' meet
    'infection'. Indonesian and English are told by their function words; a text of at least MIN_WORDS words
    with few of either is identified (Russian gets Russian stems and stopwords, a language without a Snowball
    stemmer none); a shorter one (a short claim, a name, a title) takes `default`.
    """

    def __init__(self) -> None:
        self._stemmers: dict[str, Stemmer.Stemmer] = {}

    def language(self, text: str, default: str = INDONESIAN, *, identified: bool = True) -> str:
        """The Snowball name of the text's language (NEUTRAL for one without a stemmer).

        Without `identified`, a text that uses neither Indonesian nor English function words takes `default`:
        questions are short and identifiers are unsure of them (a Russian question came out Bulgarian), so a
        question is read in its collection's main language instead.
        """
        return self._language(_WORD.findall(text.lower()), text, default, identified)

    @staticmethod
    def _language(words: Sequence[str], text: str, default: str, identified: bool) -> str:
        indonesian = sum(w in stopwords.INDONESIAN for w in words)
        english = sum(w in stopwords.ENGLISH for w in words)
        if identified and len(words) >= MIN_WORDS:
            # A stray "on" or "di" must not make a Finnish or Russian passage English or Indonesian: with few
            # function words of either, the identifier decides unless it says Indonesian or English itself.
            few = max(indonesian, english) < FUNCTION_SHARE * len(words)
            if few or indonesian == english:
                language = SNOWBALL.get(identify(text), NEUTRAL)
                if indonesian == english or language not in (INDONESIAN, ENGLISH):
                    return language
        # In a collection of another language one function word is no evidence ("Kuka on ...?" is Finnish: 235 of
        # TyDi's 782 Finnish questions were read as English for their "on"; 7 with two needed).
        if indonesian != english and (default in (INDONESIAN, ENGLISH) or max(indonesian, english) >= 2):
            return INDONESIAN if indonesian > english else ENGLISH
        return default

    def __call__(self, text: str, default: str = INDONESIAN, *, identified: bool = True) -> list[str]:
        return self.read(text, default, identified=identified)[1]

    def read(self, text: str, default: str = INDONESIAN, *, identified: bool = True) -> tuple[str, list[str]]:
        """The text's language (as `language` tells it) and its terms, identifying it once."""
        words = _WORD.findall(text.lower())
        language = self._language(words, text, default, identified)
        dropped = _STOPWORDS if language in (INDONESIAN, ENGLISH) else _STOPWORDS | stopwords_for(code_of(language))
        kept = [w for w in words if w not in dropped]
        if language == NEUTRAL:
            return language, kept
        stemmer = self._stemmers.get(language)
        if stemmer is None:  # made on first use: a tokenizer meets few of the languages
            stemmer = self._stemmers[language] = Stemmer.Stemmer(language)
        return language, list(stemmer.stemWords(kept))
