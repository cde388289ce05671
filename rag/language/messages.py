"""The words the service and the CLI say to people, in the language of the question (Indonesian or English)."""

from __future__ import annotations

from dataclasses import dataclass

from rag.language.tokens import ENGLISH, INDONESIAN, Tokenizer


@dataclass(frozen=True)
class Phrases:
    """Everything said around an answer, in one language."""

    language: str
    no_answer: str
    sources: str
    characters: str
    page: str


PHRASES = {
    ENGLISH: Phrases(ENGLISH, "The documents don't say.", "Sources:", "characters", "page"),
    INDONESIAN: Phrases(INDONESIAN, "Dokumen tidak menyebutkannya.", "Sumber:", "karakter", "halaman"),
}


def phrases_for(question: str) -> Phrases:
    """The phrases in the question's language, told by its function words; English when it has none."""
    return PHRASES[Tokenizer().language(question, default=ENGLISH, identified=False)]
