"""Helpers for tests that start real servers: a free port, waiting until ready, `rag serve` as a process."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import httpx


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise AssertionError(f"server exited with {server.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).json().get("ready"):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)  # polling a starting process, not asserting on time
    raise AssertionError("server did not become ready")


RAG = str(Path(sys.executable).with_name("rag"))


@contextmanager
def rag_serve(env: dict[str, str], *, output: IO[Any] | int = subprocess.DEVNULL) -> Iterator[str]:
    """`rag serve` on a free loopback port in its own process; yields its URL once ready, stops it after."""
    port = free_port()
    server = subprocess.Popen([RAG, "serve", "--port", str(port)], env=env, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(url, server)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
