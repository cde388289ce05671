"""What the QA benches share: the command line (a QA file, an optional corpus) and the engine over its index."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rag.config import Settings
from rag.engine import RagEngine
from rag.evaluation.corpus_files import read_jsonl
from rag.evaluation.runner import qa_engine
from rag.model.embedding import SentenceTransformerEmbedder


@dataclass(frozen=True)
class QaBench:
    settings: Settings
    embedder: SentenceTransformerEmbedder
    engine: RagEngine
    questions: list[dict[str, Any]]


def open_qa_bench() -> QaBench:
    """Parse `QA.jsonl [--corpus corpus.jsonl]` and open (building once) the evaluation index of the corpus."""
    parser = argparse.ArgumentParser()
    parser.add_argument("qa", type=Path)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--files", default="md", choices=["md", "txt-title", "txt"])
    args = parser.parse_args()
    settings = Settings()
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    engine, _ = qa_engine(settings, embedder, args.corpus, form=args.files)
    return QaBench(settings, embedder, engine, read_jsonl(args.qa))
