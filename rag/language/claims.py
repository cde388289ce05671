"""What a sentence claims that can be checked word for word: its numbers, dates, names and negation.

Used to verify a generated sentence against the passage it cites, in any pair of languages: numbers and
names are written alike across languages, month names are mapped to their number, and negation words of
every language known here count alike. A language without rules still gets numbers and names.
"""

from __future__ import annotations

import re
import unicodedata

from rag.language.stopwords import ENGLISH, INDONESIAN

# Month names (and common abbreviations) to their number, so "6 October 2023" matches "6 Oktober 2023".
_MONTH_NAMES = {
    1: ("januari", "january", "jan"),
    2: ("februari", "february", "feb", "pebruari"),
    3: ("maret", "march", "mar"),
    4: ("april", "apr"),
    5: ("mei", "may"),
    6: ("juni", "june", "jun"),
    7: ("juli", "july", "jul"),
    8: ("agustus", "august", "aug", "agu"),
    9: ("september", "sept", "sep"),
    10: ("oktober", "october", "oct", "okt"),
    11: ("november", "nov", "nopember"),
    12: ("desember", "december", "dec", "des"),
}
MONTHS = {name: number for number, names in _MONTH_NAMES.items() for name in names}
NEGATIONS = frozenset(
    {"tidak", "tak", "bukan", "belum", "tanpa", "jangan", "not", "no", "never", "without", "neither", "nor", "none"}
    | {"nicht", "kein", "keine", "nie", "ne", "pas", "jamais", "sans", "no", "nunca", "sin", "не", "нет", "ни", "ei"}
)
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_WORD = re.compile(r"[^\W\d_][\w'’\-]*")
_FUNCTION_WORDS = INDONESIAN | ENGLISH


def normalize(text: str) -> str:
    """NFC, curly quotes and dashes made plain, whitespace collapsed (for comparing quotes and claims)."""
    text = unicodedata.normalize("NFC", text)
    text = text.translate(_PLAIN)
    return " ".join(text.split())


_PLAIN = str.maketrans(
    {
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‛": "'",
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "–": "-",
        "—": "-",
        "‑": "-",
        "\u00a0": " ",
    }
)


def numbers(text: str) -> set[str]:
    """The numbers a text states, digits only ("1,200" and "1.200" are both "1200"), months as numbers."""
    found = {re.sub(r"[.,]", "", match) for match in _NUMBER.findall(text)}
    found |= {str(MONTHS[w]) for w in words(text) if w in MONTHS and len(w) > 3}
    return found


def words(text: str) -> list[str]:
    """The text's words, case-folded."""
    return [match.group().rstrip("'’-").casefold() for match in _WORD.finditer(normalize(text))]


def names(text: str) -> set[str]:
    """Capitalised words that are not the first of a sentence, not function words and not months.

    A caseless script yields none: its names are left to the semantic check.
    """
    found = set()
    for sentence in re.split(r"(?<=[.!?])\s+", normalize(text)):
        for index, match in enumerate(_WORD.finditer(sentence)):
            word = match.group().rstrip("'’-")
            folded = word.casefold()
            if index == 0 or not word[0].isupper() or folded in _FUNCTION_WORDS or folded in MONTHS:
                continue
            found.add(folded)
    return found


def negated(text: str) -> bool:
    """Whether the text says something is not so (an odd number of negation words)."""
    folded = normalize(text).casefold()
    count = sum(w in NEGATIONS for w in words(text)) + folded.count("n't")
    return count % 2 == 1


def mentions(name: str, text_words: set[str]) -> bool:
    """Whether a name appears among a text's words, allowing inflection ("Korean" in "Korea", "Jun's")."""
    if name in text_words:
        return True
    stem = name[:5]
    return len(name) >= 4 and any(w.startswith(stem) or (len(w) >= 4 and name.startswith(w)) for w in text_words)
