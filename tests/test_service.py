"""The HTTP app through its interface: status codes, the error shape, health, OpenAPI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag import RagEngine
from rag.reading.documents import default_corpus
from service.app import create_app
from tests.conftest import MODEL_NAME, make_settings


@pytest.fixture
def client(engine: RagEngine, article_index: Path) -> TestClient:
    return TestClient(create_app(make_settings(article_index), engine=engine))


def _assert_error(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]


def test_ask_in_english_returns_a_cited_answer(client: TestClient) -> None:
    response = client.post("/ask", json={"question": "Who plays Ok-ju?"})
    assert response.status_code == 200
    body = response.json()
    assert body["abstained"] is False
    assert "Jong-seo" in body["answer"]
    assert body["index"]["model"] == MODEL_NAME
    text = default_corpus()[0].text
    for citation in body["citations"]:
        assert text[citation["start"] : citation["end"]] == citation["quote"]


def test_ask_unanswerable_abstains(client: TestClient) -> None:
    body = client.post("/ask", json={"question": "Siapa produser film Ballerina?"}).json()
    assert body["abstained"] is True
    assert body["citations"] == []


@pytest.mark.parametrize(
    "payload",
    [
        {"question": ""},
        {"question": "   "},
        {"question": "x" * 1001},
        {"question": 42},
        {"question": ["list"]},
        {},
        {"question": "ok?", "top_k": 0},
        {"question": "ok?", "top_k": 51},
        {"question": "ok?", "top_k": "many"},
        {"question": "ok?", "unexpected": True},
    ],
)
def test_bad_ask_bodies_get_422_in_the_error_shape(client: TestClient, payload: dict[str, Any]) -> None:
    _assert_error(client.post("/ask", json=payload), 422, "invalid_input")


def test_malformed_json_gets_400(client: TestClient) -> None:
    response = client.post("/ask", content=b'{"question": ', headers={"content-type": "application/json"})
    _assert_error(response, 400, "malformed_json")


def test_unknown_route_and_wrong_method_use_the_error_shape(client: TestClient) -> None:
    _assert_error(client.get("/nowhere"), 404, "http_error")
    _assert_error(client.get("/ask"), 405, "http_error")


def test_search_lists_passages_with_scores(client: TestClient) -> None:
    body = client.post("/search", json={"query": "Netflix", "top_k": 2}).json()
    assert len(body["hits"]) == 2
    assert "Netflix" in body["hits"][0]["text"]


def test_documents_lists_the_article(client: TestClient) -> None:
    (document,) = client.get("/documents").json()
    assert document["id"] == "ballerina_id.txt"
    assert document["chunks"] > 5
    assert len(document["hash"]) == 64
    assert document["language"] == "id"


def test_each_document_is_listed_with_its_language(fresh_engine: RagEngine, tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "index"), engine=fresh_engine))
    texts = {
        "volga": "Волга — крупнейшая река Европы. Она впадает в Каспийское море и течёт через всю центральную Россию.",
        "bromo": "Gunung Bromo adalah gunung berapi aktif yang terletak di Jawa Timur dan sering dikunjungi wisatawan.",
        "thames": "The Thames is a river that flows through southern England, including the city of London.",
    }
    for doc_id, text in texts.items():
        assert client.post("/documents", json={"id": doc_id, "text": text}).status_code == 200
    listed = {d["id"]: d["language"] for d in client.get("/documents").json()}
    assert listed == {"volga": "ru", "bromo": "id", "thames": "en"}


def test_health_reports_the_generation(client: TestClient, engine: RagEngine) -> None:
    body = client.get("/health").json()
    assert body["ready"] is True
    assert body["generation"] == engine.in_service().generation.name
    assert body["documents"] == 1


def test_health_without_an_index_is_not_ready_and_ask_is_503(fresh_engine: RagEngine, tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "index"), engine=fresh_engine))
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "not_ready"
    assert "rag reindex" in health.json()["detail"]
    _assert_error(client.post("/ask", json={"question": "Siapa?"}), 503, "index_not_found")


def test_openapi_documents_the_routes(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert {"/ask", "/search", "/documents", "/reindex", "/health"} <= set(schema["paths"])
    assert "citation" in schema["paths"]["/ask"]["post"]["description"]
    assert client.get("/docs").status_code == 200


def test_documents_can_be_added_replaced_and_deleted_over_http(fresh_engine: RagEngine, tmp_path: Path) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "index"), engine=fresh_engine))
    text = "Gunung Bromo adalah gunung berapi aktif di Jawa Timur."
    first = client.post("/documents", json={"id": "bromo", "text": text, "title": "Bromo"})
    assert first.status_code == 200, first.text
    assert first.json()["added"] == ["bromo"]

    upload = client.post(
        "/documents",
        files={"file": ("bromo.md", b"Gunung Bromo terletak di Jawa Timur dan tingginya 2.329 meter.")},
        data={"id": "bromo"},
    )
    assert upload.json()["changed"] == ["bromo"]
    assert upload.json()["generation"] != first.json()["generation"]
    (document,) = client.get("/documents").json()
    assert document["id"] == "bromo"

    body = client.post("/ask", json={"question": "Berapa tinggi Gunung Bromo?"}).json()
    assert "2.329" in body["answer"]
    assert client.delete("/documents/bromo").json()["removed"] == ["bromo"]
    _assert_error(client.delete("/documents/bromo"), 404, "document_not_found")


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"id": "x", "text": ""}}, 422, "invalid_input"),
        ({"json": {"text": "tanpa id"}}, 422, "invalid_input"),
        ({"content": b"{", "headers": {"content-type": "application/json"}}, 400, "malformed_json"),
        ({"files": {"file": ("x.pdf", b"%PDF-1.4")}}, 422, "document_error"),
        ({"files": {"file": ("x.docx", b"PK")}}, 422, "document_error"),
        ({"files": {"file": ("x.txt", b"\xff\xfe caf\xe9")}}, 422, "document_error"),
        ({"data": {"id": "no-file"}}, 422, "invalid_input"),
    ],
)
def test_bad_documents_get_4xx(
    fresh_engine: RagEngine, tmp_path: Path, kwargs: dict[str, Any], status: int, code: str
) -> None:
    client = TestClient(create_app(make_settings(tmp_path / "index"), engine=fresh_engine))
    _assert_error(client.post("/documents", **kwargs), status, code)
