"""Indexing throughput through `rag reindex FOLDER`, next to the bare model's `encode_document` throughput.

Usage: python bench/indexing.py [CORPUS.jsonl] [--passages 100] [--backends torch torch-bf16]
       [--chunk-vectors embedded sentences]

Writes the first --passages passages as Markdown files (`# title` heading), then for every backend and way
of making chunk vectors runs `rag reindex FOLDER` as a subprocess into a fresh index with an empty vector
cache, and prints documents/s end to end (model load included, as a user waits for it) and the texts it
embedded. In the same run, for every backend, the bare model embeds the same passages whole, once each,
with `encode_document` (model already loaded): the floor an indexer is compared with. Configurations are
taken in turn, so that other load on a shared machine spreads over all of them. Prints numbers only.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from rag.config import Settings
from rag.model.embedding import SentenceTransformerEmbedder

RAG = str(Path(sys.executable).with_name("rag"))
TYDI = Path(__file__).resolve().parents[2] / "shared" / "data" / "external" / "tydiqa_goldp_id" / "derived"


def _write_folder(folder: Path, rows: list[dict[str, str]]) -> None:
    folder.mkdir(parents=True)
    for n, row in enumerate(rows):
        (folder / f"p{n:05d}.md").write_text(f"# {row['title']}\n\n{row['text']}\n", encoding="utf-8")


def _reindex(folder: Path, work: Path, backend: str, chunk_vectors: str) -> tuple[float, int]:
    """Seconds for `rag reindex FOLDER` into a fresh index and empty cache, and the texts it embedded."""
    index_dir = Path(tempfile.mkdtemp(dir=work))
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir), "RAG_EMBEDDING_BACKEND": backend}
    env["RAG_CHUNK_VECTORS"] = chunk_vectors
    started = time.perf_counter()
    result = subprocess.run([RAG, "reindex", str(folder)], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise SystemExit(f"rag reindex failed: {result.stderr[-2000:]}")
    embedded = re.search(r"(\d+) texts embedded", result.stdout)
    return seconds, int(embedded.group(1)) if embedded else -1


def _bare(rows: list[dict[str, str]], backend: str) -> float:
    """Passages per second of the bare model embedding each passage whole (after loading)."""
    embedder = SentenceTransformerEmbedder.from_settings(Settings(embedding_backend=backend))
    embedder.embed_documents(["warm-up"], titles=["none"])
    started = time.perf_counter()
    embedder.embed_documents([r["text"] for r in rows], titles=[r["title"] for r in rows])
    return len(rows) / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path, nargs="?", default=TYDI / "corpus.jsonl")
    parser.add_argument("--passages", type=int, default=100)
    parser.add_argument("--backends", nargs="+", default=["torch", "torch-bf16"])
    parser.add_argument("--chunk-vectors", nargs="+", default=["embedded", "sentences"])
    args = parser.parse_args()
    lines = args.corpus.read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines if line][: args.passages]
    print(f"{len(rows)} passages, {sum(len(r['text']) for r in rows):,} characters; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        folder = work / "passages"
        _write_folder(folder, rows)
        print("backend | chunk vectors | rag reindex s | texts embedded | documents/s | bare encode_document docs/s")
        for backend in args.backends:
            bare = _bare(rows, backend)
            for chunk_vectors in args.chunk_vectors:
                seconds, embedded = _reindex(folder, work, backend, chunk_vectors)
                print(
                    f"{backend} | {chunk_vectors} | {seconds:.1f} | {embedded} | {len(rows) / seconds:.2f} | {bare:.2f}"
                )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
