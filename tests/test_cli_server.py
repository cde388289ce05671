"""`rag ask` and `rag search` through a running `rag serve`, and on their own when no server answers."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from rag.remote import SERVER_FILE
from tests.servers import RAG, free_port, rag_serve


def _env(index_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "RAG_URL"}
    return {**env, "RAG_INDEX_DIR": str(index_dir), **extra}


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([RAG, *args], capture_output=True, text=True, env=env, timeout=600, check=False)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, article_index: Path) -> Iterator[tuple[str, Path]]:
    """`rag serve` over a copy of the article's index; yields its address and index directory."""
    index_dir = tmp_path_factory.mktemp("served") / "index"
    shutil.copytree(article_index, index_dir)
    with rag_serve(_env(index_dir)) as url:
        yield url, index_dir
    # A server that exits removes its record, so the next command does not try it.
    assert not (index_dir / SERVER_FILE).exists()


def test_serve_records_where_it_listens(served: tuple[str, Path]) -> None:
    url, index_dir = served
    assert json.loads((index_dir / SERVER_FILE).read_text())["url"] == url


def test_ask_goes_through_the_server_and_prints_what_local_prints(served: tuple[str, Path], tmp_path: Path) -> None:
    _, index_dir = served
    # With no model it could load, the CLI can only answer by asking the server.
    no_model = _env(index_dir, RAG_EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    question = "Siapa sutradara film Ballerina?"
    through_server = _run(no_model, "ask", question)
    assert through_server.returncode == 0, through_server.stderr
    assert through_server.stderr == ""
    assert "Lee Chung-hyun" in through_server.stdout and "\nSumber:\n" in through_server.stdout

    local = _run(_env(index_dir), "ask", question, "--local")
    assert local.returncode == 0, local.stderr
    assert local.stdout == through_server.stdout
    assert local.stderr == ""  # no "Loading weights" bar or other library noise

    forced = _run(no_model, "ask", question, "--local")
    assert forced.returncode == 1 and "no-such-model" in forced.stderr


def test_search_and_json_go_through_the_server_too(served: tuple[str, Path], tmp_path: Path) -> None:
    _, index_dir = served
    no_model = _env(index_dir, RAG_EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    through_server = _run(no_model, "search", "Netflix", "--top-k", "2")
    assert through_server.returncode == 0, through_server.stderr
    assert through_server.stdout == _run(_env(index_dir), "search", "Netflix", "--top-k", "2", "--local").stdout
    body = json.loads(_run(no_model, "ask", "Who plays Ok-ju?", "--json").stdout)
    assert "Jong-seo" in body["answer"] and body["citations"]
    # Errors come back as the same one line.
    empty = _run(no_model, "ask", " ")
    assert empty.returncode == 1 and empty.stderr.startswith("error: ") and "empty" in empty.stderr


def test_rag_url_names_the_server_and_fails_loudly_when_none_answers(served: tuple[str, Path], tmp_path: Path) -> None:
    url, _ = served
    elsewhere = _env(tmp_path / "empty-index", RAG_URL=url, RAG_EMBEDDING_MODEL=str(tmp_path / "no-such-model"))
    answered = _run(elsewhere, "ask", "Who plays Ok-ju?")
    assert answered.returncode == 0, answered.stderr
    assert "Jong-seo" in answered.stdout and "\nSources:\n" in answered.stdout

    nobody = f"http://127.0.0.1:{free_port()}"
    failed = _run(_env(tmp_path / "empty-index", RAG_URL=nobody), "ask", "Who plays Ok-ju?")
    assert failed.returncode == 1
    assert failed.stderr.strip().splitlines() == [
        f"error: no rag server answers at {nobody} (RAG_URL); start one with 'rag serve', unset RAG_URL or pass --local"
    ]
