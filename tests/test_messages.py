"""The words said around an answer follow the question's language."""

from __future__ import annotations

import pytest

from rag.language.messages import phrases_for


@pytest.mark.parametrize(
    ("question", "no_answer", "sources"),
    [
        ("Siapa produser film Ballerina?", "Dokumen tidak menyebutkannya.", "Sumber:"),
        ("Kapan film ini dirilis di Netflix?", "Dokumen tidak menyebutkannya.", "Sumber:"),
        ("Who produced the film?", "The documents don't say.", "Sources:"),
        ("Ballerina?", "The documents don't say.", "Sources:"),
    ],
)
def test_phrases_follow_the_questions_language(question: str, no_answer: str, sources: str) -> None:
    phrases = phrases_for(question)
    assert (phrases.no_answer, phrases.sources) == (no_answer, sources)
