"""Durable file writing: content reaches the disk before the name that makes it visible."""

from __future__ import annotations

import errno
import hashlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rag.errors import StorageFullError


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_file(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    """Replace `path` with `text` in one rename, after the bytes are on disk."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with temporary.open("w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    fsync_dir(path.parent)


@contextmanager
def disk_full_refused(directory: Path) -> Iterator[None]:
    """Turn a full disk while writing under `directory` into a StorageFullError (the writes are atomic, so the
    generation in service is untouched)."""
    try:
        yield
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
            raise
        raise StorageFullError(_full(directory, exc)) from exc
    except sqlite3.OperationalError as exc:
        if "full" not in str(exc):
            raise
        raise StorageFullError(_full(directory, exc)) from exc


def _full(directory: Path, exc: Exception) -> str:
    return f"the disk holding {directory} is full ({exc}); nothing was changed: free some space and retry"
