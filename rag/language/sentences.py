"""Sentence boundaries with exact character offsets (Indonesian and English prose)."""

from __future__ import annotations

import re
from functools import lru_cache

from langchain_text_splitters import RecursiveCharacterTextSplitter

# Longest answer unit: longer sentences are cut at clause boundaries so an answer stays short.
MAX_SENTENCE_CHARS = 300
CLAUSE_SEPARATORS = ["; ", ", ", " ", ""]

# A sentence ends at . ! ? or … (possibly repeated, possibly followed by closing quotes or brackets)
# when whitespace and then a letter or digit that is not lower-case follow, perhaps behind a quote or
# bracket: an upper-case letter of any script, a digit, or a letter of a script without case (Arabic,
# Devanagari, Thai). Colons never end one, so "Money Heist: Korea" stays whole; a year in brackets
# "(2020)." ends a sentence like any word. The full stops of Chinese and Japanese (。！？), Devanagari (।)
# and Arabic script (؟ ۔) end one with no space after them.
_END = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?([^\W_]))|[。！？।॥؟۔]+["'”’」』）)\]]*""")
_LINE_BREAK = re.compile(r"\n\s*")
# Words after which a period is not a sentence end.
_ABBREVIATIONS = frozenset(
    [
        "dr",
        "drs",
        "mr",
        "mrs",
        "ms",
        "prof",
        "no",
        "nos",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "cf",
        "fig",
        "st",
        "jl",
        "jln",
        "hlm",
        "tsb",
        "dll",
        "dsb",
        "dkk",
        "sdr",
        "bpk",
        "ir",
        "h",
        "hj",
        "kab",
        "kec",
        "kel",
        "prov",
        "tgl",
        "ca",
        "approx",
        "dept",
        "inc",
        "ltd",
        "co",
        "corp",
        "jr",
        "sr",
        "vol",
        "pp",
        "ed",
        "eds",
        "al",
    ]
)
_LAST_WORD = re.compile(r"([\w.]+)\.$")


def _is_abbreviation(text: str, end: int) -> bool:
    """True when the period ending at `end` belongs to an abbreviation or an initial."""
    match = _LAST_WORD.search(text, max(0, end - 12), end)
    if match is None:
        return False
    word = match.group(1).lower()
    return len(word) == 1 or word in _ABBREVIATIONS


@lru_cache(maxsize=4)
def _clause_splitter(limit: int) -> RecursiveCharacterTextSplitter:
    return RecursiveCharacterTextSplitter(
        chunk_size=limit, chunk_overlap=0, separators=CLAUSE_SEPARATORS, keep_separator="end"
    )


def _cap(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """Cut text[start:end] into pieces of at most `limit` characters at clause, then word, boundaries."""
    if end - start <= limit:
        return [(start, end)]
    pieces: list[tuple[int, int]] = []
    cursor = start
    for piece in _clause_splitter(limit).split_text(text[start:end]):
        found = text.find(piece, cursor, end)
        pieces.append((found, found + len(piece)))
        cursor = found + len(piece)
    return pieces


def split_sentences(
    text: str, start: int = 0, end: int | None = None, *, max_chars: int = MAX_SENTENCE_CHARS
) -> list[tuple[int, int]]:
    """Return (start, end) offsets of the sentences in text[start:end], whitespace trimmed.

    Sentences longer than max_chars are cut at clause boundaries (semicolons, commas, then spaces).
    """
    stop = len(text) if end is None else end
    cuts: list[int] = []
    for match in _END.finditer(text, start, stop):
        following = match.group(1)
        if following is not None and following.islower():
            continue
        if match.group(0).startswith(".") and len(match.group(0)) == 1 and _is_abbreviation(text, match.end()):
            continue
        cuts.append(match.end())
    cuts.extend(m.start() for m in _LINE_BREAK.finditer(text, start, stop))
    spans: list[tuple[int, int]] = []
    previous = start
    for cut in sorted(set(cuts)) + [stop]:
        left, right = previous, cut
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if right > left:
            spans.extend(_cap(text, left, right, max_chars))
        previous = cut
    return spans
