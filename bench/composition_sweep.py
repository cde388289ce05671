"""Sweep the answer-composition constants through the real Composer on a QA set (prints a table).

Usage: python bench/composition_sweep.py QA.jsonl [--corpus corpus.jsonl]
The corpus must have been evaluated once with `rag eval` so that its index exists. Varies the centrality
penalty, the bonus for time sentences on 'when' questions and the second-sentence margin around the
shipping values, then the definition bonus and the close-call margin and budget.
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np
from qa_bench import open_qa_bench

from rag.answering.composer import Composer
from rag.evaluation.metrics import holds


def main() -> None:
    bench = open_qa_bench()
    settings, embedder, engine = bench.settings, bench.embedder, bench.engine
    served = engine.in_service()
    retriever = served.retriever
    base = served.composer.params
    questions = bench.questions
    vectors = embedder.embed_queries([q["question"] for q in questions])
    prepared = []
    for item, vector in zip(questions, vectors, strict=True):
        query = retriever.prepare(item["question"], vector)
        prepared.append((item, query, retriever.search(query, k=settings.top_k)))
    print("centrality  time bonus  margin  definition  close  close chars  answer acc  false abst  declined  chars")
    grids = [
        itertools.product(
            [0.0, 0.1, 0.15, 0.2],
            [0.0, 0.05],
            [0.05, 0.08, 0.1],
            [base.definition_bonus],
            [base.close_call_margin],
            [base.close_call_chars],
        ),
        itertools.product(
            [base.centrality_penalty],
            [base.time_bonus],
            [base.second_sentence_margin],
            [0.0, 0.03, 0.06, 0.1],
            [0.0, 0.01, 0.02, 0.03, 0.05],
            [350, 400, 450],
        ),
    ]
    for penalty, bonus, margin, definition, close, close_chars in itertools.chain(*grids):
        params = replace(
            base,
            centrality_penalty=penalty,
            time_bonus=bonus,
            second_sentence_margin=margin,
            definition_bonus=definition,
            close_call_margin=close,
            close_call_chars=close_chars,
        )
        composer = Composer(retriever, params=params)
        correct, declined, declined_right, lengths = [], [], [], []
        for item, query, hits in prepared:
            answer = composer.compose(query, hits)
            if not item.get("answerable", True):
                declined_right.append(answer.abstained)
                continue
            correct.append(not answer.abstained and holds(answer.text, item["answers"]))
            declined.append(answer.abstained)
            if not answer.abstained:
                lengths.append(len(answer.text))
        print(
            f"{penalty:10.2f}  {bonus:10.2f}  {margin:6.2f}  {definition:10.2f}  {close:5.2f}  {close_chars:11d}  "
            f"{np.mean(correct):10.3f}  {np.mean(declined):10.3f}  {sum(declined_right):>6}/{len(declined_right):<2}  "
            f"{np.mean(lengths):5.0f}"
        )


if __name__ == "__main__":
    main()
