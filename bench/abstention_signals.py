"""Candidate abstention signals beside the shipping one, on the questions of bench/abstention_sweep.py.

Each signal changes the margin a question's best sentence must clear (or the bar it must clear) and is scored
like the sweep: per language, declined share of the held-out questions / false abstention on the answerable ones
/ AUC of (margin - bar). The signals (none adopted; docs/quality.md says why):

- `prompt: qa|fact|sts`: the question embedded with another of EmbeddingGemma's task prompts ("task: question
  answering", "task: fact checking", "task: sentence similarity") instead of the search prompt, the whole
  composer run on that vector (same retrieved passages).
- `masked names`: delta = cos(question, best sentence) - cos(question without its names, best sentence); the
  names are claims.names, or the two rarest words (collection IDF) when the question has none (a caseless
  script). A sentence that matches as well without the names matches the question's shape, not its subject.
- `answer type`: whether the question asks for a number or a date, read from its vector by a logistic
  regression trained on TyDi Indonesian and English questions after the first 200 (label: a gold answer holds a
  digit); when it does (p > 0.5) and the chosen sentence holds no digit outside citation marks, the bar rises.
- `rare words`: the question's words (4+ letters, not stopwords of its language) found in at most SHARE of the
  chunks count as names: absent from the sentence, its passage and its title, they raise the bar 0.04.

Usage: python bench/abstention_signals.py [--languages id,en,ar,ru,fi] [--questions 200]
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from abstention_sweep import SETS, Asked, ask_all, auc, start  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from rag.answering.abstention import _fold  # noqa: E402
from rag.answering.composer import Composer, Weighed  # noqa: E402
from rag.evaluation.corpus_files import read_jsonl  # noqa: E402
from rag.language import stopwords  # noqa: E402
from rag.language.claims import mentions, names, normalize, words  # noqa: E402
from rag.language.identification import identify, stopwords_for  # noqa: E402
from rag.model.embedding import SentenceTransformerEmbedder  # noqa: E402

PROMPTS = {
    "qa": "task: question answering | query: ",
    "fact": "task: fact checking | query: ",
    "sts": "task: sentence similarity | query: ",
}
RARE_BAR = 0.04
TYPE_BAR = 0.1
DIGIT = re.compile(r"\d")
CITATION_MARK = re.compile(r"\[[^\]]{0,12}\]")


@dataclass
class Signals:
    """What the shipping composer decides on, for one question, plus the candidate signals' raw values."""

    answerable: bool
    margin: float
    on_topic: bool
    absent: tuple[str, ...]
    prompts: dict[str, tuple[float, bool, tuple[str, ...]]]
    delta: float = 0.0
    rare: dict[float, bool] | None = None
    type_mismatch: bool = False


def decision(
    composer: Composer, asked: Asked, held: frozenset[str], vector: np.ndarray | None = None
) -> tuple[Weighed, str]:
    """What the composer decides on, optionally for another question vector, and the best sentence's carried text."""
    query = asked.query if vector is None else replace(asked.query, vector=vector.reshape(1, -1))
    weighed = composer.weigh(query, asked.hits, exclude=held)
    return weighed, composer.carried(weighed.ranked[0]) if weighed.ranked else ""


def without(question: str, dropped: set[str]) -> str:
    """The question with the given words (case-folded) taken out."""
    kept = [w for w in normalize(question).split() if not (set(words(w)) & dropped)]
    return " ".join(kept)


def number_classifier(embedder: SentenceTransformerEmbedder, skip: int) -> LogisticRegression:
    """Whether a question asks for a number or a date, from its vector: trained on the Indonesian and English
    questions after the first `skip` (the ones the sweep asks), labelled by whether a gold answer holds a digit."""
    questions = [q for lang in ("id", "en") for q in read_jsonl(SETS[lang] / "qa_dev.jsonl")[skip:]]
    labels = [any(DIGIT.search(str(alt)) for group in answers_of(q) for alt in group) for q in questions]
    vectors = embedder.embed_queries([str(q["question"]) for q in questions])
    return LogisticRegression(max_iter=2000).fit(vectors, labels)


def answers_of(question: dict[str, object]) -> list[list[str]]:
    answers = question.get("answers", [])
    assert isinstance(answers, list)
    return answers


def gather(
    composer: Composer,
    asked: list[Asked],
    held: frozenset[str],
    embedder: SentenceTransformerEmbedder,
    numbers: LogisticRegression,
) -> list[Signals]:
    lexical = composer.retriever.lexical
    generation = composer.retriever.generation
    texts = [a.query.text for a in asked]
    # The embedder's public methods use the model's own two prompts; the others go through the same encoder.
    prompted = {name: embedder._encode("encode", [prompt + t for t in texts]) for name, prompt in PROMPTS.items()}
    masks, rare_words = [], []
    for text in texts:
        stop = stopwords_for(identify(text)) | stopwords.INDONESIAN | stopwords.ENGLISH
        scored: dict[str, float] = {}
        for word in set(words(text)):
            terms = lexical.query_terms(word)
            if terms and len(word) >= 4 and word not in stop:
                scored[word] = min(lexical.document_frequency(t) for t in terms) / max(lexical.size, 1)
        named = {n for n in names(text) if len(n) >= 3} or set(sorted(scored, key=lambda w: scored[w])[:2])
        masks.append(without(text, named))
        rare_words.append(scored)
    masked = embedder.embed_queries(masks)
    result = []
    for n, a in enumerate(asked):
        weighed, carried = decision(composer, a, held)
        ranked = weighed.ranked
        evidence = Signals(a.answerable, weighed.margin, weighed.on_topic, weighed.absent, {})
        for name, vectors in prompted.items():
            other = decision(composer, a, held, vectors[n])[0]
            evidence.prompts[name] = (other.margin, other.on_topic, other.absent)
        if ranked:
            sentence = generation.sentence_vector(ranked[0].position)
            vector = a.query.vector.reshape(-1)
            evidence.delta = float(sentence @ vector - sentence @ masked[n])
        carried_words = {_fold(w) for w in words(carried)}
        evidence.rare = {
            share: any(not mentions(_fold(w), carried_words) for w, df in rare_words[n].items() if df <= share)
            for share in (0.003, 0.03)
        }
        asks_number = numbers.predict_proba(a.query.vector.reshape(1, -1))[0, 1] > 0.5
        shown = CITATION_MARK.sub("", ranked[0].sentence.text) if ranked else ""
        evidence.type_mismatch = bool(asks_number and not DIGIT.search(shown))
        result.append(evidence)
    return result


Score = Callable[[Signals], tuple[float, float, bool]]  # (margin, bar, on_topic)


def ship(e: Signals) -> tuple[float, float, bool]:
    return e.margin, 0.04 + (0.04 if e.absent else 0.0), e.on_topic


def prompted(name: str) -> Score:
    def score(e: Signals) -> tuple[float, float, bool]:
        margin, on_topic, absent = e.prompts[name]
        return margin, 0.04 + (0.04 if absent else 0.0), on_topic

    return score


def rare(share: float) -> Score:
    def score(e: Signals) -> tuple[float, float, bool]:
        return e.margin, 0.04 + (RARE_BAR if e.absent or (e.rare or {}).get(share) else 0.0), e.on_topic

    return score


def variants() -> dict[str, Score]:
    found: dict[str, Score] = {"shipping": ship}
    found.update({f"prompt: {name}": prompted(name) for name in PROMPTS})
    found["masked names: margin + 0.5 delta"] = lambda e: (e.margin + 0.5 * e.delta, *ship(e)[1:])
    found["masked names: margin + min(delta, 0)"] = lambda e: (e.margin + min(e.delta, 0.0), *ship(e)[1:])
    found[f"answer type: a number asked, none in the sentence +{TYPE_BAR}"] = lambda e: (
        e.margin,
        ship(e)[1] + (TYPE_BAR if e.type_mismatch else 0.0),
        e.on_topic,
    )
    found.update({f"rare words (<= {share:.1%} of chunks) +{RARE_BAR}": rare(share) for share in (0.003, 0.03)})
    return found


def cell(evidence: list[Signals], score: Score) -> str:
    declined: list[bool] = []
    false: list[bool] = []
    pos: list[float] = []
    neg: list[float] = []
    for e in evidence:
        margin, bar, on_topic = score(e)
        out = not on_topic or margin < bar
        (false if e.answerable else declined).append(out)
        (pos if e.answerable else neg).append(margin - bar if on_topic else -9.0)
    return f"{np.mean(declined):.2f} / {np.mean(false):.3f} / {auc(pos, neg):.3f}"


def main() -> None:
    languages, questions, settings, embedder = start()
    numbers = number_classifier(embedder, questions)
    table: dict[str, list[str]] = {name: [] for name in variants()}
    for lang in languages:
        composer, asked, held = ask_all(settings, embedder, lang, questions)
        evidence = gather(composer, asked, held, embedder, numbers)
        for name, score in variants().items():
            table[name].append(cell(evidence, score))
        print(f"{lang}: {len(evidence)} questions", flush=True)
    print("\ndeclined held-out / false abstention / AUC, per language")
    print("| signal | " + " | ".join(languages) + " |")
    print("|---|" + "---|" * len(languages))
    for name, cells in table.items():
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
