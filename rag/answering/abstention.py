"""Whether the evidence found answers the question, how sure that is, and when it does not, why.

Three reasons to decline, each a code in the answer (`Answer.abstention_reason`, `AskResponse.reason`):
`nothing_relevant` (no sentence is about the question), `names_absent` (the names and numbers the question
asks about are missing from the chosen sentence, its passage and its document's title, and the sentence does
not stand out enough to outweigh that) and `low_confidence` (the chosen sentence does not stand out from the
rest of the documents). bench/abstention_sweep.py measures them per language.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from rag.answering.calibration import CompositionParams
from rag.language.claims import mentions, names, numbers, words

NOTHING_RELEVANT = "nothing_relevant"
NAMES_ABSENT = "names_absent"
LOW_CONFIDENCE = "low_confidence"
REASONS = (NOTHING_RELEVANT, NAMES_ABSENT, LOW_CONFIDENCE)
# Names of two letters or fewer are initials and abbreviations' pieces ("U.S." gives "u" and "s").
_SHORTEST_NAME = 3


@dataclass(frozen=True)
class Verdict:
    """How far the best sentence stands out (`margin`), the margin it needed (`bar`), and why it is declined."""

    margin: float
    bar: float
    reason: str | None
    absent: tuple[str, ...] = ()

    @property
    def abstained(self) -> bool:
        return self.reason is not None

    def confidence(self, spread: float) -> float:
        """0.5 at the bar, rising towards 1 as the margin clears it (0.73 at `spread` above it), 0 when declined
        for having nothing relevant."""
        if self.reason == NOTHING_RELEVANT:
            return 0.0
        return 1.0 / (1.0 + math.exp(-(self.margin - self.bar) / spread))


def _fold(word: str) -> str:
    """Without accents, so "Orléans" is found in "Orleans" and "ё" in "е"."""
    return "".join(ch for ch in unicodedata.normalize("NFKD", word) if not unicodedata.combining(ch))


def absent_names(question: str, carried: str) -> tuple[str, ...]:
    """The names and numbers of the question that the text `carried` does not contain (inflected forms count).

    Names are capitalised words (claims.names), so a caseless script (Arabic) has none and only numbers count.
    """
    text_words = {_fold(w) for w in words(carried)}
    asked = sorted({_fold(n) for n in names(question) if len(n) >= _SHORTEST_NAME})
    missing = [n for n in asked if not mentions(n, text_words)]
    return (*missing, *sorted(numbers(question) - numbers(carried)))


def decide(*, on_topic: bool, margin: float, absent: tuple[str, ...], params: CompositionParams) -> Verdict:
    """Answer or decline: a chosen sentence lacking what the question names must stand out further."""
    bar = params.abstain_threshold + (params.names_absent_penalty if absent else 0.0)
    if not on_topic:
        return Verdict(margin, bar, NOTHING_RELEVANT, absent)
    if margin >= bar:
        return Verdict(margin, bar, None, absent)
    return Verdict(margin, bar, NAMES_ABSENT if absent else LOW_CONFIDENCE, absent)
