import numpy as np

from rag.language.tokens import ENGLISH, INDONESIAN, LANGUAGES, Tokenizer
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


def test_a_passage_in_another_language_gets_its_own_stems_and_stopwords() -> None:
    tokenizer = Tokenizer()
    russian = "Роман был написан Львом Толстым в шестидесятых годах девятнадцатого века."
    finnish = "Suomi itsenäistyi Venäjästä vuonna 1917 ja sai oman presidentin pian sen jälkeen."
    assert tokenizer.language(russian) == "russian"
    assert tokenizer.language(finnish) == "finnish"
    assert "в" not in tokenizer(russian) and "толст" in tokenizer(russian)
    assert "venäj" in tokenizer(finnish) and "ja" not in tokenizer(finnish)


def test_a_stray_english_or_indonesian_function_word_does_not_decide_a_passages_language() -> None:
    tokenizer = Tokenizer()
    # "on" is Finnish for "is" and an English stopword; "di" an Indonesian one: neither makes these English.
    finnish = "Helsinki on Suomen pääkaupunki ja maan suurin kaupunki, joka sijaitsee Suomenlahden rannalla."
    assert tokenizer.language(finnish) == "finnish"
    assert "pääkaupunk" in tokenizer(finnish)
    # A passage full of English function words stays English, whatever an identifier would say of its names.
    assert tokenizer.language("The Sandouping dam on the Yangtze is in Yiling District of Yichang") == ENGLISH


def test_a_question_leaves_its_collections_language_only_on_two_function_words() -> None:
    index = _lexicon(
        [
            "Helsinki on Suomen pääkaupunki ja maan suurin kaupunki, joka sijaitsee Suomenlahden rannalla.",
            "Turku on Suomen vanhin kaupunki ja Varsinais-Suomen maakunnan keskus lounaisrannikolla.",
        ]
    )
    assert index.language == "finnish"
    assert "pääkaupunk" in index.query_terms("Mikä on Suomen pääkaupunki?")  # one "on": still Finnish
    assert index.query_terms("What is the capital of Finland?") == ["capit", "finland"]


def test_a_title_alone_is_read_in_its_documents_language() -> None:
    tokenizer = Tokenizer()
    title, body = "# Лев Толстой", "Роман был написан Львом Толстым в шестидесятых годах девятнадцатого века."
    postings = Postings.build([title, body], tokenizer, ["russian", "russian"])
    assert [LANGUAGES[n] for n in postings.languages] == ["russian", "russian"]
    assert "толст" in postings.terms and "толстой" not in postings.terms  # stemmed as a Russian question is
    assert [LANGUAGES[n] for n in Postings.build([title], tokenizer).languages] == [INDONESIAN]


def test_coverage_among_passages_counts_only_words_their_language_uses() -> None:
    index = _lexicon(
        [
            "Ok-ju adalah mantan pengawal yang membalas dendam atas kematian sahabatnya.",
            "The city orchestra plays every Sunday in the park and the players tune before it starts.",
        ]
    )
    terms = index.query_terms("Who plays Ok-ju?")
    assert index.coverage(terms) == 1.0  # "play" is in the English passage
    assert index.coverage_among(terms, [0]) < 1.0  # but not in the Indonesian one's language
    assert index.coverage_among(terms, [0, 1]) == 1.0


def test_a_question_in_another_language_is_read_in_its_collections_language() -> None:
    passages = [
        "Роман «Война и мир» был написан Львом Толстым в шестидесятых годах девятнадцатого века.",
        "Москва является столицей России и крупнейшим городом страны по численности населения.",
    ]
    index = _lexicon(passages)
    assert index.language == "russian"
    # An identifier reads this question as Bulgarian: a question is never identified, it takes the collection's.
    terms = index.query_terms("Кто написал роман Война и мир в девятнадцатом веке?")
    assert "толст" not in terms and "написа" in terms
    assert index.scores(terms)[0].tolist() == [0]


def test_stored_language_numbers_keep_their_meaning() -> None:
    assert LANGUAGES[:2] == (INDONESIAN, ENGLISH)  # segments written before other languages hold 0 and 1
    assert len(set(LANGUAGES)) == len(LANGUAGES) < 128  # stored as int8
