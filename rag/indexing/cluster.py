"""Embedding on a Ray cluster: the texts missing from the vector cache go to an actor pool, their vectors come back.

Only the embedding (the expensive part) runs on the cluster; the driver scans, chunks, writes the segment and
publishes as a local reindex does. Ray is imported inside functions only: without it nothing here is loaded.
"""

from __future__ import annotations

import importlib.util
import logging
import re
import socket
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from rag.errors import ClusterError
from rag.model.backends import backend_of, base_model
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.vector_cache import VectorCache, text_key

INSTALL = "pip install 'rag-cited[cluster]' on every node"
START = "start one with 'ray start --head' (and 'ray start --address=HEAD:6379' on the workers)"
# Rows per Ray Data batch: as many texts as the local path embeds between two cache writes.
ROWS_PER_BATCH = 64
# Seconds to wait for a cluster's address to accept a connection (ray.init itself retries for minutes).
PROBE_SECONDS = 5.0


class EmbedderActor:
    """A Ray Data callable class: each actor loads the model once, then embeds batches of (key, title, text)."""

    def __init__(self, model: str, model_dir: str, batch_size: int) -> None:
        self.embedder = SentenceTransformerEmbedder(
            base_model(model), model_dir=Path(model_dir), batch_size=batch_size, backend=backend_of(model)
        )
        if self.embedder.model_name != model:
            raise ClusterError(f"a worker makes {self.embedder.model_name} vectors, the index needs {model}")

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        titles = [str(t) for t in batch["title"]]
        vectors = self.embedder.embed_documents([str(t) for t in batch["text"]], titles=titles)
        return {"key": batch["key"], "vector": vectors}


@dataclass(frozen=True)
class ClusterEmbedding:
    """Fills the vector cache on a Ray cluster: one model load per actor, the index's own model and backend.

    Made by `join`, which connects first: a missing or unreachable cluster fails before anything is scanned.
    One actor per alive node with a CPU, as the onnx backends run one on every core of its node (onnxruntime sizes
    its pool to the cores the process may use). The torch backends follow OMP_NUM_THREADS, which Ray sets to the
    actor's one CPU: under them an actor uses one core.
    """

    model_dir: Path
    batch_size: int

    @classmethod
    def join(cls, address: str, *, model_dir: Path, batch_size: int) -> ClusterEmbedding:
        """Join the cluster at `address` (see `connect`), then embed there."""
        connect(address)
        return cls(model_dir, batch_size)

    def fill(
        self,
        cache: VectorCache,
        model: str,
        texts: Sequence[tuple[str, str]],
        *,
        on_batch: Callable[[int], object] | None = None,
    ) -> int:
        """Embed on the cluster the (title, text) pairs the cache lacks, store them, return how many there were."""
        keys = [text_key(text, title) for title, text in texts]
        known = cache.lookup(model, sorted(set(keys)))
        missing = {key: pair for key, pair in zip(keys, texts, strict=True) if key not in known}
        if not missing:
            return 0
        ray = _data()
        rows = [{"key": key, "title": title, "text": text} for key, (title, text) in missing.items()]
        # Sorted by length so that batches pad little, as the local path does.
        rows.sort(key=lambda row: len(row["text"]))
        blocks = -(-len(rows) // ROWS_PER_BATCH)
        nodes = [n for n in ray.nodes() if n["Alive"] and n["Resources"].get("CPU", 0) >= 1]
        # No more actors than batches: each actor loads the model, which only pays for itself over batches.
        actors = min(blocks, max(1, len(nodes)))
        # Ray Data spreads the actors over the nodes (its default scheduling strategy).
        dataset = ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            EmbedderActor,
            fn_constructor_kwargs={"model": model, "model_dir": str(self.model_dir), "batch_size": self.batch_size},
            batch_size=ROWS_PER_BATCH,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=1,
        )
        stored = 0
        try:
            for batch in dataset.iter_batches(batch_size=ROWS_PER_BATCH, batch_format="numpy"):
                # Stored as batches arrive: a job that fails later keeps the work done for the next run.
                vectors = np.asarray(batch["vector"], dtype=np.float32)
                cache.store(model, {str(key): vector for key, vector in zip(batch["key"], vectors, strict=True)})
                stored += len(vectors)
                if on_batch is not None:
                    on_batch(len(vectors))
        except ray.exceptions.RayError as exc:
            raise ClusterError(
                f"the embedding job on the cluster failed: {_cause(exc)}; the index is unchanged"
            ) from exc
        if stored != len(rows):
            raise ClusterError(f"the cluster returned {stored} vectors for {len(rows)} texts; the index is unchanged")
        return stored


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
