"""Calibrate abstention in every language: answerable questions vs questions whose gold passage is held out.

For each TyDi GoldP language, the first `--questions` questions (200) are asked of the corpus written as `.md`
files and indexed as `rag reindex` would; the gold documents of the first half are excluded from retrieval and
from the background (as if never indexed), so those questions ask about something no document holds (same
topics, same wording, answer absent); the other half stay answerable (those whose gold document was held out
are left out). Everything goes through the shipping Composer (`Composer.with_params` for the variants).

Prints, per language and per variant of the abstention signals: the share of held-out questions declined,
the false abstention on answerable ones, the AUC of the confidence (answerable above held-out) and the answer
accuracy on the answerable ones (answered and holding a gold answer).

Usage: python bench/abstention_sweep.py [--languages id,en,ar,ru,fi] [--questions 200]
(indexes are kept under RAG_EVAL_DIR; the first run embeds about 3,200 passages)
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rag.answering.composer import Answer, Composer
from rag.config import Settings
from rag.evaluation.corpus_files import read_corpus, read_jsonl
from rag.evaluation.metrics import holds
from rag.evaluation.runner import evaluation_engine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.search.retrieval import Hit, Query

EXTERNAL = Path(__file__).resolve().parents[2] / "shared" / "data" / "external"
SETS = {
    "id": EXTERNAL / "tydiqa_goldp_id" / "derived",
    **{lang: EXTERNAL / "tydiqa_goldp_multi" / lang / "derived" for lang in ("en", "ar", "ru", "fi")},
}
# Each variant adds or removes one signal from the shipping composer's constants.
BEFORE: dict[str, Any] = {
    "own_passage_in_background": True,
    "missing_terms_penalty": 0.1,
    "names_absent_penalty": 0.0,
    "abstain_threshold": 0.045,
}
VARIANTS: dict[str, dict[str, Any]] = {
    "before (margin over all sentences, 0.045)": BEFORE,
    "before + names raise the bar 0.04": {**BEFORE, "names_absent_penalty": 0.04},
    "other-passages background (0.04)": {"names_absent_penalty": 0.0, "missing_terms_penalty": 0.1},
    "  + missing terms 0.15": {"names_absent_penalty": 0.0},
    "  + names raise the bar 0.04 (shipping)": {},
    "  shipping, names raise the bar 0.02": {"names_absent_penalty": 0.02},
    "  shipping, names raise the bar 0.07": {"names_absent_penalty": 0.07},
    "  shipping, names decline outright": {"names_absent_penalty": 1.0},
    "  shipping, missing terms 0.2": {"missing_terms_penalty": 0.2},
    "  shipping, threshold 0.035": {"abstain_threshold": 0.035},
    "  shipping, threshold 0.05": {"abstain_threshold": 0.05},
}


@dataclass(frozen=True)
class Asked:
    """One question prepared once: its query, the passages retrieved without the held-out documents, its gold."""

    query: Query
    hits: list[Hit]
    answers: list[list[str]]
    answerable: bool


def ask_all(
    settings: Settings, embedder: SentenceTransformerEmbedder, lang: str, limit: int
) -> tuple[Composer, list[Asked], frozenset[str]]:
    folder = SETS[lang]
    rows = read_corpus(folder / "corpus.jsonl")
    engine, ids, _ = evaluation_engine(settings, embedder, rows, name=f"tydi-{lang}", form="md")
    indexed = {corpus_id: doc_id for doc_id, corpus_id in ids.items()}
    served = engine.in_service()
    retriever = served.retriever
    questions = read_jsonl(folder / "qa_dev.jsonl")[:limit]
    held = frozenset(indexed[str(q["doc_id"])] for q in questions[: limit // 2])
    vectors = embedder.embed_queries([str(q["question"]) for q in questions])
    asked = []
    for n, (q, vector) in enumerate(zip(questions, vectors, strict=True)):
        unanswerable = n < limit // 2
        if not unanswerable and indexed[str(q["doc_id"])] in held:
            continue
        query = retriever.prepare(str(q["question"]), vector)
        answers = q.get("answers", [])
        assert isinstance(answers, list)
        asked.append(Asked(query, retriever.search(query, k=settings.top_k, exclude=held), answers, not unanswerable))
    return served.composer, asked, held


def measure(composer: Composer, asked: list[Asked], held: frozenset[str]) -> dict[str, float]:
    answers: list[tuple[Asked, Answer]] = [(a, composer.compose(a.query, a.hits, exclude=held)) for a in asked]
    kept = [(a, answer) for a, answer in answers if a.answerable]
    withheld = [answer for a, answer in answers if not a.answerable]
    return {
        "declined": float(np.mean([answer.abstained for answer in withheld])),
        "false": float(np.mean([answer.abstained for _, answer in kept])),
        "auc": auc([answer.confidence for _, answer in kept], [answer.confidence for answer in withheld]),
        "accuracy": float(np.mean([not answer.abstained and holds(answer.text, a.answers) for a, answer in kept])),
        "answerable": len(kept),
        **{
            f"reason {reason}": float(np.mean([answer.abstention_reason == reason for answer in withheld]))
            for reason in ("nothing_relevant", "names_absent", "low_confidence")
        },
    }


def auc(positive: list[float], negative: list[float]) -> float:
    """How often an answerable question scores above a held-out one (ties count half)."""
    pos, neg = np.array(positive), np.array(negative)
    return float(np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :]))


def start() -> tuple[list[str], int, Settings, SentenceTransformerEmbedder]:
    """The languages and questions per language asked for, the settings and the model (both benches)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--languages", default=",".join(SETS))
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    settings = Settings()
    return args.languages.split(","), args.questions, settings, SentenceTransformerEmbedder.from_settings(settings)


def main() -> None:
    languages, questions, settings, embedder = start()
    results: dict[str, dict[str, dict[str, float]]] = {}
    for lang in languages:
        composer, asked, held = ask_all(settings, embedder, lang, questions)
        results[lang] = {
            name: measure(composer.with_params(**changes), asked, held) for name, changes in VARIANTS.items()
        }
        shipping = results[lang]["  + names raise the bar 0.04 (shipping)"]
        print(
            f"{lang}: {len(held)} held out, {shipping['answerable']:.0f} answerable; shipping: declined "
            f"{shipping['declined']:.2f}, false abstention {shipping['false']:.3f}, AUC {shipping['auc']:.3f}, "
            f"accuracy {shipping['accuracy']:.3f} (declined as nothing_relevant / names_absent / low_confidence: "
            f"{shipping['reason nothing_relevant']:.2f} / {shipping['reason names_absent']:.2f} / "
            f"{shipping['reason low_confidence']:.2f})",
            flush=True,
        )
    print("\ndeclined held-out / false abstention / AUC / accuracy, per language")
    print(f"| {'variant':42s} | " + " | ".join(f"{lang:^28s}" for lang in languages) + " |")
    print(f"|{'-' * 44}|" + "|".join("-" * 30 for _ in languages) + "|")
    for name in VARIANTS:
        cells = [
            f"{r['declined']:.2f} / {r['false']:.3f} / {r['auc']:.3f} / {r['accuracy']:.3f}"
            for r in (results[lang][name] for lang in languages)
        ]
        print(f"| {name:42s} | " + " | ".join(f"{c:^28s}" for c in cells) + " |")


if __name__ == "__main__":
    main()
