"""Which language a text is in (py3langid), and the Snowball stemmer and stopwords (stopwordsiso) known for it.

Indonesian and English are told apart by their function words (rag.language.tokens), as measured on the dev
set; identification decides for passages with few of either (a stray "on" does not make Finnish English) and
never for questions. A language with no Snowball stemmer is handled neutrally: lower-cased words, its stopwords
if stopwordsiso has them, no stemming.
"""

from __future__ import annotations

from functools import cache

# ISO 639-1 code -> the Snowball algorithm PyStemmer names. Malay is stemmed as Indonesian (the two share
# their morphology, and identifiers often confuse them).
SNOWBALL = {
    "ar": "arabic",
    "hy": "armenian",
    "eu": "basque",
    "ca": "catalan",
    "cs": "czech",
    "da": "danish",
    "nl": "dutch",
    "en": "english",
    "eo": "esperanto",
    "et": "estonian",
    "fi": "finnish",
    "fr": "french",
    "de": "german",
    "el": "greek",
    "hi": "hindi",
    "hu": "hungarian",
    "id": "indonesian",
    "ms": "indonesian",
    "ga": "irish",
    "it": "italian",
    "lt": "lithuanian",
    "ne": "nepali",
    "no": "norwegian",
    "nb": "norwegian",
    "fa": "persian",
    "pl": "polish",
    "pt": "portuguese",
    "ro": "romanian",
    "ru": "russian",
    "sr": "serbian",
    "es": "spanish",
    "sv": "swedish",
    "ta": "tamil",
    "tr": "turkish",
    "yi": "yiddish",
}
# The language of texts whose identified language has no Snowball stemmer.
NEUTRAL = "neutral"
# Texts with fewer words are not identified (a name or a short title says little about its language).
MIN_WORDS = 6


def identify(text: str) -> str:
    """The ISO 639-1 code of the text's most likely language (py3langid loads its model on first use)."""
    from py3langid.langid import classify

    code, _ = classify(text)
    return str(code)


@cache
def stopwords_for(code: str) -> frozenset[str]:
    """The language's stopwords (stopwordsiso), lower-cased; none for a language it does not know."""
    import stopwordsiso

    return frozenset(w.lower() for w in stopwordsiso.stopwords(code)) if stopwordsiso.has_lang(code) else frozenset()


def code_of(snowball: str) -> str:
    """The ISO code of a Snowball language name ('indonesian' -> 'id'; '' for NEUTRAL)."""
    return next((code for code, name in SNOWBALL.items() if name == snowball), "")
