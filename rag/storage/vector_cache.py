"""A persistent cache of passage embeddings keyed by model and text hash, so unchanged text is never re-embedded."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from rag.model.embedding import Embedder, Vectors

SCHEMA = """
CREATE TABLE IF NOT EXISTS vectors (
    model TEXT NOT NULL,
    key TEXT NOT NULL,
    vector BLOB NOT NULL,
    PRIMARY KEY (model, key)
)
"""


def text_key(text: str, title: str = "") -> str:
    return hashlib.sha256(f"{title}\x00{text}".encode()).hexdigest()


class Cache(Protocol):
    """Vectors by model and text key: the persistent `VectorCache`, or a `MemoryCache` on a cluster's worker."""

    def lookup(self, model: str, keys: Sequence[str]) -> dict[str, Vectors]: ...

    def store(self, model: str, items: dict[str, Vectors]) -> None: ...


class MemoryCache:
    """The vectors a driver already holds for one job (a worker cannot share the driver's SQLite file: SQLite's
    WAL does not work over a network filesystem); what the worker embeds is kept in `fresh` to go back."""

    def __init__(self, known: dict[str, Vectors]) -> None:
        self.known = dict(known)
        self.fresh: dict[str, Vectors] = {}

    def lookup(self, model: str, keys: Sequence[str]) -> dict[str, Vectors]:
        return {key: self.known[key] for key in keys if key in self.known}

    def store(self, model: str, items: dict[str, Vectors]) -> None:
        self.known.update(items)
        self.fresh.update(items)


class VectorCache:
    """SQLite table of float32 vectors; safe to share between processes (WAL, short transactions)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=30)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute(SCHEMA)
        return connection

    def lookup(self, model: str, keys: Sequence[str]) -> dict[str, Vectors]:
        found: dict[str, Vectors] = {}
        connection = self._connect()
        try:
            for offset in range(0, len(keys), 500):
                batch = list(keys[offset : offset + 500])
                marks = ",".join("?" * len(batch))
                rows = connection.execute(
                    f"SELECT key, vector FROM vectors WHERE model = ? AND key IN ({marks})", [model, *batch]
                )
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        finally:
            connection.close()
        return found

    def store(self, model: str, items: dict[str, Vectors]) -> None:
        connection = self._connect()
        try:
            with connection:
                connection.executemany(
                    "INSERT OR REPLACE INTO vectors (model, key, vector) VALUES (?, ?, ?)",
                    [(model, key, np.asarray(v, dtype=np.float32).tobytes()) for key, v in items.items()],
                )
        finally:
            connection.close()


def embed_with_cache(
    embedder: Embedder,
    cache: Cache,
    texts: Sequence[tuple[str, str]],
    *,
    batch: int = 64,
    on_batch: Callable[[int], object] | None = None,
) -> tuple[Vectors, int]:
    """Embed (title, passage) pairs, reusing cached vectors; returns the vectors and how many were embedded."""
    keys = [text_key(text, title) for title, text in texts]
    known = cache.lookup(embedder.model_name, keys)
    pending: dict[str, tuple[str, str]] = {}
    for key, pair in zip(keys, texts, strict=True):
        if key not in known:
            pending[key] = pair
    # Sorted by length so that batches pad little.
    missing = sorted(pending.items(), key=lambda item: len(item[1][1]))
    for offset in range(0, len(missing), batch):
        part = missing[offset : offset + batch]
        vectors = embedder.embed_documents([p[1] for _, p in part], titles=[p[0] for _, p in part])
        fresh = {key: vectors[i] for i, (key, _) in enumerate(part)}
        # Stored per batch: a crash keeps the work done so far for the next run.
        cache.store(embedder.model_name, fresh)
        known.update(fresh)
        if on_batch is not None:
            on_batch(len(part))
    if not texts:
        return np.zeros((0, embedder.dimension), dtype=np.float32), 0
    return np.vstack([known[k] for k in keys]).astype(np.float32), len(missing)
