"""Which way of making chunk vectors should be the default: answers and ranking on every set, both ways.

For `RAG_CHUNK_VECTORS=embedded` (every chunk through the model) and `sentences` (a chunk's vector is the
length-weighted mean of its sentences' vectors), through `.md` files indexed as `rag reindex` does:
- the article's dev set (answer accuracy, top chunk, unanswerable declined);
- TyDi GoldP Indonesian, English, Arabic, Russian, Finnish, the first --questions questions each (answer
  accuracy, top chunk, false abstention);
- a SciFact subset indexed with its sentences: every abstract a test query cites plus the first others of the
  corpus up to --scifact-documents (nDCG@10, Recall@10, MRR@10 of document ranking).
Vectors come from the evaluation cache (RAG_EVAL_DIR), so the second mode embeds only what it lacks.

Usage: python bench/chunk_vectors.py [--questions 200] [--scifact-documents 1500] [--sets dev,id,en,ar,ru,fi,scifact]
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.evaluation.corpus_files import read_jsonl
from rag.evaluation.runner import evaluate_beir, evaluate_qa, read_qrels
from rag.model.embedding import SentenceTransformerEmbedder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXTERNAL = SHARED / "external"
TYDI = {
    "id": EXTERNAL / "tydiqa_goldp_id" / "derived",
    **{lang: EXTERNAL / "tydiqa_goldp_multi" / lang / "derived" for lang in ("en", "ar", "ru", "fi")},
}
MODES = ("embedded", "sentences")


def scifact_subset(settings: Settings, documents: int) -> Path:
    """A BEIR folder with SciFact's test queries, every abstract they cite and the first others up to `documents`."""
    source = EXTERNAL / "beir_scifact"
    folder = settings.eval_dir / f"scifact-subset-{documents}"
    if (folder / "corpus.jsonl").exists():
        return folder
    cited = {doc for relevant in read_qrels(source / "qrels" / "test.tsv").values() for doc in relevant}
    rows = read_jsonl(source / "corpus.jsonl")
    kept = [r for r in rows if str(r["_id"]) in cited]
    kept += [r for r in rows if str(r["_id"]) not in cited][: max(0, documents - len(kept))]
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    shutil.copy(source / "qrels" / "test.tsv", folder / "qrels" / "test.tsv")
    shutil.copy(source / "queries.jsonl", folder / "queries.jsonl")
    (folder / "corpus.jsonl").write_text("".join(json.dumps(r) + "\n" for r in kept), encoding="utf-8")
    return folder


def measure(settings: Settings, name: str, args: argparse.Namespace) -> dict[str, Any]:
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    if name == "scifact":
        folder = scifact_subset(settings, args.scifact_documents)
        return evaluate_beir(settings, embedder, folder, sentences=True)
    if name == "dev":
        qa, corpus = SHARED / "ballerina_qa_dev.jsonl", None
    else:
        qa, corpus = TYDI[name] / "qa_dev.jsonl", TYDI[name] / "corpus.jsonl"
    report = evaluate_qa(
        settings, embedder, qa, corpus=corpus, per_question=False, top_k=settings.top_k, limit=args.questions
    )
    return {**report["overall"], "index_seconds": report["index_seconds"]}


def cell(name: str, report: dict[str, Any]) -> str:
    if name == "scifact":
        return f"{report['ndcg@10']:.3f} / {report['recall@10']:.3f} / {report['mrr@10']:.3f}"
    third = report["abstention_accuracy"] if name == "dev" else report["false_abstention_rate"]
    return f"{report['answer_accuracy']:.3f} / {report['hit_at_1']:.3f} / {third:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--scifact-documents", type=int, default=1500)
    parser.add_argument("--sets", default="dev,id,en,ar,ru,fi,scifact")
    args = parser.parse_args()
    names = args.sets.split(",")
    rows: dict[str, dict[str, str]] = {}
    for mode in MODES:
        settings = Settings(chunk_vectors=mode)
        for name in names:
            report = measure(settings, name, args)
            rows.setdefault(name, {})[mode] = cell(name, report)
            print(f"{name} {mode}: {cell(name, report)} (index {report['index_seconds']} s)", flush=True)
    print(
        "\ncells: answer accuracy / top chunk / false abstention (dev: unanswerable declined); "
        "scifact: nDCG@10 / Recall@10 / MRR@10"
    )
    print("| set | " + " | ".join(MODES) + " |\n|---|" + "---|" * len(MODES))
    for name, cells in rows.items():
        print(f"| {name} | " + " | ".join(cells[m] for m in MODES) + " |")


if __name__ == "__main__":
    main()
