"""A bounded burst of questions against a running server, with a share of hostile and abandoned requests.

Run as its own process: `python tests/loadgen.py URL --questions N --concurrency C --key K`; prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import time
from collections import Counter
from typing import Any

import httpx

QUESTIONS = [
    "Siapa sutradara film Ballerina?",
    "Who plays Ok-ju?",
    "Kapan film Ballerina dirilis di Netflix?",
    "Siapa pemeran Min-hee?",
    "What is the film about?",
    "Siapa produser film Ballerina?",
    "Berapa tinggi Gunung Bromo?",
    "Apa genre film Ballerina?",
]
# Every HOSTILE_EVERY-th request is malformed (must get a 4xx); every ABANDON_EVERY-th is dropped by the client.
HOSTILE_EVERY = 10
ABANDON_EVERY = 25
HOSTILE: list[dict[str, Any]] = [
    {"json": {"question": ""}},
    {"content": b'{"question": ', "headers": {"content-type": "application/json"}},
    {"json": {"question": "x" * 5000}},
    {"json": {"question": 42, "top_k": "many"}},
]


async def _one(client: httpx.AsyncClient, n: int, stats: dict[str, Any]) -> None:
    try:
        if n % ABANDON_EVERY == ABANDON_EVERY - 1:
            stats["abandoned"] += 1
            with contextlib.suppress(httpx.TimeoutException):
                await client.post("/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]}, timeout=0.005)
            return
        if n % HOSTILE_EVERY == HOSTILE_EVERY - 1:
            stats["hostile"] += 1
            response = await client.post("/ask", **HOSTILE[n // HOSTILE_EVERY % len(HOSTILE)])
            stats["statuses"][response.status_code] += 1
            if not 400 <= response.status_code < 500:
                stats["unexpected"].append(f"hostile request got {response.status_code}")
            return
        started = time.perf_counter()
        response = await client.post("/ask", json={"question": QUESTIONS[n % len(QUESTIONS)]})
        stats["latencies"].append(time.perf_counter() - started)
        stats["statuses"][response.status_code] += 1
        if response.status_code == 200:
            stats["generations"].add(response.json()["index"]["generation"])
        else:
            stats["unexpected"].append(f"question got {response.status_code}: {response.text[:200]}")
    except httpx.TransportError as exc:
        stats["connection_errors"] += 1
        stats["unexpected"].append(f"{type(exc).__name__}: {exc}")


async def run(url: str, questions: int, concurrency: int, key: str | None) -> dict[str, Any]:
    stats: dict[str, Any] = {
        "statuses": Counter(),
        "generations": set(),
        "latencies": [],
        "connection_errors": 0,
        "hostile": 0,
        "abandoned": 0,
        "unexpected": [],
    }
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    limits = httpx.Limits(max_connections=concurrency)
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(questions):
        queue.put_nowait(n)

    async def worker(client: httpx.AsyncClient) -> None:
        while not queue.empty():
            await _one(client, queue.get_nowait(), stats)

    started = time.perf_counter()
    async with httpx.AsyncClient(base_url=url, headers=headers, limits=limits, timeout=120) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies = sorted(stats["latencies"])
    return {
        "requests": questions,
        "concurrency": concurrency,
        "seconds": round(elapsed, 1),
        "statuses": {str(k): v for k, v in sorted(stats["statuses"].items())},
        "server_errors": sum(v for k, v in stats["statuses"].items() if k >= 500),
        "connection_errors": stats["connection_errors"],
        "hostile": stats["hostile"],
        "abandoned": stats["abandoned"],
        "generations": sorted(stats["generations"]),
        "p50_ms": round(1000 * latencies[len(latencies) // 2]) if latencies else None,
        "p99_ms": round(1000 * latencies[int(len(latencies) * 0.99)]) if latencies else None,
        "unexpected": stats["unexpected"][:20],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--key")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args.url, args.questions, args.concurrency, args.key))))


if __name__ == "__main__":
    main()
