"""What the side-by-side benches share: the BEIR folder's chunks and queries, the scoring of a pipeline's search,
this service's side (`rag eval` as a subprocess) and the command line."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from langchain_core.documents import Document
from langchain_text_splitters import RecursiveCharacterTextSplitter
from serving import RAG

from rag.evaluation.corpus_files import read_corpus, read_jsonl
from rag.evaluation.metrics import ndcg_at
from rag.evaluation.runner import read_qrels

TYDI = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "tydiqa_goldp_id" / "derived"

Pipeline = Callable[[Path, int | None], dict[str, float]]


def chunks(folder: Path) -> list[Document]:
    """The folder's passages (title, blank line, text) cut by RecursiveCharacterTextSplitter (600 / 100);
    each chunk's metadata holds its document's id."""
    splitter = RecursiveCharacterTextSplitter(chunk_size=600, chunk_overlap=100)
    rows = read_corpus(folder / "corpus.jsonl")
    return splitter.split_documents(
        [Document(page_content=f"{row.title}\n\n{row.text}", metadata={"id": row.id}) for row in rows]
    )


def score(folder: Path, limit: int | None, search: Callable[[str], list[str]]) -> dict[str, float]:
    """Query p50 and nDCG@10 of `search` (a question to the document ids of the chunks it found, best first;
    a document ranks by its best chunk) on the folder's test queries, each search timed alone."""
    qrels = read_qrels(folder / "qrels" / "test.tsv")
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if str(q["_id"]) in qrels][:limit]
    scores, latencies = [], []
    for query in queries:
        begun = time.perf_counter()
        found = search(str(query["text"]))
        latencies.append(time.perf_counter() - begun)
        scores.append(ndcg_at(list(dict.fromkeys(found)), qrels[str(query["_id"])], 10))
    return {"query p50 ms": 1000 * float(np.percentile(latencies, 50)), "nDCG@10": float(np.mean(scores))}


def ours(folder: Path, limit: int | None) -> dict[str, float]:
    """`rag eval FOLDER` with an empty evaluation directory, so it indexes everything itself with its defaults."""
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


def main(name: str, pipeline: Pipeline) -> None:
    """Run this service, then `pipeline`, on the folder given on the command line (TyDi's BEIR view by default)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path, nargs="?", default=TYDI)
    parser.add_argument("--limit", type=int, help="only the first N queries")
    args = parser.parse_args()
    print(f"{args.folder.name}; load {os.getloadavg()[0]:.1f}")
    for label, run in (("this service", ours), (name, pipeline)):
        result = run(args.folder, args.limit)
        print(label, " | ".join(f"{key} {value:.3f}" for key, value in result.items()))
