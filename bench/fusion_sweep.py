"""Sweep the fusion and sentence-scoring weights on a QA set, from cached vectors (prints a table).

Usage: python bench/fusion_sweep.py QA.jsonl [--corpus corpus.jsonl]
The corpus must have been evaluated once with `rag eval` so that its index exists.
"""

from __future__ import annotations

import itertools

import numpy as np
from qa_bench import open_qa_bench

from rag.metrics import holds
from rag.store import Generation


def sentence_chunks(generation: Generation, fused: np.ndarray, dense: np.ndarray, k: int = 5) -> dict[int, float]:
    """Sentences of the top-k chunks by fused score, each with the best dense score of a chunk holding it."""
    best: dict[int, float] = {}
    for c in np.argsort(-fused)[:k]:
        for s in generation.chunk_sentences[c]:
            best[s] = max(best.get(s, -1.0), float(dense[c]))
    return best


def main() -> None:
    bench = open_qa_bench()
    embedder, engine = bench.embedder, bench.engine
    retriever = engine.retriever()
    generation = retriever.generation
    content = generation.content
    questions = [q for q in bench.questions if q.get("answerable", True)]
    vectors = embedder.embed_queries([q["question"] for q in questions])
    sentence_terms = [set(retriever.lexical.query_terms(s.text)) for s in content.sentences]
    rows = []
    for q, v in zip(questions, vectors, strict=True):
        query = retriever.prepare(q["question"], v)
        dense = retriever.dense_scores(query)
        lexical = retriever.lexical_scores(query)
        idf = {t: retriever.lexical.idf(t) for t in query.terms}
        total = sum(idf.values()) or 1.0
        overlap = np.array([sum(w for t, w in idf.items() if t in terms) / total for terms in sentence_terms])
        gold_chunks = np.array([holds(c.text, q["answers"]) for c in content.chunks])
        gold_sentences = np.array([holds(s.text, q["answers"]) for s in content.sentences])
        rows.append((q, query, dense, lexical, content.sentence_vectors @ v, overlap, gold_chunks, gold_sentences))
    print("lexical_weight  conditioned  chunk MRR@10  Hit@1")
    for weight, conditioned in itertools.product([0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5], [True, False]):
        rr, hit1 = [], []
        for _, query, dense, lexical, *_rest, gold_chunks, _ in rows:
            fused = dense + weight * (query.coverage if conditioned else 1.0) * lexical
            order = np.argsort(-fused)[:10]
            ranks = [i for i, c in enumerate(order, 1) if gold_chunks[c]]
            rr.append(1 / ranks[0] if ranks else 0.0)
            hit1.append(bool(ranks and ranks[0] == 1))
        print(f"{weight:14.2f}  {conditioned!s:11}  {np.mean(rr):12.4f}  {np.mean(hit1):.4f}")
    print("\nsentence weights (sim, chunk, overlap)  top-sentence accuracy")
    for w_sim, w_chunk, w_overlap in itertools.product(
        [0.4, 0.6, 0.8, 1.0], [0.0, 0.2, 0.4, 0.6], [0.0, 0.1, 0.2, 0.4]
    ):
        correct = []
        for _, query, dense, lexical, sims, overlap, _, gold_sentences in rows:
            best_chunk = sentence_chunks(generation, dense + 0.15 * query.coverage * lexical, dense)
            scored = {
                s: w_sim * sims[s] + w_chunk * d + w_overlap * overlap[s] * query.coverage
                for s, d in best_chunk.items()
            }
            best = max(scored, key=lambda s: scored[s])
            correct.append(bool(gold_sentences[best]))
        print(f"{w_sim:.1f} {w_chunk:.1f} {w_overlap:.1f}  {np.mean(correct):.4f}")
    print("\nlocal-IDF term overlap weight (terms rare among the candidate sentences)  top-sentence accuracy")
    for weight in [0.0, 0.02, 0.05, 0.1, 0.2]:
        correct = []
        for _, query, dense, lexical, sims, _, _, gold_sentences in rows:
            best_chunk = sentence_chunks(generation, dense + 0.05 * query.coverage * lexical, dense)
            candidates = list(best_chunk)
            df = {t: sum(t in sentence_terms[s] for s in candidates) for t in set(query.terms)}
            w = {t: float(np.log((len(candidates) + 1) / (n + 0.5))) for t, n in df.items() if n > 0}
            total = sum(w.values()) or 1.0
            scored = {
                s: 0.6 * sims[s] + 0.4 * d + weight * sum(v for t, v in w.items() if t in sentence_terms[s]) / total
                for s, d in best_chunk.items()
            }
            best = max(scored, key=lambda s: scored[s])
            correct.append(bool(gold_sentences[best]))
        print(f"{weight:5.2f}  {np.mean(correct):.4f}")
    print("\ncontext: weight of the previous sentence's cosine in a sentence's  top-sentence accuracy")
    sentences = content.sentences
    previous = [i - 1 if i > 0 and sentences[i - 1].doc_id == sentences[i].doc_id else i for i in range(len(sentences))]
    for alpha in [0.0, 0.1, 0.2, 0.3, 0.5]:
        correct = []
        for _, query, dense, lexical, sims, _, _, gold_sentences in rows:
            best_chunk = sentence_chunks(generation, dense + 0.05 * query.coverage * lexical, dense)
            scored = {
                s: 0.6 * (sims[s] + alpha * max(sims[previous[s]], sims[s])) / (1 + alpha) + 0.4 * d
                for s, d in best_chunk.items()
            }
            best = max(scored, key=lambda s: scored[s])
            correct.append(bool(gold_sentences[best]))
        print(f"{alpha:5.2f}  {np.mean(correct):.4f}")
    print("\nsecond sentence within margin (0.6 sim + 0.4 chunk)  accuracy  mean chars")
    for margin in [0.0, 0.01, 0.02, 0.03, 0.05, 0.08, 1.0]:
        correct, lengths = [], []
        for _, query, dense, lexical, sims, _, _, gold_sentences in rows:
            best_chunk = sentence_chunks(generation, dense + 0.05 * query.coverage * lexical, dense)
            ranked = sorted(best_chunk, key=lambda s: -(0.6 * sims[s] + 0.4 * best_chunk[s]))
            score = {s: 0.6 * sims[s] + 0.4 * best_chunk[s] for s in ranked}
            chosen = [ranked[0]]
            for s in ranked[1:2]:
                total = sum(len(content.sentences[c].text) for c in chosen) + len(content.sentences[s].text)
                if score[s] >= score[ranked[0]] - margin and total <= 300:
                    chosen.append(s)
            correct.append(any(gold_sentences[s] for s in chosen))
            lengths.append(sum(len(content.sentences[c].text) for c in chosen))
        print(f"{margin:5.2f}  {np.mean(correct):.4f}  {np.mean(lengths):.0f}")


if __name__ == "__main__":
    main()
