"""What kind of answer a question asks for, and whether a sentence offers one (Indonesian and English)."""

from __future__ import annotations

import re

_TIME_QUESTION = re.compile(
    r"\b(kapan|kapankah|bilamana|tahun berapa|tanggal berapa|abad ke berapa|when|what year|which year|what date)\b",
    re.IGNORECASE,
)
# English months spelt like the Indonesian ones appear once; "may" is left out because the modal verb
# would make most English sentences look like dates (a year still marks "May 2020").
_MONTHS = (
    "januari|februari|maret|april|mei|juni|juli|agustus|september|oktober|november|desember|"
    "january|february|march|june|july|august|october|december"
)
# A year (1000-2099), a month name, or a century ("abad ke-19", "19th century").
_TIME = re.compile(
    rf"(?<!\d)(1\d{{3}}|20\d{{2}})(?!\d)|\b({_MONTHS})\b|\babad\b|\bcentury\b",
    re.IGNORECASE,
)


# "Apa itu X?", "Apakah yang dimaksud dengan X?", "Pengertian X", "What is X?": the answer is the sentence
# that defines X, usually "X adalah ..." near the start of its article.
_DEFINITION_QUESTION = re.compile(
    r"\b(apa\s*(kah)?\s+itu|apa\s*(kah)?\s+yang\s+di\s*maksud|pengertian|definisi|arti\s+dari)\b"
    r"|^\s*(what|who)\s+(is|are|was|were)\s+(an?\s+)?[^?\s]+(\s+[^?\s]+)?\s*\?\s*$",
    re.IGNORECASE,
)
# "Siapakah Kubilai Khan?": who someone is, asked with nothing but the name (capitalised words).
_WHO_IS = re.compile(r"^\s*siapa(kah)?\s+([^?]+)\?\s*$", re.IGNORECASE)
# A copula within the first words: "Korvet merupakan jenis kapal perang ...", "A corvette is a ...".
_DEFINES = re.compile(r"^.{0,120}?\b(adalah|merupakan|ialah|is|are|was|were)\b", re.IGNORECASE | re.DOTALL)


def asks_for_time(question: str) -> bool:
    """True for 'when' questions: 'Kapan ...', 'Tahun berapa ...', 'When ...', 'What year ...'."""
    return _TIME_QUESTION.search(question) is not None


def mentions_time(text: str) -> bool:
    """True when the text names a year, a month or a century."""
    return _TIME.search(text) is not None


def asks_for_definition(question: str) -> bool:
    """True for 'what is X' questions: 'Apa itu ...', 'Apakah yang dimaksud dengan ...', 'What is a ...?',
    and for 'who is X' asked with a name alone: 'Siapakah Kubilai Khan?'."""
    return _DEFINITION_QUESTION.search(question) is not None or _asks_who_is(question)


def _asks_who_is(question: str) -> bool:
    # "Siapakah pendiri Proton?" asks for a name, not for who a named person is.
    match = _WHO_IS.match(question)
    return match is not None and all(not w[0].isalpha() or w[0].isupper() for w in match.group(2).split())


def defines(text: str) -> bool:
    """True when a copula ('adalah', 'merupakan', 'is') comes early, as in a definition."""
    return _DEFINES.search(text) is not None
