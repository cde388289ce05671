"""Side by side on a BEIR folder: this service against the txtai pipeline a user would otherwise write.

Usage: pip install -e '.[bench]'; python bench/versus_txtai.py [BEIR_FOLDER] [--limit N]

txtai: the same chunks as bench/versus_langchain.py (RecursiveCharacterTextSplitter, 600 / 100), embedded by the
same model (the installed EmbeddingGemma folder) through txtai's `Embeddings` with the sentence-transformers
method (its default dtype, float32), the faiss backend (exact inner product at this size) and content storage;
a document ranks by its best chunk. txtai encodes chunks with sentence-transformers' `encode_document` and
questions with `encode_query`, so EmbeddingGemma's own prompts apply ("title: none | text: " and "task: search
result | query: "); it normalises the vectors itself. This service: `rag eval BEIR_FOLDER` with an empty
evaluation directory (bench/versus.py). Both print indexing seconds (model load included), query p50 and
nDCG@10 on the same queries. Numbers only.
"""

from __future__ import annotations

import time
from pathlib import Path

from txtai import Embeddings
from versus import chunks, main, score

from rag.config import Settings
from rag.model.embedding import resolve_model


def txtai(folder: Path, limit: int | None) -> dict[str, float]:
    settings = Settings()
    started = time.perf_counter()
    embeddings = Embeddings(
        path=resolve_model(settings.embedding_model, settings.model_dir),
        method="sentence-transformers",
        content=True,
        backend="faiss",
        gpu=False,
        vectors={"local_files_only": True},
    )
    documents = chunks(folder)
    embeddings.index((n, doc.page_content, None) for n, doc in enumerate(documents))
    indexed = time.perf_counter() - started

    def search(question: str) -> list[str]:
        return [documents[int(hit["id"])].metadata["id"] for hit in embeddings.search(question, 100)]

    return {"index s": indexed, "chunks": len(documents), **score(folder, limit, search)}


if __name__ == "__main__":
    main("txtai", txtai)
