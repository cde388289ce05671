"""Indexing locally vs on a Ray cluster on the same machine: documents/s of each, and what starting the cluster costs.

Usage: python bench/cluster.py [--passages 1000] [--nodes 1] [--corpus CORPUS_JSONL]
The passages are TyDi's (../shared/data/external/tydiqa_goldp_id/derived/corpus.jsonl) repeated until there are
--passages of them, each copy under a title of its own ("Title (2)") so that no text is found in the vector cache.
Each path gets a fresh index directory (and so an empty cache) and runs `reindex` end to end: scan, chunk, embed
(model load included: the driver's for the local path, one per actor on the cluster), write, publish. The cluster
is --nodes nodes of ray.cluster_utils.Cluster sharing this machine's cores; its start (nodes up, driver joined) is
timed apart. Prints numbers, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from rag import RagEngine, Settings

if TYPE_CHECKING:
    from ray.cluster_utils import Cluster

CORPUS = Path(__file__).resolve().parents[2] / "shared/data/external/tydiqa_goldp_id/derived/corpus.jsonl"


def write_passages(corpus: Path, count: int, folder: Path) -> None:
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    folder.mkdir(parents=True)
    for n in range(count):
        row, copy = rows[n % len(rows)], n // len(rows) + 1
        title = row["title"] if copy == 1 else f"{row['title']} ({copy})"
        (folder / f"{n:05d}.md").write_text(f"# {title}\n\n{row['text']}\n", encoding="utf-8")


def index(folder: Path, index_dir: Path, *, cluster: str | None) -> tuple[float, int]:
    """Seconds of an end-to-end reindex of `folder` into a fresh index, and the texts it embedded."""
    engine = RagEngine.from_settings(Settings(index_dir=index_dir, ray_address=cluster))
    started = time.perf_counter()
    report = engine.reindex([folder], cluster=cluster is not None)
    return time.perf_counter() - started, report.texts_embedded


def start_cluster(nodes: int) -> tuple[Cluster, float]:
    """A cluster of `nodes` nodes sharing this machine's cores, with this process joined; and the seconds it took."""
    from ray.cluster_utils import Cluster

    from rag.indexing.cluster import connect

    cores = len(os.sched_getaffinity(0))
    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": max(1, cores // nodes)})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=max(1, cores // nodes))
    cluster.wait_for_nodes()
    connect(str(cluster.address))
    return cluster, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        root = Path(scratch)
        write_passages(args.corpus, args.passages, root / "passages")
        print(f"{args.passages} passages, {len(os.sched_getaffinity(0))} cores, load {os.getloadavg()[0]:.2f}")
        local_seconds, local_texts = index(root / "passages", root / "local", cluster=None)
        print(f"local:   {local_seconds:7.1f} s, {local_texts} texts, {args.passages / local_seconds:6.2f} documents/s")
        cluster, start_seconds = start_cluster(args.nodes)
        print(f"cluster start ({args.nodes} node(s), driver joined): {start_seconds:.1f} s")
        try:
            seconds, texts = index(root / "passages", root / "remote", cluster=str(cluster.address))
        finally:
            import ray

            ray.shutdown()
            cluster.shutdown()
        print(f"cluster: {seconds:7.1f} s, {texts} texts, {args.passages / seconds:6.2f} documents/s")
        print(f"cluster / local documents/s: {local_seconds / seconds:.2f}x (cluster start not included)")
        print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
