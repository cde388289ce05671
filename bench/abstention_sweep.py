"""Calibrate abstention: answerable questions vs the same questions with their gold passage held out.

Holding out the passage that answers a question turns it into a hard unanswerable one (same topic,
same wording, answer absent). Prints, per threshold, the false-abstention rate on the answerable
questions and the rate of answering the held-out ones anyway.

Usage: python bench/abstention_sweep.py QA.jsonl --corpus corpus.jsonl   (QA rows need doc_id)
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from rag.answer import BACKGROUND_FLOOR, BACKGROUND_SIZE, MISSING_TERMS_PENALTY, SIMILARITY_WEIGHT
from rag.config import Settings
from rag.embedding import SentenceTransformerEmbedder
from rag.evaluation import evaluation_engine, load_corpus, read_jsonl


def confidence(
    generation, retriever, vector, text, excluded: str | None, top_k: int = 5
) -> tuple[float, float, float, float]:
    """The composer's confidence, computed as if the excluded document were not indexed."""
    content = generation.content
    query = retriever.prepare(text, vector)
    fused, dense, _ = retriever.fused_scores(query)
    chunk_ok = np.array([c.doc_id != excluded for c in content.chunks])
    sentence_ok = np.array([s.doc_id != excluded for s in content.sentences])
    fused = np.where(chunk_ok, fused, -np.inf)
    sims = content.sentence_vectors @ vector
    best_chunk: dict[int, float] = {}
    for c in np.argsort(-fused)[:top_k]:
        for s in generation.chunk_sentences[c]:
            best_chunk[s] = max(best_chunk.get(s, -1.0), float(dense[c]))
    pool = np.sort(sims[sentence_ok])[::-1][: BACKGROUND_SIZE + 1]
    pool = np.concatenate([pool, np.full(BACKGROUND_SIZE + 1 - len(pool), BACKGROUND_FLOOR)])
    ranked = sorted(best_chunk, key=lambda s: -(SIMILARITY_WEIGHT * sims[s] + (1 - SIMILARITY_WEIGHT) * best_chunk[s]))
    peaks = []
    for s in ranked[:3]:
        others = np.delete(pool, int(np.argmin(np.abs(pool - sims[s]))))
        peaks.append(float(sims[s] - others[:BACKGROUND_SIZE].mean()))
    lexical = retriever.lexical
    idf = {t: lexical.idf(t) for t in query.terms}
    total = sum(idf.values()) or 1.0
    top_chunks = [content.chunks[c] for c in np.argsort(-fused)[:top_k]]
    in_chunks = set().union(*(set(lexical.query_terms(c.text)) for c in top_chunks))
    best_sentence = set(lexical.query_terms(content.sentences[ranked[0]].text)) if ranked else set()
    o_chunks = sum(w for t, w in idf.items() if t in in_chunks) / total
    o_sentence = sum(w for t, w in idf.items() if t in best_sentence) / total
    return max(peaks, default=0.0), query.coverage, o_chunks, o_sentence


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", type=Path)
    parser.add_argument("--corpus", type=Path, required=True)
    args = parser.parse_args()
    settings = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    engine, _ = evaluation_engine(settings, embedder, load_corpus(args.corpus), name=args.corpus.parent.name)
    retriever = engine.retriever()
    questions = read_jsonl(args.qa)
    vectors = embedder.embed_queries([q["question"] for q in questions])
    kept, held = [], []
    for q, v in zip(questions, vectors, strict=True):
        kept.append(confidence(retriever.generation, retriever, v, q["question"], None))
        held.append(confidence(retriever.generation, retriever, v, q["question"], q["doc_id"]))
    k, h = np.array(kept), np.array(held)
    for penalty in [0.0, 0.05, MISSING_TERMS_PENALTY, 0.2]:
        # confidence = best peak - penalty * coverage * share of question terms missing from the passages
        pos, neg = k[:, 0] - penalty * k[:, 1] * (1 - k[:, 2]), h[:, 0] - penalty * h[:, 1] * (1 - h[:, 2])
        auc = float(np.mean(pos[:, None] > neg[None, :]))
        print(f"\nmissing-terms penalty {penalty}: AUC {auc:.3f}")
        print("threshold  false abstention  answered held-out")
        for threshold in [0.0, 0.02, 0.03, 0.045, 0.06, 0.08, 0.1]:
            print(f"{threshold:9.3f}  {np.mean(pos < threshold):16.3f}  {np.mean(neg >= threshold):17.3f}")


if __name__ == "__main__":
    main()
