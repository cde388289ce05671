"""A real server (uvicorn in its own process) and CLI writers in other processes."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import RAG, rag_serve


def _env(index_dir: Path) -> dict[str, str]:
    return {**os.environ, "RAG_INDEX_DIR": str(index_dir)}


@pytest.fixture
def live(tmp_path: Path, article_index: Path) -> Iterator[tuple[str, Path]]:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    with rag_serve(_env(index_dir)) as url:
        yield url, index_dir


def _wait_for_new_generation(url: str, old: str) -> dict[str, object]:
    """Poll /health until the server has loaded a generation other than `old` (it loads in the background)."""
    for _ in range(3000):
        health: dict[str, object] = httpx.get(f"{url}/health", timeout=60).json()
        if health["generation"] != old:
            return health
        time.sleep(0.1)  # polling a background load, not asserting on time
    raise AssertionError("the server never loaded the new generation")


def _ask(url: str, question: str) -> dict[str, object]:
    response = httpx.post(f"{url}/ask", json={"question": question}, timeout=60)
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_a_running_server_answers_from_a_reindex_done_by_the_cli(live: tuple[str, Path], tmp_path: Path) -> None:
    url, index_dir = live
    folder = tmp_path / "new"
    folder.mkdir()
    text = "# Tari Saman\n\nTari Saman berasal dari suku Gayo di Aceh dan ditetapkan UNESCO pada tahun 2011.\n"
    (folder / "saman.md").write_text(text, encoding="utf-8")
    before = httpx.get(f"{url}/health").json()["generation"]
    result = subprocess.run([RAG, "reindex", str(folder)], env=_env(index_dir), capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    _wait_for_new_generation(url, before)
    body = _ask(url, "Dari suku mana Tari Saman berasal?")
    citations = body["citations"]
    assert isinstance(citations, list) and citations
    assert citations[0]["document_id"] == "new/saman.md"
    assert text[citations[0]["start"] : citations[0]["end"]] == citations[0]["quote"]
    # The bundled article is still there next to the new file.
    assert "Lee Chung-hyun" in str(_ask(url, "Siapa sutradara film Ballerina?")["answer"])


def test_a_killed_reindex_leaves_the_server_answering_and_the_next_reindex_succeeds(
    live: tuple[str, Path], tmp_path: Path
) -> None:
    url, index_dir = live
    before = httpx.get(f"{url}/health").json()["generation"]
    folder = tmp_path / "bulk"
    folder.mkdir()
    for n in range(60):
        (folder / f"d{n:02d}.txt").write_text(
            f"Catatan {n}: pulau nomor {n} memiliki {n * 7} desa dan {n * 3} danau.", encoding="utf-8"
        )
    writer = subprocess.Popen(
        [RAG, "reindex", str(folder)], env=_env(index_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert writer.stderr is not None
    progress = b""
    while b"embedding" not in progress and writer.poll() is None:
        # read1: what has arrived, rather than waiting for 64 bytes that may come only when the reindex is done.
        progress += writer.stderr.read1(64)
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait()
    writer.stderr.close()

    assert httpx.get(f"{url}/health").json()["generation"] == before
    assert "Lee Chung-hyun" in str(_ask(url, "Siapa sutradara film Ballerina?")["answer"])

    again = subprocess.run([RAG, "reindex", str(folder)], env=_env(index_dir), capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert _wait_for_new_generation(url, before)["documents"] == 61


def test_two_concurrent_writers_both_land(tmp_path: Path, article_index: Path) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    writers = []
    for name in ("alpha", "beta"):
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"{name}.txt").write_text(f"Dokumen {name} tentang kota {name}.", encoding="utf-8")
        writers.append(
            subprocess.Popen([RAG, "reindex", str(folder)], env=_env(index_dir), stderr=subprocess.PIPE, text=True)
        )
    for writer in writers:
        _, errors = writer.communicate(timeout=600)
        assert writer.returncode == 0, errors
    listed = subprocess.run([RAG, "documents"], env=_env(index_dir), capture_output=True, text=True).stdout
    assert {"alpha/alpha.txt", "beta/beta.txt", "ballerina_id.txt"} <= {
        line.split("\t")[0] for line in listed.splitlines()
    }
