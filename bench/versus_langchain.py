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

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from langchain_community.embeddings import HuggingFaceEmbeddings
from langchain_community.vectorstores import FAISS
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter

from rag.config import Settings
from rag.corpus_files import read_corpus, read_jsonl
from rag.embedding import resolve_model
from rag.evaluation import read_qrels
from rag.metrics import ndcg_at

RAG = str(Path(sys.executable).with_name("rag"))
TYDI = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "tydiqa_goldp_id" / "derived"


def langchain(folder: Path, limit: int | None) -> dict[str, float]:
    settings = Settings()
    started = time.perf_counter()
    embeddings = HuggingFaceEmbeddings(
        model_name=resolve_model(settings.embedding_model, settings.model_dir),
        model_kwargs={"device": "cpu", "local_files_only": True},
        encode_kwargs={"normalize_embeddings": True},
    )
    splitter = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=100)
    rows = read_corpus(folder / "corpus.jsonl")
    chunks = splitter.split_documents(
        [Document(page_content=f"{row.title}\n\n{row.text}", metadata={"id": row.id}) for row in rows]
    )
    store = FAISS.from_documents(chunks, embeddings)
    indexed = time.perf_counter() - started
    qrels = read_qrels(folder / "qrels" / "test.tsv")
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if str(q["_id"]) in qrels][:limit]
    scores, latencies = [], []
    for query in queries:
        begun = time.perf_counter()
        found = store.similarity_search_with_score(str(query["text"]), k=100)
        latencies.append(time.perf_counter() - begun)
        ranked = list(dict.fromkeys(doc.metadata["id"] for doc, _ in found))
        scores.append(ndcg_at(ranked, qrels[str(query["_id"])], 10))
    return {
        "index s": indexed,
        "chunks": len(chunks),
        "query p50 ms": 1000 * float(np.percentile(latencies, 50)),
        "nDCG@10": float(np.mean(scores)),
    }


def ours(folder: Path, limit: int | None) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "RAG_EVAL_DIR": scratch}
        command = [RAG, "eval", str(folder), "--json"] + (["--limit", str(limit)] if limit else [])
        started = time.perf_counter()
        result = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
        report = json.loads(result.stdout)
        return {
            "index s": float(report["index_seconds"]),
            "run s": time.perf_counter() - started,
            "query p50 ms": float(report["latency_ms_p50"]),
            "nDCG@10": float(report["ndcg@10"]),
        }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, nargs="?", default=TYDI)
    parser.add_argument("--limit", type=int, help="only the first N queries")
    args = parser.parse_args()
    print(f"{args.folder.name}; load {os.getloadavg()[0]:.1f}")
    for name, run in (("this service", ours), ("LangChain FAISS", langchain)):
        result = run(args.folder, args.limit)
        print(name, " | ".join(f"{key} {value:.3f}" for key, value in result.items()))


if __name__ == "__main__":
    main()
