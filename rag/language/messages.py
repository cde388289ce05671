"""The words the service and the CLI say to people, in the language of the question (Indonesian or English)."""

from __future__ import annotations

from dataclasses import dataclass, field

from rag.language.tokens import ENGLISH, INDONESIAN, Tokenizer


@dataclass(frozen=True)
class Phrases:
    """Everything said around an answer, in one language.

    `reasons` says why the documents do not answer, by abstention reason code ("{names}" stands for the names
    the question asks about).
    """

    language: str
    no_answer: str
    sources: str
    characters: str
    page: str
    reasons: dict[str, str] = field(default_factory=dict)

    def declined(self, reason: str, *, names: tuple[str, ...] = ()) -> str:
        """`no_answer` followed by the reason in this language (the reason alone when there is no phrase for it)."""
        phrase = self.reasons.get(reason)
        if phrase is None:
            return f"{self.no_answer} ({reason})"
        return f"{self.no_answer} {phrase.format(names=', '.join(names))}"


PHRASES = {
    ENGLISH: Phrases(
        ENGLISH,
        "The documents don't say.",
        "Sources:",
        "characters",
        "page",
        {
            "nothing_relevant": "Nothing in them is about this question.",
            "names_absent": "The passages closest to the question do not mention {names}.",
            "low_confidence": "No passage answers it clearly: the closest ones are about as near as many others.",
        },
    ),
    INDONESIAN: Phrases(
        INDONESIAN,
        "Dokumen tidak menyebutkannya.",
        "Sumber:",
        "karakter",
        "halaman",
        {
            "nothing_relevant": "Tidak ada bagian dokumen yang membahas pertanyaan ini.",
            "names_absent": "Bagian yang paling dekat dengan pertanyaan ini tidak menyebut {names}.",
            "low_confidence": "Tidak ada bagian yang menjawabnya dengan jelas: yang terdekat pun sama dekatnya "
            "dengan banyak bagian lain.",
        },
    ),
}


def phrases_for(question: str) -> Phrases:
    """The phrases in the question's language, told by its function words; English when it has none."""
    return PHRASES[Tokenizer().language(question, default=ENGLISH, identified=False)]
