"""What the HTTP benches share: their questions, a real `rag serve` to ask, and the floor a question stands on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import IO

import httpx
import numpy as np

from rag.config import Settings
from rag.model.backends import backend_of
from rag.model.embedding import SentenceTransformerEmbedder

RAG = str(Path(sys.executable).with_name("rag"))
# About the bundled article and about the repeated TyDi passages of bench/scale.py, in both languages.
QUESTIONS = [
    "Siapa sutradara film Ballerina?",
    "Kapan Indonesia merdeka?",
    "Who plays Ok-ju?",
    "Siapa penemu benua Amerika?",
    "Apa genre film Ballerina?",
    "What is the capital of Indonesia?",
    "Kapan film Ballerina dirilis di Netflix?",
    "Berapa jumlah penduduk Jakarta?",
]


def question(n: int) -> str:
    return QUESTIONS[n % len(QUESTIONS)]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(index_dir: Path, *, log: IO[str] | None = None) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    """`rag serve` on `index_dir` (stderr to `log`), once it reports ready: (the process, its URL)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir)}
    server = subprocess.Popen(
        [RAG, "serve", "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log or subprocess.DEVNULL
    )
    try:
        while True:
            try:
                if httpx.get(f"{url}/health", timeout=1).json().get("ready"):
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None:
                raise SystemExit("rag serve exited")
            time.sleep(0.1)
        yield server, url
    finally:
        server.terminate()
        server.wait(timeout=60)


@cache
def _embedder(model: str) -> SentenceTransformerEmbedder:
    embedder = SentenceTransformerEmbedder.from_settings(Settings(), backend=backend_of(model))
    embedder.embed_queries(["warm-up"])
    return embedder


def bare_query_p50_ms(model: str, questions: int = 40) -> float:
    """The floor of a question: the server's model and backend (`model` as /health names it) embedding it
    alone, in this process (measured while the server is idle)."""
    embedder, seconds = _embedder(model), []
    for n in range(questions):
        started = time.perf_counter()
        embedder.embed_queries([question(n)])
        seconds.append(time.perf_counter() - started)
    return 1000 * float(np.percentile(seconds, 50))
