"""Where answer composition loses to retrieval: for answerable questions whose top chunk holds the answer,
the rank of the first candidate sentence that holds it (1 = chosen), and what the chosen ones look like.

Usage: python bench/selection_gap.py QA.jsonl [--corpus corpus.jsonl] [--files md|txt-title|txt] [--show N]
"""

from __future__ import annotations

from collections import Counter

from qa_bench import open_qa_bench

from rag.evaluation.metrics import holds


def main() -> None:
    bench = open_qa_bench()
    settings, embedder, engine = bench.settings, bench.embedder, bench.engine
    retriever = engine.in_service().retriever
    composer = engine.in_service().composer
    questions = [q for q in bench.questions if q.get("answerable", True)]
    vectors = embedder.embed_queries([q["question"] for q in questions])
    ranks: Counter[str] = Counter()
    examples = []
    for item, vector in zip(questions, vectors, strict=True):
        query = retriever.prepare(item["question"], vector)
        hits = retriever.search(query, k=settings.top_k)
        if not hits or not holds(hits[0].chunk.text, item["answers"]):
            ranks["top chunk misses"] += 1
            continue
        answer = composer.compose(query, hits)
        if not answer.abstained and holds(answer.text, item["answers"]):
            ranks["answered"] += 1
            continue
        candidates = composer.candidates(query, hits)
        found = next((n for n, c in enumerate(candidates, 1) if holds(c.sentence.text, item["answers"])), None)
        key = (
            "abstained"
            if answer.abstained
            else f"rank {found}"
            if found and found <= 4
            else ("rank 5+" if found else "in no single sentence")
        )
        ranks[key] += 1
        gold = candidates[found - 1].sentence.text if found else None
        examples.append((key, item["question"], candidates[0].sentence.text, gold))
    total = len(questions)
    for key, count in ranks.most_common():
        print(f"{key:24} {count:4d}  {count / total:.3f}")
    for key, question, chosen, gold in examples[:40]:
        print(f"\n[{key}] {question}\n  chosen: {chosen[:160]}\n  gold:   {str(gold)[:160]}")


if __name__ == "__main__":
    main()
