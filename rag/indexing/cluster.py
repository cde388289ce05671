"""Indexing on a Ray cluster: the documents with texts missing from the vector cache go to a pool of actors, each
of which chunks, embeds and writes segments into the shared index directory; the driver checks them and publishes.

The driver scans, diffs and plans as a local reindex does, sends each group of documents with the vectors the
cache already holds for it, stores the new vectors the workers send back in the cache, verifies every segment
against its digest and publishes the generation (one writer, the usual commit protocol). Ray is imported inside
functions only: without it nothing here is loaded.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import pickle
import re
import shutil
import socket
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
from tqdm import tqdm

from rag.errors import ClusterError, IndexCorruptError
from rag.indexing.segment_builder import Plan, SegmentBuilder
from rag.model.backends import backend_of, base_model
from rag.model.embedding import SentenceTransformerEmbedder, Vectors
from rag.reading.chunking import Chunker
from rag.storage.entries import SegmentEntry
from rag.storage.segments import StoredDocument, verify_segment
from rag.storage.store import IndexStore
from rag.storage.vector_cache import MemoryCache

INSTALL = "pip install 'rag-cited[cluster]' on every node"
START = "start one with 'ray start --head' (and 'ray start --address=HEAD:6379' on the workers)"
# Texts to embed per segment a worker writes: about a minute of one core's embedding, long enough that a job
# pays for its scheduling and short enough that progress moves and a retried job loses little.
TEXTS_PER_SEGMENT = 2000
# Seconds to wait for a cluster's address to accept a connection (ray.init itself retries for minutes).
PROBE_SECONDS = 5.0


class SegmentWriter:
    """A Ray Data callable class: each actor loads the model once, then turns each job (a group of documents and
    the cached vectors of their texts) into one segment written under the index directory."""

    def __init__(
        self, model: str, model_dir: str, batch_size: int, root: str, graph_min_rows: int, recipe: str
    ) -> None:
        self.embedder = SentenceTransformerEmbedder(
            base_model(model), model_dir=Path(model_dir), batch_size=batch_size, backend=backend_of(model)
        )
        if self.embedder.model_name != model:
            raise ClusterError(f"a worker makes {self.embedder.model_name} vectors, the index needs {model}")
        self.store = IndexStore(Path(root), graph_min_rows=graph_min_rows)
        self.recipe: dict[str, Any] = json.loads(recipe)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        entries, fresh = [], []
        for job in batch["job"]:
            documents, known = pickle.loads(job)
            cache = MemoryCache(known)
            recipe = self.recipe
            builder = SegmentBuilder(
                self.embedder,
                cache,
                Chunker(size=recipe["size"], overlap=recipe["overlap"]),
                sentences=recipe["sentences"],
                untitled=recipe["untitled"],
                chunk_vectors=recipe["chunk_vectors"],
            )
            content, _ = builder.build(builder.plan(documents), progress=False)
            entry = self.store.add_segment(content, model=self.embedder.model_name)
            entries.append(json.dumps(entry.to_json()))
            fresh.append(pickle.dumps(cache.fresh))
        return {
            "group": batch["group"],
            "entry": np.array(entries, dtype=object),
            "fresh": np.array(fresh, dtype=object),
        }


@dataclass(frozen=True)
class ClusterWriter:
    """Writes the segments of a reindex on a Ray cluster: one model load per actor, the index's own model and backend.

    Made by `join`, which connects first: a missing or unreachable cluster fails before anything is scanned.
    One actor per alive node with a CPU, as the onnx backends run texts on every core of its node at once (one
    call per core the process may use: rag.model.onnx_encoder). The torch backends follow OMP_NUM_THREADS, which
    Ray sets to the actor's one CPU: under them an actor uses one core.
    """

    model_dir: Path
    batch_size: int

    @classmethod
    def join(cls, address: str, *, model_dir: Path, batch_size: int) -> ClusterWriter:
        """Join the cluster at `address` (see `connect`), then index there."""
        connect(address)
        return cls(model_dir, batch_size)

    def write(
        self, store: IndexStore, builder: SegmentBuilder, plan: Plan, *, progress: bool
    ) -> tuple[list[SegmentEntry], int]:
        """The planned documents as segments written by the cluster and verified here, and how many texts the
        workers embedded. A failed job leaves no segment listed anywhere (those it wrote go at the next prune)."""
        model = builder.embedder.model_name
        keys = plan.keys_by_document()
        known = builder.cache.lookup(model, sorted({k for own in keys.values() for k in own}))
        missing = {doc: {k for k in own if k not in known} for doc, own in keys.items()}
        ray = _data()
        nodes = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
        groups = _groups(plan.documents, {doc: len(own) for doc, own in missing.items()}, at_least=len(nodes))
        rows = []
        for n, group in enumerate(groups):
            held = {k: known[k] for d in group for k in keys.get(d.document.id, []) if k in known}
            rows.append({"group": n, "job": pickle.dumps((group, held))})
        recipe = {
            "size": builder.chunker.size,
            "overlap": builder.chunker.overlap,
            "sentences": builder.sentences,
            "untitled": builder.untitled,
            "chunk_vectors": builder.chunk_vectors,
        }
        dataset = ray.data.from_items(rows, override_num_blocks=len(rows)).map_batches(
            SegmentWriter,
            fn_constructor_kwargs={
                "model": model,
                "model_dir": str(self.model_dir),
                "batch_size": self.batch_size,
                "root": str(store.root),
                "graph_min_rows": store.graph_min_rows,
                "recipe": json.dumps(recipe),
            },
            batch_size=1,
            batch_format="numpy",
            # No more actors than groups: each actor loads the model, which only pays for itself over a job.
            compute=ray.data.ActorPoolStrategy(size=min(len(rows), max(1, len(nodes)))),
            num_cpus=1,
        )
        written: dict[int, SegmentEntry] = {}
        fresh: dict[str, Vectors] = {}
        pending = len(set().union(*missing.values()))
        try:
            with tqdm(total=pending, desc="embedding", unit="text", disable=not progress or not pending) as bar:
                for batch in dataset.iter_batches(batch_size=1, batch_format="numpy"):
                    for group, entry, vectors in zip(batch["group"], batch["entry"], batch["fresh"], strict=True):
                        new = pickle.loads(vectors)
                        # Stored as jobs finish: a job that fails later keeps the work done for the next run.
                        builder.cache.store(model, new)
                        fresh.update(new)
                        written[int(group)] = SegmentEntry.from_json(json.loads(entry))
                        bar.update(len(new))
            if sorted(written) != list(range(len(groups))):
                raise IndexCorruptError(f"the cluster wrote {len(written)} of {len(groups)} segments")
            for n, group in enumerate(groups):
                _check(store, written[n], group, model)
        except (ray.exceptions.RayError, IndexCorruptError) as exc:
            for entry in written.values():
                shutil.rmtree(store.segments_dir / entry.name, ignore_errors=True)
            cause = _cause(exc) if isinstance(exc, ray.exceptions.RayError) else str(exc)
            raise ClusterError(f"the indexing job on the cluster failed: {cause}; the index is unchanged") from exc
        return [written[n] for n in range(len(groups))], len(fresh)


def _groups(
    documents: Sequence[StoredDocument], pending: dict[str, int], *, at_least: int
) -> list[list[StoredDocument]]:
    """Documents (in id order) cut into consecutive groups of about TEXTS_PER_SEGMENT texts to embed each, and
    into at least `at_least` groups (one per node) where there are documents enough."""
    total = sum(pending.values())
    count = min(len(documents), max(1, at_least, -(-total // TEXTS_PER_SEGMENT)))
    groups: list[list[StoredDocument]] = [[]]
    filled = 0
    for stored in documents:
        if filled >= total * len(groups) / count and len(groups) < count:
            groups.append([])
        groups[-1].append(stored)
        filled += pending.get(stored.document.id, 0)
    return groups


def _check(store: IndexStore, entry: SegmentEntry, group: Sequence[StoredDocument], model: str) -> None:
    """A worker's segment is what the driver asked for: intact (every file against its digest), the right model
    and the group's documents."""
    manifest = verify_segment(store.segments_dir / entry.name, entry.digest)
    if manifest.get("model") != model or manifest.get("counts", {}).get("documents") != len(group):
        raise IndexCorruptError(f"segment {entry.name} written on the cluster is not the one asked for")


def connect(address: str) -> None:
    """Join this process to the Ray cluster at `address`: its head's 'HOST:PORT', or 'auto' (the cluster that
    `ray start` began on this machine). A process joins once; later calls keep that connection."""
    if importlib.util.find_spec("ray") is None:
        raise ClusterError(f"Ray is not installed: {INSTALL}, then {START}")
    import ray

    if ray.is_initialized():
        return
    _probe(address)
    try:
        ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
    except ConnectionError as exc:
        raise ClusterError(f"no Ray cluster found at {address!r}: {START}") from exc


def _cause(exc: Exception) -> str:
    """The error a worker raised (the first 'SomeError: message' line of Ray's report), else Ray's first line."""
    found = re.findall(r"^[\w.]*(?:Error|Exception): (.+)$", str(exc), flags=re.MULTILINE)
    return found[0] if found else str(exc).strip().splitlines()[0]


def _probe(address: str) -> None:
    """Refuse an address nothing listens on now: ray.init would retry it for minutes."""
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit():
        return  # 'auto' (or a ray:// address), which ray resolves and refuses quickly itself
    try:
        socket.create_connection((host, int(port)), timeout=PROBE_SECONDS).close()
    except OSError as exc:
        raise ClusterError(f"no Ray cluster answers at {address} ({exc.strerror or exc}): {START}") from exc


def _data() -> ModuleType:
    """The ray module with Ray Data set up quietly (the reindex draws its own progress bar)."""
    import ray
    import ray.data

    with warnings.catch_warnings():
        # Ray 2.60's DataContext sets fields it has itself deprecated (use_push_based_shuffle, use_polars...).
        warnings.simplefilter("ignore", DeprecationWarning)
        context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    # A failed job comes back as a ClusterError: Ray Data need not log it as well.
    logging.getLogger("ray.data").setLevel(logging.CRITICAL)
    return ray
