"""Finding a model's quote in the indexed text, so that every citation stays an exact span of it.

Exact match first, then the same after normalising (NFC, quote marks, dashes, whitespace), then a fuzzy
alignment (rapidfuzz) above `FUZZY_MIN`. The span returned always indexes the original text.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz

from rag.language.claims import normalize

# The least partial-ratio (0-100) at which a quote counts as found: a model that drops an accent or a
# comma is still citing the passage; one that rewrites a clause is not.
FUZZY_MIN = 90.0
# Quotes shorter than this are not aligned fuzzily: a few characters match somewhere by chance.
FUZZY_MIN_CHARS = 12


@dataclass(frozen=True)
class Located:
    """`text[start:end]` is where the quote was found, and how (exact, normalized or fuzzy)."""

    start: int
    end: int
    how: str


def _normalized_with_offsets(text: str) -> tuple[str, list[int]]:
    """normalize(text) character by character, with each output character's offset in `text`."""
    out: list[str] = []
    offsets: list[int] = []
    pending_space = False
    for index, char in enumerate(text):
        plain = normalize(char) if not char.isspace() else ""
        if not plain:
            pending_space = bool(out)
            continue
        if pending_space:
            out.append(" ")
            offsets.append(index)
            pending_space = False
        for piece in plain:
            out.append(piece)
            offsets.append(index)
    return "".join(out), offsets


def locate(quote: str, text: str) -> Located | None:
    """Where `quote` occurs in `text`, or None."""
    quote = quote.strip().strip("\"'“”")
    if not quote:
        return None
    start = text.find(quote)
    if start >= 0:
        return Located(start, start + len(quote), "exact")
    plain_text, offsets = _normalized_with_offsets(text)
    plain_quote = normalize(quote)
    found = plain_text.casefold().find(plain_quote.casefold())
    if found >= 0 and plain_quote:
        return Located(offsets[found], offsets[found + len(plain_quote) - 1] + 1, "normalized")
    if len(plain_quote) < FUZZY_MIN_CHARS or len(plain_quote) > len(plain_text):
        return None
    alignment = fuzz.partial_ratio_alignment(plain_quote.casefold(), plain_text.casefold())
    if alignment is None or alignment.score < FUZZY_MIN or alignment.dest_end <= alignment.dest_start:
        return None
    return Located(offsets[alignment.dest_start], offsets[alignment.dest_end - 1] + 1, "fuzzy")
