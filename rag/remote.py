"""The CLI's way to a running `rag serve`: the file a server leaves in its index directory, and a small client."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from rag.errors import ServerError

SERVER_FILE = "server.json"
# Nothing listening fails at once; a host that drops packets should not hold a question up for long.
CONNECT_TIMEOUT = 0.5
# A question can wait while the server loads a new generation; answers themselves take well under a second.
READ_TIMEOUT = 300.0
LOOPBACK = ("127.0.0.1", "localhost", "::1")


def local_url(host: str, port: int) -> str:
    """The address a client on this machine uses for a server listening on host:port."""
    if host in ("0.0.0.0", ""):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


@contextlib.contextmanager
def advertised(index_dir: Path, url: str) -> Iterator[Path | None]:
    """Record in the index directory that a server for it listens at `url`, for as long as the block runs.

    Yields the record's path, or None when the directory cannot be written (the server still serves;
    commands then load the model themselves unless RAG_URL names it).
    """
    path = index_dir / SERVER_FILE
    record = {"url": url, "pid": os.getpid()}
    partial = path.with_name(f".{SERVER_FILE}.{os.getpid()}")
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        partial.write_text(json.dumps(record), encoding="utf-8")
        partial.replace(path)
    except OSError:
        yield None
        return
    try:
        yield path
    finally:
        # Another server may have started on the same index since; its record stays.
        with contextlib.suppress(OSError, ValueError):
            if json.loads(path.read_text(encoding="utf-8")).get("pid") == os.getpid():
                path.unlink()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def advertised_url(index_dir: Path) -> str | None:
    """The address recorded by a server of this index that is still running, if any."""
    try:
        record = json.loads((index_dir / SERVER_FILE).read_text(encoding="utf-8"))
        url, pid = str(record["url"]), int(record["pid"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return url if _alive(pid) else None


class Server:
    """A running rag server, asked the same questions the engine answers; replies are the API's JSON."""

    def __init__(self, url: str, *, key: str | None = None) -> None:
        self.url = url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"} if key else {}

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """The JSON answer of `POST path`, or None when nothing listens at the address."""
        parts = urlsplit(self.url)
        # A server on this machine over plain http (what 'rag serve' records) is asked with the standard library:
        # httpx and its transport cost 95 ms of a 370 ms `rag ask`. Anything else goes through httpx, which
        # honours the environment's proxies (never for loopback) and TLS.
        if parts.scheme == "http" and parts.hostname in LOOPBACK:
            reply = self._post_loopback(parts.hostname, parts.port or 80, path, body)
        else:
            reply = self._post_httpx(path, body)
        if reply is None:
            return None
        status, raw = reply
        try:
            payload = json.loads(raw)
        except ValueError as exc:
            raise ServerError(
                f"{self.url} answered with status {status} but not in JSON; is it a rag server? Check RAG_URL, "
                "or pass --local"
            ) from exc
        if status >= 400:
            error = payload.get("error", {}) if isinstance(payload, dict) else {}
            raise ServerError(str(error.get("message") or f"the server answered with status {status}"))
        if not isinstance(payload, dict):
            raise ServerError(f"{self.url} answered with unexpected JSON; is it a rag server? pass --local")
        return payload

    def _post_loopback(self, host: str, port: int, path: str, body: dict[str, Any]) -> tuple[int, bytes] | None:
        connection = http.client.HTTPConnection(host, port, timeout=CONNECT_TIMEOUT)
        try:
            connection.connect()
        except OSError:
            return None
        try:
            connection.sock.settimeout(READ_TIMEOUT)
            headers = {**self._headers, "Content-Type": "application/json"}
            connection.request("POST", path, body=json.dumps(body).encode("utf-8"), headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise ServerError(f"the rag server at {self.url} did not answer ({exc}); retry, or pass --local") from exc
        finally:
            connection.close()

    def _post_httpx(self, path: str, body: dict[str, Any]) -> tuple[int, bytes] | None:
        import httpx

        timeout = httpx.Timeout(READ_TIMEOUT, connect=CONNECT_TIMEOUT)
        try:
            response = httpx.post(f"{self.url}{path}", json=body, headers=self._headers, timeout=timeout)
        except (httpx.ConnectError, httpx.ConnectTimeout):
            return None
        except httpx.HTTPError as exc:
            raise ServerError(f"the rag server at {self.url} did not answer ({exc}); retry, or pass --local") from exc
        return response.status_code, response.content
