"""Access control: with keys set every route but /health needs one; a read key cannot change documents."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag import InvalidInputError, RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from service.app import create_app
from service.server import check_exposure
from tests.conftest import make_settings

READ, ADMIN = "read-key-0123456789", "admin-key-9876543210"
RAG = str(Path(sys.executable).with_name("rag"))

# In an order in which each succeeds with the right key: the document is added, then deleted.
READ_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/ask", {"json": {"question": "Who plays Ok-ju?"}}),
    ("post", "/search", {"json": {"query": "Netflix"}}),
    ("get", "/documents", {}),
    ("get", "/metrics", {}),
]
ADMIN_ROUTES: list[tuple[str, str, dict[str, Any]]] = [
    ("post", "/documents", {"json": {"id": "kunci", "text": "Kunci ini membuka gudang beras di Bogor."}}),
    ("delete", "/documents/kunci", {}),
    ("post", "/reindex", {}),
]


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@pytest.fixture
def index_copy(tmp_path: Path, article_index: Path) -> Path:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    return index_dir


def _client(index_dir: Path, embedder: SentenceTransformerEmbedder, **keys: str) -> TestClient:
    config = make_settings(index_dir, **keys)
    return TestClient(create_app(config, engine=RagEngine(config, embedder=embedder, store=IndexStore(index_dir))))


def _assert_refused(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.headers["WWW-Authenticate"].startswith('Bearer realm="rag"')


def test_with_keys_every_protected_route_refuses_a_missing_or_wrong_key_and_accepts_the_right_one(
    index_copy: Path, embedder: SentenceTransformerEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    client = _client(index_copy, embedder, api_keys=f"other-key,{READ}")
    caplog.set_level(logging.DEBUG)
    for method, path, kwargs in READ_ROUTES + ADMIN_ROUTES:
        _assert_refused(client.request(method, path, **kwargs), 401, "unauthorized")
        _assert_refused(client.request(method, path, headers=_bearer(READ + "x"), **kwargs), 401, "unauthorized")
        _assert_refused(client.request(method, path, headers={"Authorization": READ}, **kwargs), 401, "unauthorized")
        accepted = client.request(method, path, headers=_bearer(READ), **kwargs)
        assert accepted.status_code == 200, (path, accepted.text)
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["ready"] is True
    assert caplog.records, "requests are logged"
    logged = "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)
    assert READ not in logged


def test_a_read_key_cannot_change_documents_when_admin_keys_are_set(
    index_copy: Path, embedder: SentenceTransformerEmbedder
) -> None:
    client = _client(index_copy, embedder, api_keys=READ, admin_keys=ADMIN)
    for method, path, kwargs in ADMIN_ROUTES:
        _assert_refused(client.request(method, path, headers=_bearer(READ), **kwargs), 403, "forbidden")
        _assert_refused(client.request(method, path, **kwargs), 401, "unauthorized")
    for method, path, kwargs in ADMIN_ROUTES:
        assert client.request(method, path, headers=_bearer(ADMIN), **kwargs).status_code == 200
    for method, path, kwargs in READ_ROUTES:
        assert client.request(method, path, headers=_bearer(READ), **kwargs).status_code == 200
        assert client.request(method, path, headers=_bearer(ADMIN), **kwargs).status_code == 200
    documents = client.get("/documents", headers=_bearer(READ)).json()
    assert [d["id"] for d in documents] == ["ballerina_id.txt"]


def test_admin_keys_alone_leave_reading_open_and_guard_writes(
    index_copy: Path, embedder: SentenceTransformerEmbedder
) -> None:
    client = _client(index_copy, embedder, admin_keys=ADMIN)
    assert client.get("/documents").status_code == 200
    _assert_refused(client.post("/reindex"), 401, "unauthorized")
    assert client.post("/reindex", headers=_bearer(ADMIN)).status_code == 200


def test_serve_refuses_a_public_address_without_keys(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env["RAG_INDEX_DIR"] = str(tmp_path / "index")
    result = subprocess.run(
        [RAG, "serve", "--host", "0.0.0.0", "--port", "9"], env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 1
    assert "refusing to serve on 0.0.0.0 without keys" in result.stderr
    assert "--insecure" in result.stderr


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_hosts_need_no_keys(tmp_path: Path, host: str) -> None:
    check_exposure(make_settings(tmp_path), host, insecure=False)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "example.org"])
def test_public_hosts_need_keys_or_insecure_which_warns(
    tmp_path: Path, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    with pytest.raises(InvalidInputError, match="RAG_API_KEYS"):
        check_exposure(make_settings(tmp_path), host, insecure=False)
    check_exposure(make_settings(tmp_path, api_keys=READ), host, insecure=False)
    check_exposure(make_settings(tmp_path), host, insecure=True)
    assert any(r.levelname == "WARNING" and "WITHOUT keys" in r.getMessage() for r in caplog.records)


def test_a_bad_rate_limit_is_refused_at_start(tmp_path: Path, article_index: Path, embedder: Any) -> None:
    config = make_settings(article_index, rate_limit="lots")
    engine = RagEngine(config, embedder=embedder, store=IndexStore(article_index))
    with pytest.raises(InvalidInputError, match="RAG_RATE_LIMIT"):
        create_app(config, engine=engine)
