"""The record a server leaves in its index directory, and the client's view of addresses."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from rag.errors import ServerError
from rag.remote import SERVER_FILE, Server, advertised, advertised_url, local_url


def test_the_record_exists_while_the_server_runs_and_goes_with_it(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    with advertised(index_dir, "http://127.0.0.1:8123") as path:
        assert path is not None and path == index_dir / SERVER_FILE
        assert json.loads(path.read_text()) == {"url": "http://127.0.0.1:8123", "pid": os.getpid()}
        assert advertised_url(index_dir) == "http://127.0.0.1:8123"
    assert not path.exists()
    assert advertised_url(index_dir) is None


def test_a_record_left_by_a_dead_process_is_ignored(tmp_path: Path) -> None:
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (tmp_path / SERVER_FILE).write_text(json.dumps({"url": "http://127.0.0.1:9", "pid": int(finished.stdout)}))
    assert advertised_url(tmp_path) is None
    (tmp_path / SERVER_FILE).write_text("not json")
    assert advertised_url(tmp_path) is None


def test_a_later_servers_record_is_not_removed_by_an_earlier_one(tmp_path: Path) -> None:
    with advertised(tmp_path, "http://127.0.0.1:8123") as path:
        assert path is not None
        path.write_text(json.dumps({"url": "http://127.0.0.1:8124", "pid": os.getppid()}))
    assert json.loads(path.read_text())["url"] == "http://127.0.0.1:8124"


def test_an_index_directory_that_cannot_be_written_gets_no_record(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    with advertised(tmp_path / "file" / "index", "http://127.0.0.1:8123") as path:
        assert path is None


@pytest.mark.parametrize(
    ("host", "url"),
    [("127.0.0.1", "http://127.0.0.1:80"), ("0.0.0.0", "http://127.0.0.1:80"), ("::", "http://[::1]:80")],
)
def test_clients_reach_wildcard_addresses_on_this_machine(host: str, url: str) -> None:
    assert local_url(host, 80) == url


def test_nothing_listening_is_none_and_a_non_rag_answer_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A proxy of the environment is not used for a server on this machine (this one would refuse everything).
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert Server(f"http://127.0.0.1:{port}").post("/ask", {"question": "x"}) is None
    # https (or another host) goes through httpx rather than the standard library's loopback client.
    assert Server(f"https://127.0.0.1:{port}").post("/ask", {"question": "x"}) is None
    # A plain file server answers, but not a rag server's JSON.
    (tmp_path / "ask").write_text("<html></html>")
    web = subprocess.Popen(
        [sys.executable, "-u", "-m", "http.server", "--bind", "127.0.0.1", str(port), "--directory", str(tmp_path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert web.stdout is not None
        assert "Serving HTTP" in web.stdout.readline()  # printed once it listens
        with pytest.raises(ServerError, match="is it a rag server"):
            Server(f"http://127.0.0.1:{port}").post("/ask", {"question": "x"})
    finally:
        web.terminate()
        web.wait(timeout=10)
        web.stdout.close()
