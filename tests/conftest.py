"""Shared fixtures: the real default model loaded once, and the bundled article indexed once per session."""

from __future__ import annotations

import json
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import pytest

from rag import RagEngine, Settings
from rag.config import DEFAULT_MODEL
from rag.model.backends import qualified_name
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore

# The suite measures the defaults: a developer's RAG_* settings (a backend, a threshold) must not leak into it,
# nor into the CLI and servers it starts. Only where the model is installed is kept.
for _name in [n for n in os.environ if n.startswith("RAG_") and n != "RAG_MODEL_DIR"]:
    del os.environ[_name]

SHARED = Path(__file__).resolve().parents[2] / "shared"
# The name a new index records with default settings on this machine (the model and its preferred backend).
MODEL_NAME = qualified_name(DEFAULT_MODEL, Settings().backend_for_new_index)


def make_settings(index_dir: Path, **overrides: Any) -> Settings:
    return Settings(index_dir=index_dir, **overrides)


@pytest.fixture(scope="session")
def embedder() -> SentenceTransformerEmbedder:
    """The real default model (EmbeddingGemma-300M), loaded once for the whole session."""
    settings = Settings()
    model = SentenceTransformerEmbedder.from_settings(settings)
    assert model.dimension == 768
    return model


@pytest.fixture(scope="session")
def article_index(tmp_path_factory: pytest.TempPathFactory, embedder: SentenceTransformerEmbedder) -> Path:
    """An index of the bundled article, built once; tests must not modify it."""
    index_dir = tmp_path_factory.mktemp("article-index")
    engine = RagEngine(make_settings(index_dir), embedder=embedder, store=IndexStore(index_dir))
    engine.reindex()
    return index_dir


@pytest.fixture
def engine(article_index: Path, embedder: SentenceTransformerEmbedder) -> RagEngine:
    return RagEngine(make_settings(article_index), embedder=embedder, store=IndexStore(article_index))


@pytest.fixture
def fresh_engine(tmp_path: Path, embedder: SentenceTransformerEmbedder) -> Iterator[RagEngine]:
    """An engine over an empty index directory of its own, sharing the session's model."""
    index_dir = tmp_path / "index"
    yield RagEngine(make_settings(index_dir), embedder=embedder, store=IndexStore(index_dir))


def load_dev_questions() -> list[dict[str, Any]]:
    path = SHARED / "data" / "ballerina_qa_dev.jsonl"
    if not path.is_file():
        pytest.skip("../shared/data is not available")
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


PHASE_REPORTS = pytest.StashKey[dict[str, pytest.TestReport]]()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so fixtures can tell whether the test failed (e.g. to screenshot)."""
    report: pytest.TestReport = yield
    item.stash.setdefault(PHASE_REPORTS, {})[report.when] = report
    return report


# Fixtures that load the real model: a test using any of them (directly or through another fixture) is in the
# model tier; every other test is in the fast tier (`make test-fast`, `pytest -m "not model"`).
# (`installed` and `onnx_model_dir` need the installed model files; tests that start `rag` processes which load
# the model, or build engines from settings, are marked by hand.)
MODEL_FIXTURES = {"embedder", "installed", "onnx_model_dir"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if MODEL_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.model)
