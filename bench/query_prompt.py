"""Compare query prompts of EmbeddingGemma on a QA set through the real retrieval and answer path.

Usage: python bench/query_prompt.py QA.jsonl [--corpus corpus.jsonl]
The corpus must have been evaluated once with `rag eval` so that its index exists. Prints, per prompt,
answer accuracy, false abstentions, abstention on unanswerable questions and passage Hit@1 / MRR.
"""

from __future__ import annotations

import numpy as np
from qa_bench import open_qa_bench

from rag.evaluation.metrics import first_rank, holds, reciprocal_rank

# The prompts of the model card: "search result" is the model's default query prompt.
PROMPTS = {
    "search result": "task: search result | query: ",
    "question answering": "task: question answering | query: ",
    "fact checking": "task: fact checking | query: ",
}


def main() -> None:
    bench = open_qa_bench()
    settings, embedder, engine = bench.settings, bench.embedder, bench.engine
    retriever = engine.in_service().retriever
    composer = engine.in_service().composer
    questions = bench.questions
    model = embedder._load()
    print(f"{'prompt':20} {'answer acc':>10} {'false abst':>10} {'abst acc':>8} {'Hit@1':>6} {'MRR':>6}")
    for label, prompt in PROMPTS.items():
        vectors = model.encode([prompt + q["question"] for q in questions], normalize_embeddings=True, batch_size=16)
        correct, false_abstention, abstained_right, hit1, rr = [], [], [], [], []
        for item, vector in zip(questions, np.asarray(vectors, dtype=np.float32), strict=True):
            query = retriever.prepare(item["question"], vector)
            hits = retriever.search(query, k=settings.top_k)
            answer = composer.compose(query, hits)
            if not item.get("answerable", True):
                abstained_right.append(answer.abstained)
                continue
            rank = first_rank([h.chunk.text for h in hits], item["answers"])
            correct.append(not answer.abstained and holds(answer.text, item["answers"]))
            false_abstention.append(answer.abstained)
            hit1.append(rank == 1)
            rr.append(reciprocal_rank(rank))
        abstention = f"{sum(abstained_right)}/{len(abstained_right)}"
        print(
            f"{label:20} {np.mean(correct):10.3f} {np.mean(false_abstention):10.3f} {abstention:>8} "
            f"{np.mean(hit1):6.3f} {np.mean(rr):6.3f}"
        )


if __name__ == "__main__":
    main()
