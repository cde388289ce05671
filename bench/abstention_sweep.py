"""Calibrate abstention: answerable questions vs the same questions with their gold passage held out.

Holding out the passage that answers a question turns it into a hard unanswerable one (same topic,
same wording, answer absent). Both go through the shipping Composer (the held-out document is excluded
from retrieval and from the background). Prints, per threshold, the false-abstention rate on the
answerable questions and the rate of answering the held-out ones anyway.

Usage: python bench/abstention_sweep.py QA.jsonl --corpus corpus.jsonl [--files md|txt-title|txt]
(QA rows need doc_id)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.evaluation.corpus_files import read_corpus, read_jsonl
from rag.evaluation.runner import evaluation_engine
from rag.model.embedding import SentenceTransformerEmbedder


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", type=Path)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--files", default="md", choices=["md", "txt-title", "txt"])
    args = parser.parse_args()
    settings = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    rows = read_corpus(args.corpus)
    engine, ids, _ = evaluation_engine(settings, embedder, rows, name=args.corpus.parent.name, form=args.files)
    indexed = {corpus_id: doc_id for doc_id, corpus_id in ids.items()}
    served = engine.in_service()
    retriever = served.retriever
    questions = read_jsonl(args.qa)
    vectors = embedder.embed_queries([str(q["question"]) for q in questions])
    base = served.composer.params
    print(f"{len(questions)} questions, files: {args.files}")
    for penalty in [0.0, 0.05, base.missing_terms_penalty, 0.2]:
        composer = served.composer.with_params(missing_terms_penalty=penalty, abstain_threshold=-1.0)
        kept, held = [], []
        for q, vector in zip(questions, vectors, strict=True):
            query = retriever.prepare(str(q["question"]), vector)
            gold = frozenset({indexed[str(q["doc_id"])]})
            answered = composer.compose(query, retriever.search(query, k=settings.top_k))
            withheld = composer.compose(query, retriever.search(query, k=settings.top_k, exclude=gold), exclude=gold)
            # An answer declined for being off-topic counts as a confidence below every threshold.
            kept.append(-np.inf if answered.abstained else answered.confidence)
            held.append(-np.inf if withheld.abstained else withheld.confidence)
        pos, neg = np.array(kept), np.array(held)
        auc = float(np.mean(pos[:, None] > neg[None, :]))
        print(f"\nmissing-terms penalty {penalty}: AUC {auc:.3f}")
        print("threshold  false abstention  answered held-out")
        for threshold in [0.0, 0.02, 0.03, base.abstain_threshold, 0.06, 0.08, 0.1]:
            print(f"{threshold:9.3f}  {np.mean(pos < threshold):16.3f}  {np.mean(neg >= threshold):17.3f}")


if __name__ == "__main__":
    main()
