"""Metric functions on small hand-made cases, each with a case it must fail."""

import pytest

from rag.evaluation.metrics import first_rank, holds, mrr_at, ndcg_at, percentile, recall_at, reciprocal_rank


def test_holds_needs_every_group() -> None:
    groups = [["persahabatan"], ["balas dendam", "revenge"]]
    assert holds("Tema Persahabatan dan Balas Dendam.", groups)
    assert not holds("Tema persahabatan saja.", groups)
    assert not holds("anything", [])


def test_first_rank_and_reciprocal_rank() -> None:
    passages = ["tidak ada", "Lee Chung-hyun menyutradarai", "Lee Chung-hyun lagi"]
    assert first_rank(passages, [["lee chung-hyun"]]) == 2
    assert first_rank(passages, [["Netflix"]]) is None
    assert reciprocal_rank(2) == 0.5
    assert reciprocal_rank(None) == 0.0
    assert reciprocal_rank(11, cutoff=10) == 0.0


def test_ndcg_is_one_for_the_ideal_order_and_lower_otherwise() -> None:
    relevant = {"a": 2, "b": 1}
    assert ndcg_at(["a", "b", "x"], relevant, 10) == pytest.approx(1.0)
    assert ndcg_at(["b", "a", "x"], relevant, 10) < 1.0
    assert ndcg_at(["x", "y"], relevant, 10) == 0.0
    # (1/log2(3)) / (1 + 1/log2(3)) for a single relevant doc at rank 2 of two equally relevant docs
    assert ndcg_at(["x", "a"], {"a": 1, "b": 1}, 10) == pytest.approx(0.6309 / 1.6309, abs=1e-4)


def test_recall_and_mrr_respect_the_cutoff() -> None:
    relevant = {"a": 1, "b": 1}
    assert recall_at(["a", "x", "b"], relevant, 2) == 0.5
    assert recall_at(["a", "x", "b"], relevant, 3) == 1.0
    assert mrr_at(["x", "a"], relevant, 10) == 0.5
    assert mrr_at(["x", "y", "a"], relevant, 2) == 0.0


def test_percentile() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == 2.5
    assert percentile([], 95) == 0.0
