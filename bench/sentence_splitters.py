"""Our sentence splitter against sentencex and blingfire, by what the answers need: accuracy on every set.

Sentences are what an answer quotes and what the confidence compares, so a splitter is judged by the answers it
leads to. For each splitter the evaluation corpora are indexed as `rag reindex` does with the answer sentences
cut by that splitter (text split at line breaks first, as ours does, and long sentences capped the same way),
then asked: the article's dev set and the first --questions questions of TyDi GoldP Indonesian, English,
Arabic, Russian and Finnish through `.md` files. sentencex is given each document's language (py3langid).
Each splitter gets its own evaluation directory under RAG_EVAL_DIR, seeded with the shared vector cache, so only
sentences cut differently are embedded.

Needs `pip install -e '.[bench]'` (sentencex, blingfire). Usage: python bench/sentence_splitters.py [--questions 200]
"""

from __future__ import annotations

import argparse
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from unittest import mock

from rag.config import Settings
from rag.evaluation.runner import evaluate_qa
from rag.language.identification import identify
from rag.language.sentences import MAX_SENTENCE_CHARS, split_sentences
from rag.model.embedding import SentenceTransformerEmbedder

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"
EXTERNAL = SHARED / "external"
SETS = {
    "dev": (SHARED / "ballerina_qa_dev.jsonl", None),
    "id": (EXTERNAL / "tydiqa_goldp_id/derived/qa_dev.jsonl", EXTERNAL / "tydiqa_goldp_id/derived/corpus.jsonl"),
    **{
        lang: (
            EXTERNAL / f"tydiqa_goldp_multi/{lang}/derived/qa_dev.jsonl",
            EXTERNAL / f"tydiqa_goldp_multi/{lang}/derived/corpus.jsonl",
        )
        for lang in ("en", "ar", "ru", "fi")
    },
}
Splitter = Callable[[str, int, int], list[tuple[int, int]]]  # (text, start, end) -> sentence offsets


def _sentencex(text: str, start: int, end: int) -> list[tuple[int, int]]:
    from sentencex import get_sentence_boundaries

    return [
        (start + b["start_index"], start + b["end_index"])
        for b in get_sentence_boundaries(identify(text[start:end]), text[start:end])
    ]


def _blingfire(text: str, start: int, end: int) -> list[tuple[int, int]]:
    import blingfire

    _, offsets = blingfire.text_to_sentences_and_offsets(text[start:end])
    return [(start + s, start + e) for s, e in offsets]


def by_lines(splitter: Splitter) -> Callable[..., list[tuple[int, int]]]:
    """`split_sentences` with `splitter` cutting each line; the pieces trimmed and capped as ours are."""

    def split(
        text: str, start: int = 0, end: int | None = None, *, max_chars: int = MAX_SENTENCE_CHARS
    ) -> list[tuple[int, int]]:
        stop = len(text) if end is None else end
        spans: list[tuple[int, int]] = []
        for line in re.finditer(r"[^\n]+", text[start:stop]):
            for left, right in splitter(text, start + line.start(), start + line.end()):
                # Ours trims and caps a piece; run it on each piece so only the boundaries differ.
                spans += split_sentences(text, left, right, max_chars=max_chars) if right > left else []
        return spans

    return split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=200)
    args = parser.parse_args()
    base = Settings()
    splitters: dict[str, Callable[..., list[tuple[int, int]]] | None] = {
        "ours": None,
        "sentencex": by_lines(_sentencex),
        "blingfire": by_lines(_blingfire),
    }
    rows: dict[str, dict[str, str]] = {}
    for name, splitter in splitters.items():
        eval_dir = base.eval_dir if splitter is None else base.eval_dir / f"splitter-{name}"
        if splitter is not None and not (eval_dir / "embeddings.sqlite").exists():
            eval_dir.mkdir(parents=True, exist_ok=True)
            shutil.copy(base.eval_dir / "embeddings.sqlite", eval_dir / "embeddings.sqlite")
        settings = base.model_copy(update={"eval_dir": eval_dir})
        embedder = SentenceTransformerEmbedder.from_settings(settings)
        patch = mock.patch("rag.indexing.segment_builder.split_sentences", splitter or split_sentences)
        with patch:
            for set_name, (qa, corpus) in SETS.items():
                report = evaluate_qa(
                    settings,
                    embedder,
                    qa,
                    corpus=corpus,
                    per_question=False,
                    top_k=settings.top_k,
                    limit=args.questions,
                )
                overall = report["overall"]
                cell = (
                    f"{overall['answer_accuracy']:.3f} / {overall['citation_support']:.3f} / "
                    f"{overall['false_abstention_rate']:.3f}"
                )
                rows.setdefault(set_name, {})[name] = cell
                print(f"{set_name} {name}: {cell} (index {report['index_seconds']} s)", flush=True)
    print("\ncells: answer accuracy / citation support / false abstention")
    print("| set | " + " | ".join(splitters) + " |\n|---|" + "---|" * len(splitters))
    for set_name, cells in rows.items():
        print(f"| {set_name} | " + " | ".join(cells[n] for n in splitters) + " |")


if __name__ == "__main__":
    main()
