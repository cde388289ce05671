"""Generated answers against a scripted OpenAI-compatible server: every fault case gives its exact outcome."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import Answer, RagEngine
from rag.answering.generative import generative_composer
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from service.app import create_app
from tests.conftest import make_settings
from tests.fake_generator import (
    QUOTE,
    Asked,
    FakeGenerator,
    Reply,
    cites,
    fake_generator,
    number_of,
    reply_json,
    sentences,
)
from tests.servers import free_port

QUESTION = "Who plays Ok-ju?"
OTHER_QUOTE = "di sutradarai oleh Lee Chung-hyun"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeGenerator]:
    with fake_generator() as server:
        yield server


def _engine(article_index: Path, embedder: SentenceTransformerEmbedder, url: str, **overrides: object) -> RagEngine:
    settings = make_settings(article_index, generator_url=url, generator_timeout=2.0, **overrides)
    return RagEngine(
        settings,
        embedder=embedder,
        store=IndexStore(article_index),
        generative=generative_composer(settings, embedder),
    )


@pytest.fixture
def generating(fake: FakeGenerator, article_index: Path, embedder: SentenceTransformerEmbedder) -> RagEngine:
    fake.requests.clear()
    return _engine(article_index, embedder, fake.url)


def assert_exact(engine: RagEngine, answer: Answer) -> None:
    for c in answer.citations:
        assert engine.document_text(c.doc_id).text[c.start : c.end] == c.quote


def test_a_supported_sentence_becomes_the_answer(generating: RagEngine, fake: FakeGenerator) -> None:
    fake.script = sentences(cites("Ok-ju is played by Jun Jong-seo."))
    answer = generating.ask(QUESTION)
    assert answer.mode == "generated", answer.fallback_reason
    assert answer.text == "Ok-ju is played by Jun Jong-seo. [1]"
    (citation,) = answer.citations
    assert QUOTE in citation.quote
    assert answer.dropped == [] and answer.fallback_reason is None and answer.outcome == "generated"
    assert_exact(generating, answer)
    assert fake.requests[-1].form == "json_schema"
    assert fake.requests[-1].question == QUESTION


# Each case: the script, the outcome, and a word the reason must hold.
FAULTS: dict[str, tuple[Callable[[Asked], Reply], str, str]] = {
    "invented passage number": (
        lambda asked: Reply(reply_json(("Ok-ju is played by Jun Jong-seo.", 9, QUOTE))),
        "unsupported",
        "passage [9]",
    ),
    "invented number": (sentences(cites("Ok-ju is played by Jun Jong-seo, aged 27.")), "unsupported", "27"),
    "invented name": (sentences(cites("Ok-ju is played by Kim Tae-ri.")), "unsupported", "kim"),
    "negated fact": (sentences(cites("Ok-ju is not played by Jun Jong-seo.")), "contradiction", "negation"),
    "quote from another passage": (
        lambda asked: Reply(
            reply_json(
                (
                    "Ok-ju is played by Jun Jong-seo.",
                    next(n for n, text in asked.passages.items() if QUOTE not in text),
                    QUOTE,
                )
            )
        ),
        "unsupported",
        "misattributed",
    ),
    "fabricated quote": (
        sentences(cites("Jun Jong-seo won an Oscar for Ok-ju.", "Jun Jong-seo memenangkan Oscar untuk peran Ok-ju")),
        "unsupported",
        "fabricated",
    ),
    "malformed JSON": (lambda asked: Reply('{"sentences": [{"text": "Ok-ju'), "invalid_output", "JSON"),
    "timeout": (lambda asked: Reply(reply_json(), delay=5.0), "timeout", "in time"),
    "server error": (lambda asked: Reply(status=500), "server_error", "500"),
    "rate limited": (lambda asked: Reply(status=429), "rate_limited", "429"),
    "declines": (lambda asked: Reply('{"sentences": []}'), "declined", "no answer"),
}


@pytest.mark.parametrize("case", sorted(FAULTS))
def test_each_fault_gives_the_extractive_answer_with_its_reason(
    case: str, generating: RagEngine, fake: FakeGenerator, engine: RagEngine
) -> None:
    script, outcome, reason = FAULTS[case]
    fake.script = script
    answer = generating.ask(QUESTION)
    extractive = engine.ask(QUESTION)
    assert answer.mode == "extractive"
    assert answer.outcome == outcome
    assert answer.fallback_reason is not None and reason.casefold() in answer.fallback_reason.casefold() + " ".join(
        d.reason.casefold() for d in answer.dropped
    )
    assert (answer.text, answer.citations) == (extractive.text, extractive.citations)
    assert_exact(generating, answer)


def test_a_true_sentence_that_does_not_answer_falls_back(generating: RagEngine, fake: FakeGenerator) -> None:
    """Supported by its quote, and beside the question: the issue's 'The answer is: [3] Film ini tayang di Netflix'."""

    def off_topic(asked: Asked) -> Reply:
        n, sentence = next(
            (n, sentence.strip())
            for n, text in asked.passages.items()
            for sentence in re.split(r"(?<=\.)\s+", text)
            if len(sentence) > 40 and "Ok-ju" not in sentence and "Jong-seo" not in sentence
        )
        return Reply(reply_json((sentence, n, sentence)))

    fake.script = off_topic
    answer = generating.ask(QUESTION)
    assert (answer.mode, answer.outcome) == ("extractive", "irrelevant"), answer.fallback_reason
    assert_exact(generating, answer)


def test_an_unsupported_sentence_is_dropped_and_the_rest_kept(generating: RagEngine, fake: FakeGenerator) -> None:
    fake.script = sentences(
        cites("Ok-ju is played by Jun Jong-seo."),
        cites("Jun Jong-seo won an Oscar.", "Jun Jong-seo memenangkan Oscar"),
    )
    answer = generating.ask(QUESTION)
    assert answer.mode == "generated"
    assert answer.text == "Ok-ju is played by Jun Jong-seo. [1]"
    (dropped,) = answer.dropped
    assert dropped.sentence == "Jun Jong-seo won an Oscar." and "fabricated" in dropped.reason
    assert_exact(generating, answer)


def test_a_server_without_structured_output_is_read_as_marked_text(generating: RagEngine, fake: FakeGenerator) -> None:
    def plain_only(asked: Asked) -> Reply:
        if asked.form != "text":
            return Reply(status=422)
        return Reply(f"Ok-ju is played by Jun Jong-seo [{number_of(asked, QUOTE)}].")

    fake.script = plain_only
    answer = generating.ask(QUESTION)
    assert answer.mode == "generated", answer.fallback_reason
    assert [r.form for r in fake.requests] == ["json_schema", "json_object", "text"]
    assert "Jun Jong-seo" in answer.citations[0].quote
    assert_exact(generating, answer)
    generating.ask(QUESTION)  # the form that worked is remembered
    assert [r.form for r in fake.requests][3:] == ["text"]


def test_an_unreachable_generator_falls_back(article_index: Path, embedder: SentenceTransformerEmbedder) -> None:
    engine = _engine(article_index, embedder, f"http://127.0.0.1:{free_port()}/v1")
    answer = engine.ask(QUESTION)
    assert (answer.mode, answer.outcome) == ("extractive", "unreachable")


def test_an_abstention_is_not_sent_to_the_generator(generating: RagEngine, fake: FakeGenerator) -> None:
    answer = generating.ask("Berapa durasi film Ballerina?")
    assert answer.abstained and answer.outcome == "abstained"
    assert fake.requests == []


def test_no_generate_gives_source_sentences(generating: RagEngine, fake: FakeGenerator, engine: RagEngine) -> None:
    answer = generating.ask(QUESTION, generate=False)
    assert answer == engine.ask(QUESTION)
    assert fake.requests == []


def test_over_http_the_outcome_is_reported_and_counted(
    generating: RagEngine, fake: FakeGenerator, article_index: Path
) -> None:
    client = TestClient(create_app(generating.settings, engine=generating))
    fake.script = sentences(cites("Ok-ju is played by Jun Jong-seo."))
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert body["mode"] == "generated" and body["dropped"] == [] and body["fallback_reason"] is None
    fake.script = lambda asked: Reply(status=500)
    body = client.post("/ask", json={"question": QUESTION}).json()
    assert body["mode"] == "extractive" and "500" in body["fallback_reason"]
    assert client.post("/ask", json={"question": QUESTION, "generate": False}).json()["fallback_reason"] is None
    metrics = client.get("/metrics").text
    assert 'rag_generations_total{outcome="generated"} 1.0' in metrics
    assert 'rag_generations_total{outcome="server_error"} 1.0' in metrics


def test_generate_without_a_generator_says_so(engine: RagEngine) -> None:
    client = TestClient(create_app(engine.settings, engine=engine))
    body = client.post("/ask", json={"question": QUESTION, "generate": True}).json()
    assert body["mode"] == "extractive" and "RAG_GENERATOR_URL" in body["fallback_reason"]
    assert body["answer"] == engine.ask(QUESTION).text
