"""`POST /ask` over HTTP at concurrency 1 and 8, next to the bare query embedding of the same model.

Usage: python bench/http_ask.py [--index-dir DIR | --url URL] [--questions 80] [--concurrency 1 8]

Starts `rag serve` on --index-dir (default: a fresh index of the bundled article) and sends the questions
from a separate load process (this script run with --load), one client per concurrency level. Prints, per
level: requests/s, p50 / p99 latency, errors, the server's own p50 (its request log: from the request's arrival
to the response, so without the client and the socket), and the bare `encode_query` p50 of the server's model
and backend measured in this process while the server is idle. Numbers only.

--url asks a server already running there instead (its own p50 is then not known), e.g. Ray Serve replicas:
`ray start --head --num-cpus 2; rag serve --cluster --replicas 2 --port 8001` then `--url http://127.0.0.1:8001`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import IO

import httpx
import numpy as np
from serving import bare_query_p50_ms, question, served

ASK_LOGGED = re.compile(r"POST /ask 200 ([\d.]+) ms")


def _server_ms(log: IO[str], skip: int) -> list[float]:
    """The durations the server logged for successful questions, after the first `skip` ones."""
    log.seek(0)
    return [float(ms) for ms in ASK_LOGGED.findall(log.read())][skip:]


async def _load(url: str, questions: int, concurrency: int) -> dict[str, object]:
    """Ask `questions` questions with `concurrency` in flight; latencies in seconds and the error count."""
    latencies: list[float] = []
    errors = 0
    pending = iter(range(questions))

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal errors
        for n in pending:
            started = time.perf_counter()
            response = await client.post(f"{url}/ask", json={"question": question(n)})
            latencies.append(time.perf_counter() - started)
            errors += response.status_code != 200

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=600) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return {"seconds": time.perf_counter() - started, "latencies": latencies, "errors": errors}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--index-dir", type=Path)
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--url", help="ask the server running at this URL instead of starting one")
    parser.add_argument("--load", help="(internal) run as the load process against this URL")
    args = parser.parse_args()
    if args.load:
        print(json.dumps(asyncio.run(_load(args.load, args.questions, args.concurrency[0]))))
        return
    with tempfile.TemporaryDirectory() as scratch, tempfile.TemporaryFile("w+") as log, ExitStack() as stack:
        url = args.url or stack.enter_context(served(args.index_dir or Path(scratch) / "index", log=log))[1]
        health = httpx.get(f"{url}/health").json()
        print(f"{health['documents']:,} documents, {health['chunks']:,} chunks, model {health['model']}")
        bare = bare_query_p50_ms(health["model"])
        print("concurrency | requests/s | p50 ms | p99 ms | errors | server's own p50 ms | bare encode_query p50 ms")
        for concurrency in args.concurrency:
            logged = len(_server_ms(log, 0))
            load = subprocess.run(
                [sys.executable, __file__, "--load", url, "--questions", str(args.questions)]
                + ["--concurrency", str(concurrency)],
                capture_output=True,
                text=True,
                check=True,
            )
            result = json.loads(load.stdout)
            latencies = np.array(result["latencies"]) * 1000
            own = _server_ms(log, logged)
            print(
                f"{concurrency} | {len(latencies) / result['seconds']:.1f} | {np.percentile(latencies, 50):.0f} | "
                f"{np.percentile(latencies, 99):.0f} | {result['errors']} | "
                f"{f'{np.percentile(own, 50):.0f}' if own else '-'} | {bare:.0f}"
            )


if __name__ == "__main__":
    main()
