import numpy as np

from rag.answering.calibration import CompositionParams
from rag.answering.composer import Candidate, second_joins
from rag.reading.documents import Span
from rag.storage.segments import document_centrality


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_sentence_like_the_rest_of_its_document_is_more_central_than_an_outlier() -> None:
    sentences = [Span("a", 0, 1, "x"), Span("a", 2, 3, "y"), Span("a", 4, 5, "z"), Span("b", 0, 1, "w")]
    vectors = np.stack([_unit(1, 0.1, 0), _unit(1, 0, 0.1), _unit(0, 0, 1), _unit(0, 1, 0)])
    result = document_centrality(sentences, vectors)
    assert result[0] > result[2] and result[1] > result[2]
    # Alone in its document, a sentence has none (the generation gives it the mean: neither favoured nor held back).
    assert np.isnan(result[3])


def _candidate(score: float, chars: int) -> Candidate:
    return Candidate(Span("a", 0, chars, "x" * chars), 0, score, 0.5, 0.1)


def test_a_second_sentence_joins_when_it_scores_close_and_fits() -> None:
    params = CompositionParams(second_sentence_margin=0.1, close_call_margin=0.03, close_call_chars=400)
    assert second_joins(_candidate(0.60, 150), _candidate(0.55, 150), params=params)
    assert not second_joins(_candidate(0.60, 150), _candidate(0.45, 150), params=params)


def test_a_close_call_may_exceed_the_usual_budget_but_not_its_own() -> None:
    params = CompositionParams(second_sentence_margin=0.1, close_call_margin=0.03, close_call_chars=400)
    assert second_joins(_candidate(0.60, 200), _candidate(0.58, 180), params=params)
    assert not second_joins(_candidate(0.60, 200), _candidate(0.55, 180), params=params)
    assert not second_joins(_candidate(0.60, 250), _candidate(0.59, 200), params=params)
