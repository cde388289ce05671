"""`POST /ask` over HTTP at concurrency 1 and 8, next to the bare query embedding of the same model.

Usage: python bench/http_ask.py [--index-dir DIR] [--questions 80] [--concurrency 1 8]

Starts `rag serve` on --index-dir (default: a fresh index of the bundled article) and sends the questions
from a separate load process (this script run with --load), one client per concurrency level. Prints, per
level: requests/s, p50 / p99 latency, errors, and the bare `encode_query` p50 of the server's model and
backend measured in this process while the server is idle. Numbers only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

from rag.backends import backend_of
from rag.config import Settings
from rag.embedding import SentenceTransformerEmbedder

RAG = str(Path(sys.executable).with_name("rag"))
QUESTIONS = [
    "Siapa sutradara film Ballerina?",
    "Who plays Ok-ju?",
    "Kapan film Ballerina dirilis di Netflix?",
    "Siapa pemeran Min-hee?",
    "What is the film about?",
    "Apa genre film Ballerina?",
    "Kapan Indonesia merdeka?",
    "What is the capital of Indonesia?",
]


async def _load(url: str, questions: int, concurrency: int) -> dict[str, object]:
    """Ask `questions` questions with `concurrency` in flight; latencies in seconds and the error count."""
    latencies: list[float] = []
    errors = 0
    pending = iter(range(questions))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for n in pending:
            started = time.perf_counter()
            response = await client.post(f"{url}/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]})
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=600) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "errors": errors}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _serve(index_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir)}
    server = subprocess.Popen([RAG, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    while True:
        try:
            if httpx.get(f"{url}/health", timeout=1).json().get("ready"):
                return server, url
        except httpx.HTTPError:
            pass
        if server.poll() is not None:
            raise SystemExit("rag serve exited")
        time.sleep(0.2)


def _bare_p50(model: str, questions: int) -> float:
    embedder = SentenceTransformerEmbedder.from_settings(Settings(), backend=backend_of(model))
    embedder.embed_queries(["warm-up"])
    seconds = []
    for n in range(questions):
        started = time.perf_counter()
        embedder.embed_queries([QUESTIONS[n % len(QUESTIONS)]])
        seconds.append(time.perf_counter() - started)
    return 1000 * float(np.percentile(seconds, 50))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--load", help="(internal) run as the load process against this URL")
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(args.load, args.questions, args.concurrency[0]))))
        return
    with tempfile.TemporaryDirectory() as scratch:
        server, url = _serve(args.index_dir or Path(scratch) / "index")
        try:
            health = httpx.get(f"{url}/health").json()
            print(f"{health['documents']:,} documents, {health['chunks']:,} chunks, model {health['model']}")
            bare = _bare_p50(health["model"], 40)
            print("concurrency | requests/s | p50 ms | p99 ms | errors | bare encode_query p50 ms")
            for concurrency in args.concurrency:
                load = subprocess.run(
                    [sys.executable, __file__, "--load", url, "--questions", str(args.questions)]
                    + ["--concurrency", str(concurrency)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                result = json.loads(load.stdout)
                latencies = np.array(result["latencies"]) * 1000
                print(
                    f"{concurrency} | {len(latencies) / result['seconds']:.1f} | {np.percentile(latencies, 50):.0f} | "
                    f"{np.percentile(latencies, 99):.0f} | {result['errors']} | {bare:.0f}"
                )
        finally:
            server.terminate()
            server.wait(timeout=60)


if __name__ == "__main__":
    main()
