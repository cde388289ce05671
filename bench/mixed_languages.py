"""The article among documents in other languages: are its dev questions still answered, and declined where due?

The bundled Indonesian article is indexed (as `.md` files, like `rag reindex`) beside TyDi GoldP passages in
English, Indonesian, Arabic, Russian and Finnish, in growing mixes; its 24 dev questions (10 Indonesian and 10
English answerable, 4 unanswerable) go through the shipping composer. Prints answered / correct / declined.

Usage: python bench/mixed_languages.py
"""

from __future__ import annotations

from pathlib import Path

from rag.config import Settings
from rag.evaluation.corpus_files import CorpusRow, read_corpus, read_jsonl
from rag.evaluation.metrics import holds
from rag.evaluation.runner import evaluation_engine
from rag.model.embedding import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
EXTERNAL = SHARED / "external"


def passages(lang: str, count: int) -> list[CorpusRow]:
    folder = EXTERNAL / ("tydiqa_goldp_id" if lang == "id" else f"tydiqa_goldp_multi/{lang}") / "derived"
    return read_corpus(folder / "corpus.jsonl")[:count]


def main() -> None:
    settings = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    article = CorpusRow("ballerina", "", (ROOT / "rag" / "data" / "ballerina_id.txt").read_text(encoding="utf-8"))
    questions = read_jsonl(SHARED / "ballerina_qa_dev.jsonl")
    mixes = {
        "the article alone": [],
        "+ 40 English": passages("en", 40),
        "+ 200 English": passages("en", 200),
        "+ 200 English + 200 Indonesian": passages("en", 200) + passages("id", 200),
        "+ 100 each English, Arabic, Russian, Finnish": [
            row for lang in ("en", "ar", "ru", "fi") for row in passages(lang, 100)
        ],
    }
    vectors = embedder.embed_queries([str(q["question"]) for q in questions])
    print("| collection | answerable answered | correct | unanswerable declined |\n|---|---|---|---|")
    for name, rows in mixes.items():
        engine, _, _ = evaluation_engine(settings, embedder, [article, *rows], name=f"mixed-{len(rows)}", form="md")
        served = engine.in_service()
        answered = correct = declined = 0
        for question, vector in zip(questions, vectors, strict=True):
            query = served.retriever.prepare(str(question["question"]), vector)
            answer = served.composer.compose(query, served.retriever.search(query, k=settings.top_k))
            if question.get("answerable", True):
                answers = question["answers"]
                assert isinstance(answers, list)
                answered += not answer.abstained
                correct += not answer.abstained and holds(answer.text, answers)
            else:
                declined += answer.abstained
        print(f"| {name} | {answered}/20 | {correct}/20 | {declined}/4 |", flush=True)


if __name__ == "__main__":
    main()
