"""Request ids, Prometheus metrics owned by each app, and JSON log lines."""

from __future__ import annotations

import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from rag import RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from service.app import create_app
from service.observability import JsonFormatter
from tests.conftest import MODEL_NAME, make_settings


def _client(index_dir: Path, embedder: SentenceTransformerEmbedder) -> TestClient:
    config = make_settings(index_dir)
    return TestClient(create_app(config, engine=RagEngine(config, embedder=embedder, store=IndexStore(index_dir))))


def _sample(metrics: str, name: str, **labels: str) -> float:
    """The value of one sample in Prometheus text format (0 when absent)."""
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in metrics.splitlines():
        match = re.fullmatch(r"([a-z_]+)(?:\{(.*)\})? (\S+)", line)
        if match and match.group(1) == name:
            found = ",".join(sorted((match.group(2) or "").split(","))) if match.group(2) else ""
            if found == wanted:
                return float(match.group(3))
    return 0.0


def test_a_request_id_is_accepted_or_generated_and_always_echoed(
    article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    client = _client(article_index, embedder)
    assert client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    generated = client.get("/health").headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", generated)
    # Something that could forge a log line is replaced, not echoed.
    forged = client.get("/health", headers={"X-Request-ID": 'x" level=error injected'}).headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", forged)
    error = client.post("/ask", json={"question": ""}, headers={"X-Request-ID": "bad-q"})
    assert error.headers["X-Request-ID"] == "bad-q" and error.json()["error"]["request_id"] == "bad-q"


def test_metrics_count_requests_abstentions_index_and_writes(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    client = _client(index_dir, embedder)
    client.post("/ask", json={"question": "Who plays Ok-ju?"})
    client.post("/ask", json={"question": "Siapa produser film Ballerina?"})
    client.post("/ask", json={"question": ""})
    client.post("/documents", json={"id": "m", "text": "Metrik dihitung oleh Prometheus."})
    client.get("/nowhere")

    metrics = client.get("/metrics")
    assert metrics.headers["content-type"].startswith("text/plain")
    text = metrics.text
    assert _sample(text, "rag_http_requests_total", method="POST", route="/ask", status="200") == 2
    assert _sample(text, "rag_http_requests_total", method="POST", route="/ask", status="422") == 1
    assert _sample(text, "rag_http_requests_total", method="GET", route="unmatched", status="404") == 1
    assert _sample(text, "rag_http_request_duration_seconds_count", method="POST", route="/ask") == 3
    assert _sample(text, "rag_answers_total", abstained="true") == 1
    assert _sample(text, "rag_answers_total", abstained="false") == 1
    assert _sample(text, "rag_reindex_duration_seconds_count", operation="add") == 1
    generation = client.get("/health").json()["generation"]
    assert _sample(text, "rag_index_generation", generation=generation, model=MODEL_NAME) == 1
    assert _sample(text, "rag_index_documents") == 2
    assert _sample(text, "rag_index_chunks") > 5
    assert _sample(text, "rag_index_degraded") == 0

    # Each app owns its registry: a second app starts from zero.
    fresh = _client(index_dir, embedder).get("/metrics").text
    assert _sample(fresh, "rag_http_requests_total", method="POST", route="/ask", status="200") == 0


def test_json_log_lines_are_one_object_with_the_request_fields(
    article_index: Path, embedder: SentenceTransformerEmbedder, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="rag.access")
    _client(article_index, embedder).get("/documents", headers={"X-Request-ID": "log-me"})
    (record,) = [r for r in caplog.records if r.name == "rag.access"]
    line = JsonFormatter().format(record)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["request_id"] == "log-me"
    assert (entry["method"], entry["route"], entry["status"], entry["level"]) == ("GET", "/documents", 200, "info")
    assert entry["duration_ms"] >= 0
