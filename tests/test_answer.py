import numpy as np

from rag.answer import centrality
from rag.documents import Span


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_a_sentence_like_the_rest_of_its_document_is_more_central_than_an_outlier() -> None:
    sentences = [Span("a", 0, 1, "x"), Span("a", 2, 3, "y"), Span("a", 4, 5, "z"), Span("b", 0, 1, "w")]
    vectors = np.stack([_unit(1, 0.1, 0), _unit(1, 0, 0.1), _unit(0, 0, 1), _unit(0, 1, 0)])
    result = centrality(sentences, vectors)
    assert result[0] > result[2] and result[1] > result[2]
    # Alone in its document, a sentence gets the mean of the others: neither favoured nor held back.
    assert result[3] == np.float32(result[:3].mean())
