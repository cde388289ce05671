"""Checking that a generated sentence says what the span it cites says.

Hard rules first, because topical similarity looks like support: every number (months included) and every
name in the sentence must appear in the span or its document's title, and negation must agree with the part
of the span the sentence states (disagreeing negation is a contradiction, not merely missing support). Then
the sentence must agree in meaning with the span, the model's quote or one of the span's clauses: the
cosine of their vectors under the index's own embedding model at least `SUPPORT_MIN` (bench/verifier.py).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from rag.language.claims import mentions, names, negated, numbers, words
from rag.model.embedding import Embedder, Vectors

# The least cosine (document vectors of the sentence and its best-agreeing part of the span) at which a sentence
# that passes the hard rules counts as supported. bench/verifier.py over 1,129 labelled pairs (TyDi Indonesian and
# English, 60 passages each, and the dev article): at 0.60 unsupported pairs rejected 0.963 (en) / 0.965 (id),
# supported kept 0.952 / 0.931; at 0.65 rejected 0.975 / 0.975, kept 0.922 / 0.913; at 0.70 kept 0.86 / 0.88.
SUPPORT_MIN = 0.65


_CLAUSE = re.compile(r"[,;:()\u2013\u2014]")
# A quote or clause shorter than this does not count on its own in the semantic check (a bare name agrees with much).
MIN_QUOTE_CHARS = 15


@dataclass(frozen=True)
class Claim:
    """A generated sentence, the exact text it cites (with its document's title) and the model's own quote in it.

    A sentence may state one part of a long span: it is compared with the quote as well as the whole span.
    """

    sentence: str
    span: str
    title: str
    quote: str = ""


@dataclass(frozen=True)
class Verdict:
    """Whether the span supports the sentence; `reason` says why not; `contradicts` when it says the opposite."""

    supported: bool
    reason: str = ""
    contradicts: bool = False
    similarity: float = 0.0
    by_rule: bool = False  # rejected by a hard rule (numbers, names, negation), whatever the similarity


def rule_verdict(claim: Claim) -> Verdict | None:
    """The hard rules' verdict when one fails, else None."""
    evidence = f"{claim.title} {claim.span}"
    missing_numbers = sorted(numbers(claim.sentence) - numbers(evidence))
    if missing_numbers:
        return Verdict(False, f"states {', '.join(missing_numbers)}, which the cited passage does not")
    evidence_words = set(words(evidence))
    missing_names = sorted(n for n in names(claim.sentence) if not mentions(n, evidence_words))
    if missing_names:
        return Verdict(False, f"names {', '.join(missing_names)}, which the cited passage does not")
    return None


class Verifier:
    """Judges claims with the hard rules, then by meaning with the given embedder."""

    def __init__(self, embedder: Embedder, *, support_min: float = SUPPORT_MIN) -> None:
        self._embedder = embedder
        self.support_min = support_min

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Document vectors of `texts` (one batch)."""
        if not texts:
            return np.zeros((0, self._embedder.dimension), np.float32)
        return self._embedder.embed_documents(list(texts))

    def check(self, claims: Sequence[Claim]) -> list[Verdict]:
        """One verdict per claim; the semantic check embeds every sentence and span part in one batch."""
        parts = [_parts(c) for c in claims]
        texts = [c.sentence for c in claims] + [part for group in parts for part in group]
        vectors = self.embed(texts)
        verdicts = []
        at = len(claims)
        for i, claim in enumerate(claims):
            agreements = vectors[at : at + len(parts[i])] @ vectors[i]
            # Negation is compared with the part the sentence states (the best-agreeing one): a span may
            # negate something in another clause.
            closest = parts[i][int(np.argmax(agreements))]
            similarity = float(np.max(agreements))
            at += len(parts[i])
            failed = rule_verdict(claim)
            if failed is not None:
                verdicts.append(Verdict(False, failed.reason, False, similarity, by_rule=True))
            elif negated(claim.sentence) != negated(closest):
                reason = "negation disagrees with the cited passage"
                verdicts.append(Verdict(False, reason, True, similarity, by_rule=True))
            elif similarity < self.support_min:
                reason = f"the cited passage does not say this (agreement {similarity:.2f})"
                verdicts.append(Verdict(False, reason, False, similarity))
            else:
                verdicts.append(Verdict(True, "", False, similarity))
        return verdicts


def _parts(claim: Claim) -> list[str]:
    """What the sentence may state: the whole span, the model's quote, and each clause of the span."""
    clauses = [c.strip() for c in _CLAUSE.split(claim.span)]
    found = [claim.span, claim.quote, *clauses]
    return list(dict.fromkeys(p for p in found if len(p) >= MIN_QUOTE_CHARS)) or [claim.span]
