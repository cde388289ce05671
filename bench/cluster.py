"""Indexing locally vs on a Ray cluster on the same machine: documents/s of each, and what starting the cluster costs.

Usage: python bench/cluster.py [--passages 1000] [--nodes 1] [--corpus CORPUS_JSONL]
The passages are TyDi's (../shared/data/external/tydiqa_goldp_id/derived/corpus.jsonl) repeated until there are
--passages of them, each copy under a title of its own ("Title (2)") so that no text is found in the vector cache.
Each path gets a fresh index directory (and so an empty cache) and runs `reindex` end to end: scan, chunk, embed
(model load included: the driver's for the local path, one per actor on the cluster), write, publish. The cluster
is --nodes nodes of ray.cluster_utils.Cluster sharing this machine's cores; its start (nodes up, driver joined) is
timed apart. Then both indexes answer the same questions (TyDi's first --questions dev questions and the article's
dev set, the article being indexed beside the passages): the answers that differ, in text or in citations, and the
largest difference between their vectors. Also the driver's own share (reading, parsing and planning the files: a
dry run) and the throughput model: the cluster's documents/s per worker core. Prints numbers, never pass/fail.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag import RagEngine, Settings
from rag.evaluation.corpus_files import read_jsonl

if TYPE_CHECKING:
    from ray.cluster_utils import Cluster

SHARED = Path(__file__).resolve().parents[2] / "shared/data"
CORPUS = SHARED / "external/tydiqa_goldp_id/derived/corpus.jsonl"
ARTICLE = Path(__file__).resolve().parents[1] / "rag/data/ballerina_id.txt"


def write_passages(corpus: Path, count: int, folder: Path) -> None:
    rows = [json.loads(line) for line in corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    folder.mkdir(parents=True)
    for n in range(count):
        row, copy = rows[n % len(rows)], n // len(rows) + 1
        title = row["title"] if copy == 1 else f"{row['title']} ({copy})"
        (folder / f"{n:05d}.md").write_text(f"# {title}\n\n{row['text']}\n", encoding="utf-8")


def index(folder: Path, index_dir: Path, *, cluster: str | None) -> tuple[RagEngine, float, int]:
    """The engine after an end-to-end reindex of `folder` into a fresh index, its seconds and the texts it embedded."""
    engine = RagEngine.from_settings(Settings(index_dir=index_dir, ray_address=cluster))
    started = time.perf_counter()
    report = engine.reindex([folder], cluster=cluster is not None)
    return engine, time.perf_counter() - started, report.texts_embedded


def compare(local: RagEngine, remote: RagEngine, questions: list[str]) -> None:
    """How many answers differ between the two indexes, and how far apart their vectors are."""
    differ = 0
    for question in questions:
        mine, theirs = local.ask(question), remote.ask(question)
        cited = [[(c.doc_id, c.start, c.end) for c in a.citations] for a in (mine, theirs)]
        differ += mine.text != theirs.text or cited[0] != cited[1]
    generations = [engine.in_service().generation for engine in (local, remote)]
    gap = 0.0
    for kind in ("chunk_vectors", "sentence_vectors"):
        stacked = [np.vstack([getattr(p.segment, kind) for p in g.parts]) for g in generations]
        if stacked[0].shape != stacked[1].shape:
            raise SystemExit(f"the indexes hold different numbers of {kind}: {stacked[0].shape} vs {stacked[1].shape}")
        gap = max(gap, float(np.abs(stacked[0] - stacked[1]).max()))
    print(f"answers that differ local vs cluster: {differ} of {len(questions)}; largest vector difference {gap:.2e}")


def start_cluster(nodes: int, cpus_per_node: int) -> tuple[Cluster, float]:
    """A cluster of `nodes` nodes sharing this machine's cores, with this process joined; and the seconds it took."""
    from ray.cluster_utils import Cluster

    from rag.indexing.cluster import connect

    started = time.perf_counter()
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": cpus_per_node})
    for _ in range(nodes - 1):
        cluster.add_node(num_cpus=cpus_per_node)
    cluster.wait_for_nodes()
    connect(str(cluster.address))
    return cluster, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=1000)
    parser.add_argument("--nodes", type=int, default=1)
    parser.add_argument("--corpus", type=Path, default=CORPUS)
    parser.add_argument("--questions", type=int, default=200, help="TyDi dev questions asked of both indexes")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-cluster-") as scratch:
        root = Path(scratch)
        write_passages(args.corpus, args.passages, root / "passages")
        shutil.copy(ARTICLE, root / "passages" / ARTICLE.name)
        questions = [str(q["question"]) for q in read_jsonl(args.corpus.with_name("qa_dev.jsonl"))[: args.questions]]
        questions += [str(q["question"]) for q in read_jsonl(SHARED / "ballerina_qa_dev.jsonl")]
        cores = len(os.sched_getaffinity(0))
        print(f"{args.passages} passages, {cores} cores, load {os.getloadavg()[0]:.2f}")
        planner = RagEngine.from_settings(Settings(index_dir=root / "planned"))
        started = time.perf_counter()
        planned = planner.reindex([root / "passages"], dry_run=True)
        print(
            f"driver's share (read, parse, chunk and plan, a dry run): {time.perf_counter() - started:.2f} s "
            f"for {len(planned.added)} documents, {planned.texts_embedded} texts to embed"
        )
        local, local_seconds, local_texts = index(root / "passages", root / "local", cluster=None)
        print(f"local:   {local_seconds:7.1f} s, {local_texts} texts, {args.passages / local_seconds:6.2f} documents/s")
        cpus_per_node = max(1, cores // args.nodes)
        cluster, start_seconds = start_cluster(args.nodes, cpus_per_node)
        print(f"cluster start ({args.nodes} node(s), driver joined): {start_seconds:.1f} s")
        try:
            remote, seconds, texts = index(root / "passages", root / "remote", cluster=str(cluster.address))
        finally:
            import ray

            ray.shutdown()
            cluster.shutdown()
        print(f"cluster: {seconds:7.1f} s, {texts} texts, {args.passages / seconds:6.2f} documents/s")
        print(f"cluster / local documents/s: {local_seconds / seconds:.2f}x (cluster start not included)")
        workers = cpus_per_node * args.nodes
        per_core = args.passages / seconds / workers
        print(
            f"throughput model: {per_core:.2f} documents/s per worker core ({workers} cores), so N documents in H "
            f"hours need about N / ({per_core:.2f} x 3600 x H) worker cores"
        )
        compare(local, remote, questions)
        print(f"load {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
