"""Evaluation metrics: answer matching for QA sets and ranking metrics for BEIR sets."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np


def holds(text: str, groups: Sequence[Sequence[str]]) -> bool:
    """True when every answer group has an alternative occurring in text (case-insensitive)."""
    if not groups:
        return False
    lowered = text.lower()
    return all(any(alt.lower() in lowered for alt in group) for group in groups)


def first_rank(passages: Sequence[str], groups: Sequence[Sequence[str]]) -> int | None:
    """1-based rank of the first passage holding the answer, or None."""
    return next((rank for rank, text in enumerate(passages, start=1) if holds(text, groups)), None)


def reciprocal_rank(rank: int | None, *, cutoff: int | None = None) -> float:
    if rank is None or (cutoff is not None and rank > cutoff):
        return 0.0
    return 1.0 / rank


def ndcg_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    """nDCG@k with graded relevance (BEIR / trec_eval convention: gain = relevance)."""
    gains = [relevant.get(doc, 0) for doc in ranked[:k]]
    dcg = sum(g / math.log2(i + 2) for i, g in enumerate(gains))
    ideal = sorted(relevant.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    wanted = {doc for doc, grade in relevant.items() if grade > 0}
    return len(wanted & set(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at(ranked: Sequence[str], relevant: Mapping[str, int], k: int) -> float:
    for rank, doc in enumerate(ranked[:k], start=1):
        if relevant.get(doc, 0) > 0:
            return 1.0 / rank
    return 0.0


def percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q)) if values else 0.0
