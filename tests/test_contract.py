"""The OpenAPI schema states what the server enforces: schema-driven fuzzing finds no 5xx and no undocumented answer."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import CHECKS
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from rag import RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from service.app import create_app
from service.schemas import NOT_BLANK
from tests.conftest import make_settings

KEY = "fuzz-key"
AUTH = {"Authorization": f"Bearer {KEY}"}


def _app(index_dir: Path, embedder: SentenceTransformerEmbedder, **overrides: Any) -> Any:
    config = make_settings(index_dir, **overrides)
    engine = RagEngine(config, embedder=embedder, store=IndexStore(index_dir))
    return create_app(config, engine=engine)


OPERATIONS = [
    ("POST", "/ask"),
    ("POST", "/search"),
    ("GET", "/documents"),
    ("POST", "/documents"),
    ("DELETE", "/documents/{doc_id}"),
    ("GET", "/documents/{doc_id}/text"),
    ("POST", "/reindex"),
    ("GET", "/health"),
    ("GET", "/metrics"),
]


@pytest.fixture(scope="module", params=["keys", "open"])
def api_schema(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    article_index: Path,
    embedder: SentenceTransformerEmbedder,
) -> Any:
    """The schema of a server with a key, and of one without (whose schema then asks for none)."""
    index_dir = tmp_path_factory.mktemp("fuzz") / "index"
    shutil.copytree(article_index, index_dir)
    keys = KEY if request.param == "keys" else ()
    app = _app(index_dir, embedder, api_keys=keys, max_upload_bytes=200_000)
    return schemathesis.openapi.from_asgi("/openapi.json", app)


def test_the_fuzzed_operations_are_all_the_operations(api_schema: Any) -> None:
    found = {(op.ok().method.upper(), op.ok().path) for op in api_schema.get_all_operations()}
    assert found == set(OPERATIONS)


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_generated_requests_get_documented_answers_and_never_a_5xx(api_schema: Any, method: str, path: str) -> None:
    """Every schemathesis check (`--checks all`) on valid and invalid requests: no 5xx, status, headers and body as
    documented, 405 with Allow, invalid data rejected, valid data accepted, the key enforced exactly where the
    schema asks for it; and every error in the error shape."""
    operation = api_schema[path][method]
    cases = st.one_of(operation.as_strategy(GenerationMode.POSITIVE), operation.as_strategy(GenerationMode.NEGATIVE))

    # An upload's bytes are "a binary string" to a schema: whether they are a readable document cannot be said
    # there, so a refused upload (422, e.g. a PNG) is not a contract breach. Every other check still applies.
    excluded = [positive_data_acceptance] if (method, path) == ("POST", "/documents") else []

    @given(case=cases)
    @settings(max_examples=15, deadline=None, database=None, derandomize=True, suppress_health_check=list(HealthCheck))
    def check(case: Any) -> None:
        response = case.call_and_validate(headers=AUTH, checks=CHECKS.get_all(), excluded_checks=excluded)
        if response.status_code >= 400:
            body = response.json()
            assert set(body) == {"error"}
            assert body["error"]["code"] and body["error"]["message"]

    check()


@pytest.fixture
def client(article_index: Path, embedder: SentenceTransformerEmbedder) -> TestClient:
    return TestClient(_app(article_index, embedder, max_question_chars=300))


def test_the_schema_states_the_real_question_limits(client: TestClient) -> None:
    components = client.get("/openapi.json").json()["components"]["schemas"]
    for model, field in (("AskRequest", "question"), ("SearchRequest", "query")):
        spec = components[model]["properties"][field]
        assert (spec["minLength"], spec["maxLength"], spec["pattern"]) == (1, 300, NOT_BLANK)
        top_k = components[model]["properties"]["top_k"]["anyOf"][0]
        assert (top_k["minimum"], top_k["maximum"]) == (1, 50)
    assert client.post("/ask", json={"question": "x" * 301}).status_code == 422


def test_every_route_documents_its_error_statuses(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    ask = paths["/ask"]["post"]["responses"]
    assert {"400", "401", "422", "429", "500", "503"} <= set(ask)
    assert ask["401"]["content"]["application/json"]["schema"]["$ref"].endswith("/ErrorResponse")
    assert {"401", "403", "413", "429", "500", "507"} <= set(paths["/documents"]["post"]["responses"])
    assert {"401", "403", "404", "429"} <= set(paths["/documents/{doc_id}"]["delete"]["responses"])
    assert {"401", "429"} <= set(paths["/metrics"]["get"]["responses"])
    assert "security" not in paths["/health"]["get"]
    assert paths["/ask"]["post"]["security"] == [{"HTTPBearer": []}]


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [("get", "/ask", {"POST"}), ("put", "/documents", {"GET", "POST"}), ("post", "/health", {"GET"})],
)
def test_405_names_every_allowed_method(client: TestClient, method: str, path: str, allowed: set[str]) -> None:
    response = client.request(method, path)
    assert response.status_code == 405
    assert set(response.headers["Allow"].split(", ")) == allowed
    assert response.json()["error"]["code"] == "http_error"


def test_an_unexpected_error_is_a_500_in_the_error_shape_with_the_request_id(
    article_index: Path, embedder: SentenceTransformerEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    class BrokenEngine(RagEngine):
        def documents(self) -> Any:
            raise ZeroDivisionError("boom")

    config = make_settings(article_index)
    app = create_app(config, engine=BrokenEngine(config, embedder=embedder, store=IndexStore(article_index)))
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/documents", headers={"X-Request-ID": "trace-me-42"})
    assert response.status_code == 500
    assert response.headers["X-Request-ID"] == "trace-me-42"
    assert response.json()["error"] == {
        "code": "internal_error",
        "message": "unexpected server error; the log has its traceback under request id trace-me-42",
        "request_id": "trace-me-42",
    }
    (record,) = [r for r in caplog.records if r.getMessage() == "unexpected error"]
    assert record.exc_info is not None and "ZeroDivisionError" in repr(record.exc_info[1])
    assert record.request_id == "trace-me-42"
