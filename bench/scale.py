"""How the cost of one change grows with the collection: prints one row per collection size.

Usage: python bench/scale.py CORPUS.jsonl [--sizes 1000 10000 50000] [--questions N] [--work DIR]
       [--cache embeddings.sqlite] [--write-rounds 5]

Builds folders of N untitled .txt files by repeating the corpus's passages (a copy differs only in its
file name, so every vector comes from the embedding cache after the first size), then measures through
the paths users take: `rag reindex FOLDER` as a subprocess, `rag serve` as a subprocess and HTTP from
this process. For each size it prints the first index time, one-file add / change / delete through the
CLI (twice: "+embed" when the new text is embedded, then again with its vectors cached) and one-document
add / change / delete through HTTP ("+embed" once, then --write-rounds rounds cached: the median of each),
question latency while the cached HTTP writes run (max and p99, and how many questions) next to the idle
p99, server start to ready (and the index load and model load within it, as `rag serve` reports them),
the bare query embedding p50 of the server's model and backend (in this process, while the server is
idle), the server's peak RSS and the index size on disk.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import threading
import time
from collections.abc import Callable
from math import nan
from pathlib import Path

import httpx
import numpy as np
from serving import RAG, bare_query_p50_ms, question, served

COUNTS = ("documents", "questions during writes")


def _timed(*args: str, env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run([RAG, *args], env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"rag {' '.join(args)} failed: {result.stderr[-2000:]}")
    return time.perf_counter() - started


def _build_folder(folder: Path, passages: list[str], size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for n in range(size):
        path = folder / f"doc{n:06d}.txt"
        if not path.exists():
            path.write_text(passages[n % len(passages)] + "\n", encoding="utf-8")


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _disk_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def _ask_loop(url: str, stop: threading.Event, latencies: list[float]) -> None:
    with httpx.Client(timeout=600) as client:
        n = 0
        while not stop.is_set():
            started = time.perf_counter()
            client.post(f"{url}/ask", json={"question": question(n)}).raise_for_status()
            latencies.append(time.perf_counter() - started)
            n += 1


def _during(url: str, write: Callable[[], object]) -> tuple[float, list[float]]:
    """Run `write` while another thread asks questions; the write's duration and the latencies seen."""
    stop, latencies = threading.Event(), list[float]()
    asker = threading.Thread(target=_ask_loop, args=(url, stop, latencies))
    asker.start()
    time.sleep(0.5)
    started = time.perf_counter()
    write()
    seconds = time.perf_counter() - started
    time.sleep(0.5)
    stop.set()
    asker.join()
    return seconds, latencies


def measure(
    size: int, passages: list[str], work: Path, cache: Path | None, questions: int, write_rounds: int
) -> dict[str, float]:
    folder, index_dir = work / f"docs-{size}" / "notes", work / f"index-{size}"
    _build_folder(folder, passages, size)
    index_dir.mkdir(parents=True, exist_ok=True)
    if cache is not None and not (index_dir / "embeddings.sqlite").exists():
        (index_dir / "embeddings.sqlite").write_bytes(cache.read_bytes())
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir)}
    row: dict[str, float] = {"documents": size}
    row["first index s"] = _timed("reindex", str(folder), env=env)
    extra = folder / "extra.txt"
    # Twice: the first round embeds the new texts (and loads the model), the second finds them cached. The
    # texts name this run, so that no earlier run has left their vectors in the cache.
    run = time.strftime("%Y-%m-%d %H:%M:%S")
    for suffix in (" +embed", ""):
        extra.write_text(f"Tari Saman berasal dari suku Gayo di Aceh (catatan {run}).\n", encoding="utf-8")
        row[f"cli add{suffix} s"] = _timed("reindex", str(folder), env=env)
        extra.write_text(f"Tari Saman berasal dari suku Gayo di Provinsi Aceh (catatan {run}).\n", encoding="utf-8")
        row[f"cli change{suffix} s"] = _timed("reindex", str(folder), env=env)
        extra.unlink()
        row[f"cli delete{suffix} s"] = _timed("reindex", str(folder), env=env)

    started = time.perf_counter()
    log = work / f"serve-{size}.log"
    with log.open("w") as stderr, served(index_dir, log=stderr) as (server, url):
        row["serve ready s"] = time.perf_counter() - started
        # What 'rag serve' reports of its start: the index load next to the model load.
        loads = re.search(r"index loaded in ([\d.]+) s, model in ([\d.]+) s", log.read_text())
        row["serve index load s"], row["serve model load s"] = map(float, loads.groups()) if loads else (nan, nan)
        idle = []
        with httpx.Client(timeout=600) as client:
            for n in range(questions):
                begun = time.perf_counter()
                client.post(f"{url}/ask", json={"question": question(n)}).raise_for_status()
                idle.append(time.perf_counter() - begun)
        row["idle p50 ms"] = 1000 * float(np.percentile(idle, 50))
        row["idle p99 ms"] = 1000 * float(np.percentile(idle, 99))
        row["bare query embed p50 ms"] = bare_query_p50_ms(httpx.get(f"{url}/health").json()["model"], questions)
        texts = [f"Candi Borobudur dibangun pada abad ke-9 di Magelang ({run}).", f"Candi Borobudur abad ke-9 ({run})."]

        def add() -> None:
            httpx.post(f"{url}/documents", json={"id": "memo-1", "text": texts[0]}, timeout=600).raise_for_status()

        def change() -> None:
            httpx.post(f"{url}/documents", json={"id": "memo-1", "text": texts[1]}, timeout=600).raise_for_status()

        def delete() -> None:
            httpx.delete(f"{url}/documents/memo-1", timeout=600).raise_for_status()

        writes = (("add", add), ("change", change), ("delete", delete))
        for name, write in writes:
            row[f"http {name} +embed s"], _ = _during(url, write)
        # Cached writes in several rounds, so that the p99 of the questions asked meanwhile rests on a few
        # hundred of them rather than on the slowest of a few dozen; each write's time is its median.
        during: list[float] = []
        spent: dict[str, list[float]] = {name: [] for name, _ in writes}
        for _ in range(write_rounds):
            for name, write in writes:
                seconds, seen = _during(url, write)
                spent[name].append(seconds)
                during += seen
        for name, seconds in spent.items():
            row[f"http {name} s"] = float(np.median(seconds))
        row["questions during writes"] = len(during)
        row["during write max ms"] = 1000 * max(during)
        row["during write p99 ms"] = 1000 * float(np.percentile(during, 99))
        row["server peak RSS MB"] = _peak_rss_mb(server.pid)
    row["disk MB"] = _disk_mb(index_dir / "generations") + _disk_mb(index_dir / "segments")
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("corpus", type=Path, help="a corpus.jsonl whose passages are repeated")
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000, 50000])
    parser.add_argument("--questions", type=int, default=40, help="idle questions per size")
    parser.add_argument("--work", type=Path, default=Path("/tmp/rag-scale"))
    parser.add_argument("--cache", type=Path, help="an embeddings.sqlite to start each index's cache from")
    parser.add_argument("--write-rounds", type=int, default=5, help="rounds of cached HTTP add/change/delete")
    args = parser.parse_args()
    passages = [json.loads(line)["text"] for line in args.corpus.read_text(encoding="utf-8").splitlines() if line]
    rows = [measure(size, passages, args.work, args.cache, args.questions, args.write_rounds) for size in args.sizes]
    names = list(rows[0])
    print(" | ".join(names))
    for row in rows:
        print(" | ".join(f"{row[n]:,.0f}" if n in COUNTS else f"{row[n]:.2f}" for n in names))
    print(f"bench process peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
