"""Declining honestly: each abstention reason from a real question over a real index, said in the question's
language, and the article's dev set declined where it should be and answered everywhere else."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from rag import RagEngine
from rag.answering.abstention import (
    LOW_CONFIDENCE,
    NAMES_ABSENT,
    NOTHING_RELEVANT,
    REASONS,
    Verdict,
    absent_names,
    decide,
)
from rag.answering.calibration import CompositionParams
from rag.contract import AskResponse
from rag.language.messages import PHRASES
from rag.language.tokens import ENGLISH, INDONESIAN
from rag.reading.documents import Document
from tests.conftest import load_dev_questions

RAG = str(Path(sys.executable).with_name("rag"))


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        # Nothing in the article is about Einstein.
        ("Kapan Einstein lahir?", NOTHING_RELEVANT),
        # About a film and its director, but the passages closest to it never name Oldboy.
        ("Siapa sutradara film Oldboy?", NAMES_ABSENT),
        ("What did Bong Joon-ho say about Ballerina?", NAMES_ABSENT),
        # On topic, names present, but no sentence stands out as the answer.
        ("Berapa durasi film Ballerina?", LOW_CONFIDENCE),
        ("Who was the cinematographer of Ballerina?", LOW_CONFIDENCE),
    ],
)
def test_each_abstention_reason_comes_from_a_real_question(engine: RagEngine, question: str, reason: str) -> None:
    answer = engine.ask(question)
    assert (answer.abstained, answer.abstention_reason, answer.citations) == (True, reason, [])
    assert answer.confidence < 0.5


def test_the_reason_is_said_in_the_questions_language(engine: RagEngine) -> None:
    indonesian = engine.ask("Siapa sutradara film Oldboy?")
    assert indonesian.text.startswith(PHRASES[INDONESIAN].no_answer)
    assert "tidak menyebut oldboy" in indonesian.text
    english = engine.ask("Who was the cinematographer of Ballerina?")
    assert english.text == PHRASES[ENGLISH].declined(LOW_CONFIDENCE)


def test_an_answer_has_no_reason_and_a_confidence_above_one_half(engine: RagEngine) -> None:
    response = AskResponse.of(engine.ask("Siapa sutradara film Ballerina?"))
    assert (response.abstained, response.reason) == (False, None)
    assert 0.5 <= response.confidence <= 1.0
    declined = AskResponse.of(engine.ask("Kapan Einstein lahir?"))
    assert (declined.abstained, declined.reason, declined.confidence) == (True, NOTHING_RELEVANT, 0.0)


# English documents beside the Indonesian article: the English question's words ("plays", "job", "before") occur in
# the collection, but not in the language of the passages that answer it.
ENGLISH_DOCUMENTS = {
    "orchestra.md": (
        "The city orchestra",
        "The city orchestra plays every Sunday in the park. Its conductor chose a programme of Korean and German "
        "music for the winter. Before the concert starts, the players tune for ten minutes.",
    ),
    "harbour.md": (
        "The old harbour",
        "Fishing boats leave the old harbour before dawn. The harbour master records every boat and the job each "
        "crew does. A storm in 1998 destroyed the northern pier.",
    ),
    "club.md": (
        "A football club",
        "The club plays its home games in a stadium built in 1952. Its captain plays as a defender and had a job "
        "as a teacher before he signed.",
    ),
}


def test_a_question_in_another_language_than_its_answer_is_answered_beside_documents_in_its_own(
    fresh_engine: RagEngine,
) -> None:
    """The missing-terms penalty counts the question's words the passages' own language uses: English documents
    in the collection must not make an English question about the Indonesian article look unanswered."""
    fresh_engine.reindex()
    for doc_id, (title, text) in ENGLISH_DOCUMENTS.items():
        fresh_engine.add_document(Document(doc_id, title, text))
    for question in ("Who plays Ok-ju?", "What was Ok-ju's job before the story starts?"):
        answer = fresh_engine.ask(question)
        assert not answer.abstained, (question, answer.abstention_reason, answer.confidence)
        assert answer.citations[0].doc_id == "ballerina_id.txt"
    assert "Jong-seo" in fresh_engine.ask("Who plays Ok-ju?").text
    assert fresh_engine.ask("Berapa durasi film Ballerina?").abstention_reason == LOW_CONFIDENCE


def test_the_dev_set_declines_the_unanswerable_questions_and_answers_the_rest(engine: RagEngine) -> None:
    questions = load_dev_questions()
    answers = {q["question"]: engine.ask(q["question"]) for q in questions}
    declined = [q["question"] for q in questions if not q.get("answerable", True) and answers[q["question"]].abstained]
    falsely = [q["question"] for q in questions if q.get("answerable", True) and answers[q["question"]].abstained]
    assert len(declined) == sum(not q.get("answerable", True) for q in questions) == 4
    assert falsely == []
    assert all(answers[q].abstention_reason in REASONS for q in declined)


def test_names_and_numbers_count_in_any_form_the_passage_writes_them() -> None:
    # Inflected, accented or in the title: present. A name or a year the passage lacks: absent.
    assert absent_names("Kapan Yekaterina I lahir?", "Yelizaveta Petrovna lahir 1709.") == ("yekaterina",)
    assert absent_names("Where is Orléans?", "Orleans lies on the Loire.") == ()
    assert absent_names("Когда родился Пушкин?", "Александр Пушкина родился в 1799 году.") == ()
    assert absent_names("Berapa penonton pada tahun 2019?", "Pada tahun 2023 film ini dirilis.") == ("2019",)
    # Initials and abbreviations' pieces are not names ("U.S." gives "u" and "s").
    assert absent_names("How many people live in the U.S. today?", "The population grew.") == ()


def test_missing_names_raise_the_bar_and_the_confidence_is_one_half_at_it() -> None:
    params = CompositionParams(abstain_threshold=0.04, names_absent_penalty=0.04, confidence_spread=0.03)
    assert decide(on_topic=True, margin=0.06, absent=(), params=params).reason is None
    assert decide(on_topic=True, margin=0.06, absent=("oldboy",), params=params).reason == NAMES_ABSENT
    assert decide(on_topic=True, margin=0.09, absent=("oldboy",), params=params).reason is None
    assert decide(on_topic=True, margin=0.03, absent=(), params=params).reason == LOW_CONFIDENCE
    assert decide(on_topic=False, margin=0.5, absent=(), params=params).reason == NOTHING_RELEVANT
    assert Verdict(0.04, 0.04, None).confidence(0.03) == 0.5
    assert Verdict(0.07, 0.04, None).confidence(0.03) == pytest.approx(0.731, abs=1e-3)
    assert Verdict(0.5, 0.04, NOTHING_RELEVANT).confidence(0.03) == 0.0


@pytest.mark.model
def test_rag_ask_declines_the_duration_question_with_its_reason_in_indonesian(article_index: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if k != "RAG_URL"}, "RAG_INDEX_DIR": str(article_index)}
    result = subprocess.run(
        [RAG, "ask", "Berapa durasi film Ballerina?"], capture_output=True, text=True, env=env, timeout=600, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == PHRASES[INDONESIAN].declined(LOW_CONFIDENCE)
    assert "Tidak ada bagian yang menjawabnya dengan jelas" in result.stdout
    body = subprocess.run(
        [RAG, "ask", "Berapa durasi film Ballerina?", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert json.loads(body.stdout)["reason"] == LOW_CONFIDENCE
