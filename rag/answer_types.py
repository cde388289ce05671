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


def asks_for_time(question: str) -> bool:
    """True for 'when' questions: 'Kapan ...', 'Tahun berapa ...', 'When ...', 'What year ...'."""
    return _TIME_QUESTION.search(question) is not None


def mentions_time(text: str) -> bool:
    """True when the text names a year, a month or a century."""
    return _TIME.search(text) is not None
