"""End to end through the engine with the real model and a real FAISS index."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from rag import Answer, IndexNotFoundError, InvalidInputError, RagEngine, Settings
from rag.model.embedding import SentenceTransformerEmbedder
from rag.reading.documents import default_corpus

ARTICLE = default_corpus()[0].text


def _assert_citations_match_source(answer: Answer) -> None:
    assert answer.citations
    for citation in answer.citations:
        assert ARTICLE[citation.start : citation.end] == citation.quote
        assert f"[{citation.n}]" in answer.text


def test_indonesian_question_gets_the_director_with_exact_citations(engine: RagEngine) -> None:
    answer = engine.ask("Siapa sutradara film Ballerina?")
    assert not answer.abstained
    assert "Lee Chung-hyun" in answer.text
    _assert_citations_match_source(answer)


def test_english_question_over_indonesian_text_is_answered(engine: RagEngine) -> None:
    answer = engine.ask("Who plays Ok-ju?")
    assert not answer.abstained
    assert "Jeon Jong-seo" in answer.text or "Jun Jong-seo" in answer.text
    _assert_citations_match_source(answer)


@pytest.mark.parametrize(
    ("question", "says"),
    [
        ("Berapa durasi film Ballerina?", "Dokumen tidak menyebutkannya."),
        ("What is the capital of France?", "The documents don't say."),
        ("Dari suku mana Tari Saman berasal?", "Dokumen tidak menyebutkannya."),
    ],
)
def test_unanswerable_questions_abstain_without_citations_in_the_questions_language(
    engine: RagEngine, question: str, says: str
) -> None:
    answer = engine.ask(question)
    assert answer.abstained
    assert answer.citations == []
    assert answer.text.startswith(says)


def test_answers_stay_short(engine: RagEngine) -> None:
    answer = engine.ask("Apa pesan film ini tentang perempuan?")
    assert len(answer.text) < 400


@pytest.mark.parametrize("question", ["", "   \n", "x" * 1001])
def test_bad_questions_are_refused(engine: RagEngine, question: str) -> None:
    with pytest.raises(InvalidInputError):
        engine.ask(question)


def test_top_k_out_of_range_is_refused(engine: RagEngine) -> None:
    with pytest.raises(InvalidInputError, match="top_k"):
        engine.search("Ok-ju", top_k=0)


def test_search_ranks_the_passage_naming_the_singer_first(engine: RagEngine) -> None:
    hits = engine.search("BIBI soundtrack", top_k=3).hits
    assert "BIBI" in hits[0].chunk.text
    assert hits[0].score >= hits[1].score >= hits[2].score


def test_reindex_without_changes_embeds_nothing(engine: RagEngine) -> None:
    before = engine.in_service().generation.name
    report = engine.reindex()
    assert report.unchanged == ["ballerina_id.txt"]
    assert report.texts_embedded == 0
    assert engine.in_service().generation.name == before


def test_asking_before_any_index_says_to_reindex(fresh_engine: RagEngine) -> None:
    with pytest.raises(IndexNotFoundError, match="rag reindex"):
        fresh_engine.ask("Siapa sutradara?")
    assert not fresh_engine.health().ready


def test_indexing_a_folder_answers_from_the_new_file(fresh_engine: RagEngine, tmp_path: Path) -> None:
    folder = tmp_path / "docs"
    folder.mkdir()
    text = "# Kebun Raya\n\nKebun Raya Bogor didirikan pada tahun 1817 oleh Caspar Reinwardt.\n"
    (folder / "kebun.md").write_text(text, encoding="utf-8")
    report = fresh_engine.reindex([folder])
    assert report.added == ["docs/kebun.md"]
    answer = fresh_engine.ask("Who founded the Bogor Botanical Garden?")
    assert "Reinwardt" in answer.text
    citation = answer.citations[0]
    assert citation.doc_id == "docs/kebun.md" and citation.title == "Kebun Raya"
    assert text[citation.start : citation.end] == citation.quote


def test_the_bundled_article_is_indexed_exactly_as_its_file(
    engine: RagEngine, fresh_engine: RagEngine, tmp_path: Path
) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "ballerina_id.txt").write_text(ARTICLE, encoding="utf-8")
    fresh_engine.reindex([folder])
    bundled, copied = engine.in_service().generation, fresh_engine.in_service().generation
    assert [(d.document.title, d.document.hash) for d in bundled.documents()] == [
        (d.document.title, d.document.hash) for d in copied.documents()
    ]
    (a_part,), (b_part,) = bundled.parts, copied.parts
    assert [(c.start, c.end) for c in a_part.segment.chunks] == [(c.start, c.end) for c in b_part.segment.chunks]
    assert np.allclose(a_part.segment.sentence_vectors, b_part.segment.sentence_vectors, atol=1e-5)
    for question in ("Siapa sutradara film Ballerina?", "Who plays Ok-ju?", "Siapa produser film Ballerina?"):
        a, b = engine.ask(question), fresh_engine.ask(question)
        assert (a.text, a.abstained) == (b.text, b.abstained)
        assert a.confidence == pytest.approx(b.confidence, abs=1e-3)


@pytest.mark.model
def test_the_torch_model_runs_on_one_thread_whichever_thread_asks() -> None:
    # torch's OpenMP pool belongs to the calling thread: a server asking from its worker threads after a
    # warm-up on the main thread ran every question with two pools on two cores (25% slower).
    embedder = SentenceTransformerEmbedder.from_settings(Settings(), backend="torch-bf16")
    ran_on: list[str] = []
    model = embedder._load()
    assert isinstance(model, SentenceTransformer)
    transformer = model[0]
    hook = transformer.register_forward_pre_hook(lambda *_: ran_on.append(threading.current_thread().name))
    try:
        embedder.embed_queries(["from the main thread"])
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(lambda text: embedder.embed_documents([text]), ["from one worker", "from another"]))
    finally:
        hook.remove()
    assert len(ran_on) == 3
    assert len(set(ran_on)) == 1
    assert ran_on[0] != threading.current_thread().name
