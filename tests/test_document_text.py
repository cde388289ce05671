"""GET /documents/{id}/text: the text citation offsets point into, whole or as a window; and the page at /."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag import RagEngine
from rag.reading.documents import default_corpus
from service.app import create_app
from tests.conftest import make_settings


@pytest.fixture
def client(engine: RagEngine, article_index: Path) -> TestClient:
    return TestClient(create_app(make_settings(article_index), engine=engine))


def _assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]


def test_text_returns_the_whole_indexed_text(client: TestClient) -> None:
    body = client.get("/documents/ballerina_id.txt/text").json()
    text = default_corpus()[0].text
    assert body == {
        "document_id": "ballerina_id.txt",
        "title": "ballerina_id.txt",
        "start": 0,
        "end": len(text),
        "characters": len(text),
        "text": text,
    }


def test_a_citations_window_is_its_quote(client: TestClient) -> None:
    (citation, *_) = client.post("/ask", json={"question": "Who plays Ok-ju?"}).json()["citations"]
    window = client.get(
        f"/documents/{citation['document_id']}/text", params={"start": citation["start"], "end": citation["end"]}
    ).json()
    assert window["text"] == citation["quote"]
    assert (window["start"], window["end"]) == (citation["start"], citation["end"])
    tail = client.get("/documents/ballerina_id.txt/text", params={"start": citation["end"]}).json()
    assert tail["end"] == tail["characters"] and tail["text"]


def test_unknown_document_is_404(client: TestClient) -> None:
    _assert_error(client.get("/documents/nothing.txt/text"), 404, "document_not_found")


@pytest.mark.parametrize("params", [{"start": -1}, {"end": "x"}])
def test_a_malformed_window_is_422(client: TestClient, params: dict[str, Any]) -> None:
    _assert_error(client.get("/documents/ballerina_id.txt/text", params=params), 422, "invalid_input")


def test_a_window_past_the_text_is_clamped_as_a_slice_is(client: TestClient) -> None:
    whole = client.get("/documents/ballerina_id.txt/text").json()
    size, text = whole["characters"], whole["text"]
    cases = [
        ({"start": 10, "end": 5}, (5, 5)),
        ({"start": 0, "end": 10**6}, (0, size)),
        ({"start": 10**6}, (size, size)),
    ]
    for params, (start, end) in cases:
        window = client.get("/documents/ballerina_id.txt/text", params=params).json()
        assert (window["start"], window["end"], window["text"]) == (start, end, text[start:end])


def test_ids_with_slashes_work_for_text_and_delete(fresh_engine: RagEngine, tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "index"), engine=fresh_engine))
    text = "Kebun Raya Bogor didirikan pada tahun 1817 di Jawa Barat."
    for doc_id in ("notes/a.md", "notes/text"):
        assert client.post("/documents", json={"id": doc_id, "text": text}).status_code == 200
    assert client.get("/documents/notes/a.md/text", params={"start": 6, "end": 10}).json()["text"] == "Raya"
    assert client.get("/documents/notes%2Fa.md/text").json()["text"] == text
    assert client.get("/documents/notes/text/text").json()["document_id"] == "notes/text"
    assert client.delete("/documents/notes/a.md").json()["removed"] == ["notes/a.md"]
    _assert_error(client.get("/documents/notes/a.md/text"), 404, "document_not_found")


def test_the_page_is_served_with_its_files_and_asks_nothing_of_other_hosts(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for asset, kind in (("/static/page.js", "javascript"), ("/static/page.css", "text/css")):
        response = client.get(asset)
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert "http://" not in response.text and "https://" not in response.text
    assert "http:" not in page.text and "https:" not in page.text
    assert "/" not in client.get("/openapi.json").json()["paths"]
