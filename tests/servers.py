"""Helpers for tests that start real servers: a free port, and waiting until a server is ready."""

from __future__ import annotations

import socket
import subprocess
import time

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
