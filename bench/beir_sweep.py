"""Sweep lexical variants and fusion weights for document ranking on a BEIR folder (prints a table).

Usage: python bench/beir_sweep.py FOLDER [--limit N]
The folder must have been evaluated once with `rag eval FOLDER` so that its chunk vectors are cached.
Variants: which text BM25 sees (chunk, or title + chunk), whether chunk scores or whole-document BM25
feed the document score, and the weight of the normalised BM25 score next to the cosine.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from rag.config import Settings
from rag.corpus_files import read_corpus, read_jsonl
from rag.embedding import SentenceTransformerEmbedder
from rag.evaluation import evaluation_engine, read_qrels
from rag.lexical import INDONESIAN, LexicalIndex, Tokenizer
from rag.metrics import ndcg_at


class IndonesianOnly(Tokenizer):
    """The tokenizer before language detection: Indonesian stemming for every text."""

    @staticmethod
    def _language(words: Sequence[str], default: str) -> str:
        return INDONESIAN


WEIGHTS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3]


def normalised(scores: np.ndarray) -> np.ndarray:
    top = float(scores.max()) if scores.size else 0.0
    return scores / top if top > 0 else scores


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--limit", type=int)
    args = parser.parse_args()
    settings = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    documents = read_corpus(args.folder / "corpus.jsonl")
    engine, ids, _ = evaluation_engine(settings, embedder, documents, name=args.folder.name, form="md", sentences=False)
    retriever = engine.retriever()
    chunks = retriever.generation.content.chunks
    doc_ids = sorted({ids[c.doc_id] for c in chunks})
    doc_position = {d: i for i, d in enumerate(doc_ids)}
    chunk_doc = np.array([doc_position[ids[c.doc_id]] for c in chunks])
    titles = {d.id: d.title for d in documents}
    texts = {d.id: d.text for d in documents}
    qrels = read_qrels(args.folder / "qrels" / "test.tsv")
    queries = [q for q in read_jsonl(args.folder / "queries.jsonl") if str(q["_id"]) in qrels][: args.limit]
    vectors = embedder.embed_queries([str(q["text"]) for q in queries])
    tokenizer = Tokenizer()
    lexical_views = {
        "chunk, id stem": (LexicalIndex([c.text for c in chunks], IndonesianOnly()), False),
        "chunk": (LexicalIndex([c.text for c in chunks], tokenizer), False),
        "title+chunk": (LexicalIndex([f"{titles[ids[c.doc_id]]}\n{c.text}" for c in chunks], tokenizer), False),
        "title+doc": (LexicalIndex([f"{titles[d]}\n{texts[d]}" for d in doc_ids], tokenizer), True),
    }

    def doc_max(chunk_scores: np.ndarray) -> np.ndarray:
        best = np.full(len(doc_ids), -np.inf, dtype=np.float32)
        np.maximum.at(best, chunk_doc, chunk_scores)
        return best

    results: dict[tuple[str, float], list[float]] = {}
    for query, vector in zip(queries, vectors, strict=True):
        prepared = retriever.prepare(str(query["text"]), vector)
        dense = retriever.dense_scores(prepared)
        relevant = qrels[str(query["_id"])]
        for view, (lexical, per_document) in lexical_views.items():
            terms = lexical.query_terms(prepared.text)
            coverage = lexical.coverage(terms)
            bm25 = normalised(lexical.scores(terms))
            for weight in WEIGHTS:
                if per_document:
                    scores = doc_max(dense) + weight * coverage * bm25
                else:
                    scores = doc_max(dense + weight * coverage * bm25)
                ranked = [doc_ids[i] for i in np.argsort(-scores, kind="stable")[:10]]
                results.setdefault((view, weight), []).append(ndcg_at(ranked, relevant, 10))
        for view, (lexical, per_document) in lexical_views.items():
            bm25 = lexical.scores(lexical.query_terms(prepared.text))
            scores = bm25 if per_document else doc_max(bm25)
            ranked = [doc_ids[i] for i in np.argsort(-scores, kind="stable")[:10]]
            results.setdefault((view, -1.0), []).append(ndcg_at(ranked, relevant, 10))
    print(f"{len(queries)} queries, {len(doc_ids)} documents, {len(chunks)} chunks")
    print(f"{'lexical view':16} {'BM25 only':>9} " + " ".join(f"w={w:<5}" for w in WEIGHTS))
    for view in lexical_views:
        row = " ".join(f"{np.mean(results[(view, w)]):.4f} " for w in WEIGHTS)
        print(f"{view:16} {np.mean(results[(view, -1.0)]):9.4f} {row}")


if __name__ == "__main__":
    main()
