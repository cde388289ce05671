"""Side by side on a BEIR folder: this service against the LangChain pipeline a user would otherwise write.

Usage: pip install -e '.[bench]'; python bench/versus_langchain.py [BEIR_FOLDER] [--limit N]

LangChain: the same passages cut by the same RecursiveCharacterTextSplitter (600 / 100), embedded by the same
model (the installed EmbeddingGemma folder) through `HuggingFaceEmbeddings` (sentence-transformers, plain
`encode`, normalised), stored in LangChain's FAISS vector store; a document ranks by its best chunk.
This service: `rag eval BEIR_FOLDER` as a subprocess with an empty evaluation directory, so it indexes
everything itself (chunks only, as LangChain does) with its defaults. Both print indexing seconds (model load
included), query p50 and nDCG@10 on the same queries. Numbers only.
"""

from __future__ import annotations

import time
from pathlib import Path

from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
from versus import chunks, main, score

from rag.config import Settings
from rag.model.embedding import resolve_model


def langchain(folder: Path, limit: int | None) -> dict[str, float]:
    settings = Settings()
    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(
        model_name=resolve_model(settings.embedding_model, settings.model_dir),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
    documents = chunks(folder)
    store = FAISS.from_documents(documents, embeddings)
    indexed = time.perf_counter() - started

    def search(question: str) -> list[str]:
        return [doc.metadata["id"] for doc, _ in store.similarity_search_with_score(question, k=100)]

    return {"index s": indexed, "chunks": len(documents), **score(folder, limit, search)}


if __name__ == "__main__":
    main("LangChain FAISS", langchain)
