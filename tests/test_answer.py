import numpy as np

from rag.documents import Span
from rag.segments import document_centrality


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
