"""Hostile inputs, body and document size limits, the rate limit, the time budget and CORS, through HTTP."""

from __future__ import annotations

import gzip
import shutil
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag import RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from service.app import create_app
from tests.conftest import make_settings
from tests.pdf import make_flate_bomb_pdf

LIMIT = 2_000_000


def _client(index_dir: Path, embedder: SentenceTransformerEmbedder, **overrides: Any) -> TestClient:
    config = make_settings(index_dir, **overrides)
    return TestClient(create_app(config, engine=RagEngine(config, embedder=embedder, store=IndexStore(index_dir))))


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory, article_index: Path, embedder: SentenceTransformerEmbedder) -> Any:
    index_dir = tmp_path_factory.mktemp("hostile") / "index"
    shutil.copytree(article_index, index_dir)
    return _client(index_dir, embedder, max_upload_bytes=LIMIT, max_document_chars=100_000)


def _json(raw: bytes) -> dict[str, Any]:
    return {"content": raw, "headers": {"content-type": "application/json"}}


# fmt: off
HOSTILE: list[tuple[str, str, str, Any, int, str]] = [
    # (name, method, path, request keywords or a function making them, status, error code)
    ("empty question", "post", "/ask", {"json": {"question": ""}}, 422, "invalid_input"),
    ("whitespace question", "post", "/ask", {"json": {"question": " \t\n "}}, 422, "invalid_input"),
    ("1 MB question", "post", "/ask", {"json": {"question": "siapa " * 200_000}}, 422, "invalid_input"),
    ("question as a number", "post", "/ask", {"json": {"question": 42}}, 422, "invalid_input"),
    ("question as a list", "post", "/ask", {"json": {"question": ["a"]}}, 422, "invalid_input"),
    ("question null", "post", "/ask", {"json": {"question": None}}, 422, "invalid_input"),
    ("top_k as text", "post", "/ask", {"json": {"question": "a?", "top_k": "many"}}, 422, "invalid_input"),
    ("top_k as float", "post", "/search", {"json": {"query": "a", "top_k": 2.5}}, 422, "invalid_input"),
    ("body is a list", "post", "/ask", {"json": ["question"]}, 422, "invalid_input"),
    ("invalid UTF-8 bytes", "post", "/ask", _json(b'{"question": "\xff\xfe siapa"}'), 400, "malformed_json"),
    ("lone surrogate", "post", "/ask", _json(b'{"question": "\\ud800 siapa"}'), 422, "invalid_input"),
    ("no body", "post", "/ask", {}, 422, "invalid_input"),
    ("control characters", "post", "/ask", {"json": {"question": "\x00\x07\x1b[31m Siapa sutradara?\x7f"}}, 200, ""),
    ("combining marks", "post", "/ask", {"json": {"question": "Z\u0351\u0300\u0489" * 200}}, 200, ""),
    ("astral characters", "post", "/search", {"json": {"query": "\U0001d518\U0001f600" * 400}}, 200, ""),
    ("right-to-left override", "post", "/ask", {"json": {"question": "\u202esiapa sutradara?"}}, 200, ""),
    ("../../etc/passwd as an id", "delete", "/documents/..%2F..%2Fetc%2Fpasswd", {}, 422, "invalid_input"),
    ("absolute id", "delete", "/documents/%2Fetc%2Fpasswd", {}, 422, "invalid_input"),
    ("NUL in an id", "delete", "/documents/a%00b", {}, 422, "invalid_input"),
    ("Windows drive id", "delete", "/documents/C:%5Cboot.ini", {}, 422, "invalid_input"),
    ("unsafe JSON id", "post", "/documents", {"json": {"id": "a/../../b", "text": "x"}}, 422, "invalid_input"),
    ("unsafe form id", "post", "/documents", {"files": {"file": ("a.txt", b"teks")}, "data": {"id": "/etc/x"}}, 422,
     "invalid_input"),
    ("id of wrong type", "post", "/documents", {"json": {"id": 5, "text": ["x"]}}, 422, "invalid_input"),
    ("binary upload", "post", "/documents", {"files": {"file": ("x.txt", bytes(range(256)) * 8)}}, 422,
     "document_error"),
    ("non-UTF-8 upload", "post", "/documents", {"files": {"file": ("x.txt", "café olé".encode("latin-1"))}}, 422,
     "document_error"),
    ("empty upload", "post", "/documents", {"files": {"file": ("x.md", b"  \n")}}, 422, "document_error"),
    ("upload over the limit", "post", "/documents", {"files": {"file": ("big.txt", b"a" * (LIMIT + 1))}}, 413,
     "too_large"),
    ("JSON body over the limit", "post", "/ask", {"json": {"question": "a" * (LIMIT + 1)}}, 413, "too_large"),
    ("gzip bomb named .txt", "post", "/documents",
     lambda: {"files": {"file": ("bomb.txt", gzip.compress(b"\0" * 50_000_000))}}, 422, "document_error"),
    ("zip archive", "post", "/documents", {"files": {"file": ("bomb.zip", b"PK\x03\x04" + b"\0" * 100)}}, 422,
     "document_error"),
    ("PDF whose stream inflates to 100 MB", "post", "/documents",
     lambda: {"files": {"file": ("bomb.pdf", make_flate_bomb_pdf(100_000_000))}}, 422, "document_error"),
    ("text over RAG_MAX_DOCUMENT_CHARS", "post", "/documents", {"json": {"id": "long", "text": "kata " * 30_000}}, 413,
     "too_large"),
]
# fmt: on


@pytest.mark.parametrize(("name", "method", "path", "sent", "status", "code"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_input_gets_the_expected_status(
    client: TestClient, name: str, method: str, path: str, sent: Any, status: int, code: str
) -> None:
    response = client.request(method, path, **(sent() if callable(sent) else sent))
    assert response.status_code == status, response.text
    if code:
        error = response.json()["error"]
        assert error["code"] == code and error["message"]


def test_an_uploaded_file_name_is_never_a_path(client: TestClient) -> None:
    response = client.post("/documents", files={"file": ("../../etc/passwd.txt", b"Isi catatan rahasia.")})
    assert response.status_code == 200, response.text
    assert response.json()["added"] == ["passwd.txt"]
    assert client.delete("/documents/passwd.txt").status_code == 200


def test_a_body_streamed_without_content_length_is_still_limited(client: TestClient) -> None:
    def chunks() -> Any:
        for _ in range(LIMIT // 100_000 + 2):
            yield b"a" * 100_000

    response = client.post("/ask", content=chunks(), headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"


def test_a_burst_beyond_the_rate_limit_gets_429_then_passes_again(
    article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    client = _client(article_index, embedder, rate_limit="3/second")
    statuses = [client.get("/documents").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    refused = client.get("/documents")
    assert refused.json()["error"]["code"] == "rate_limited"
    retry = int(refused.headers["Retry-After"])
    assert retry == 1
    assert client.get("/health").status_code == 200  # probes are never throttled
    time.sleep(retry)  # the window is one second: waiting it out is the behaviour under test
    assert client.get("/documents").status_code == 200


def test_a_request_over_the_time_budget_gets_503_and_the_server_keeps_answering(
    article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    slow = _client(article_index, embedder, request_timeout=0.001)
    response = slow.post("/ask", json={"question": "Siapa sutradara film Ballerina?"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "timeout"
    assert response.headers["Retry-After"] == "1"
    assert slow.get("/health").json()["ready"] is True


def test_cors_is_off_by_default_and_allows_only_the_configured_origins(
    article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    closed = _client(article_index, embedder)
    assert "access-control-allow-origin" not in closed.options("/ask", headers=preflight).headers
    open_ = _client(article_index, embedder, cors_origins="https://app.example")
    assert open_.options("/ask", headers=preflight).headers["access-control-allow-origin"] == "https://app.example"
    other = {**preflight, "Origin": "https://evil.example"}
    assert "access-control-allow-origin" not in open_.options("/ask", headers=other).headers
