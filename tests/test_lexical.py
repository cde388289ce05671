import numpy as np

from rag.language.tokens import ENGLISH, INDONESIAN, Tokenizer
from rag.search.lexical import Lexicon
from rag.storage.postings import LexicalPart, Postings


def _lexicon(passages: list[str]) -> Lexicon:
    """A lexicon over one segment holding `passages`, all live."""
    tokenizer = Tokenizer()
    postings = Postings.build(passages, tokenizer)
    return Lexicon([LexicalPart(postings, np.ones(len(passages), dtype=bool), 0)], tokenizer)


def test_the_language_is_the_one_whose_function_words_the_text_uses() -> None:
    tokenizer = Tokenizer()
    assert tokenizer.language("siapa yang menyutradarai film ini") == INDONESIAN
    assert tokenizer.language("who directed the film") == ENGLISH
    assert tokenizer.language("biomaterials show inductive properties", ENGLISH) == ENGLISH
    assert tokenizer.language("biomaterials show inductive properties") == INDONESIAN


def test_each_language_is_stemmed_with_its_own_stemmer() -> None:
    tokenizer = Tokenizer()
    assert tokenizer("Siapa yang menyutradarai film itu?") == ["sutradara", "film"]
    assert tokenizer("The infections were treated with the antibiotics") == ["infect", "treat", "antibiot"]


def test_a_query_without_function_words_is_read_in_the_corpus_language() -> None:
    passages = [
        "The infections of the lung were treated with antibiotics in the trial.",
        "A review of the costs of the hospital and the length of the stay.",
    ]
    index = _lexicon(passages)
    assert index.language == ENGLISH
    terms = index.query_terms("Antibiotics treat lung infections")
    assert terms == ["antibiot", "treat", "lung", "infect"]
    positions, scores = index.scores(terms)
    assert positions.tolist() == [0] and scores[0] > 0


def test_coverage_weighs_the_query_terms_the_corpus_has() -> None:
    index = _lexicon(["Ok-ju adalah mantan pengawal.", "Film ini dirilis di Netflix."])
    assert index.coverage(index.query_terms("Netflix")) == 1.0
    assert index.coverage(index.query_terms("Tari Saman dari Aceh")) == 0.0
    assert 0.0 < index.coverage(index.query_terms("Netflix di Aceh")) < 1.0
