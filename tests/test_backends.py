"""Embedding backends: chosen by a setting, named apart, and their vectors never mixed with another's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydantic import ValidationError

from rag import IndexIncompatibleError, RagEngine, Settings
from rag.answering.calibration import CALIBRATED, CompositionParams, params_for
from rag.config import DEFAULT_MODEL
from rag.model.backends import (
    BACKENDS,
    backend_of,
    base_model,
    int8_dot_products,
    is_onnx,
    native_bfloat16,
    qualified_name,
)
from rag.model.embedding import SentenceTransformerEmbedder
from rag.reading.documents import Document
from rag.storage.store import IndexStore
from rag.storage.vector_cache import VectorCache
from tests.conftest import make_settings

KEBUN = Document(
    id="kebun.md",
    title="Kebun Raya",
    text="Kebun Raya Bogor didirikan pada tahun 1817 oleh Caspar Reinwardt. Luasnya 87 hektare.\n\n"
    "Kebun ini menyimpan lebih dari 15.000 jenis tumbuhan.\n",
)


@pytest.fixture(scope="module")
def float32_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder.from_settings(Settings(), backend="torch")


@pytest.fixture(scope="module")
def int8_embedder() -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder.from_settings(Settings(embedding_backend="torch-int8"))


def test_the_backend_is_read_from_the_environment_and_named_in_the_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_EMBEDDING_BACKEND", "torch-int8")
    embedder = SentenceTransformerEmbedder.from_settings(Settings())
    assert embedder.model_name == "google/embeddinggemma-300m@torch-int8"


@pytest.mark.model
def test_a_new_index_gets_the_preferred_backend_and_an_existing_one_keeps_its_own(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, float32_embedder: SentenceTransformerEmbedder
) -> None:
    monkeypatch.delenv("RAG_EMBEDDING_BACKEND", raising=False)
    settings = make_settings(tmp_path / "index")
    assert settings.embedding_backend is None
    preferred = qualified_name(DEFAULT_MODEL, settings.backend_for_new_index)
    assert RagEngine.from_settings(settings).embedder.model_name == preferred
    # An index built with float32 torch before the default changed stays readable without 'rag reindex'.
    RagEngine(settings, embedder=float32_embedder, store=IndexStore(settings.index_dir)).add_document(KEBUN)
    reopened = RagEngine.from_settings(settings)
    assert reopened.embedder.model_name == DEFAULT_MODEL
    # Naming a backend overrides the recorded one (and the index then needs 'rag reindex').
    forced = RagEngine.from_settings(make_settings(tmp_path / "index", embedding_backend="torch-int8"))
    assert forced.embedder.model_name == "google/embeddinggemma-300m@torch-int8"


def test_the_cpu_decides_which_fast_paths_are_preferred(tmp_path: Path) -> None:
    native = tmp_path / "native"
    native.write_text("flags\t\t: fpu avx512f avx512_bf16 avx512_vnni\n", encoding="utf-8")
    emulated = tmp_path / "emulated"
    emulated.write_text("flags\t\t: fpu avx2 avx512f\nbugs\t\t: avx_vnni\n", encoding="utf-8")
    assert native_bfloat16(native) and not native_bfloat16(emulated)
    assert int8_dot_products(native) and not int8_dot_products(emulated)
    assert not native_bfloat16(tmp_path / "missing") and not int8_dot_products(tmp_path / "missing")
    # A model other than the default has no measured export: its new indexes get a torch backend.
    assert not is_onnx(Settings(embedding_model=str(tmp_path)).backend_for_new_index)
    assert backend_of("google/embeddinggemma-300m@torch-bf16") == "torch-bf16"
    assert backend_of(DEFAULT_MODEL) == "torch"


def test_every_backend_records_its_vectors_under_a_name_of_its_own() -> None:
    names = {qualified_name(DEFAULT_MODEL, backend) for backend in BACKENDS}
    assert len(names) == len(BACKENDS)
    # float32 torch keeps the bare name that indexes and caches made before backends existed carry.
    assert qualified_name(DEFAULT_MODEL, "torch") == DEFAULT_MODEL
    assert {base_model(name) for name in names} == {DEFAULT_MODEL}


@pytest.mark.parametrize("backend", ["openvino", "onnx-fp16", "torch-fp16", ""])
def test_a_backend_that_does_not_work_here_is_refused(monkeypatch: pytest.MonkeyPatch, backend: str) -> None:
    monkeypatch.setenv("RAG_EMBEDDING_BACKEND", backend)
    with pytest.raises(ValidationError, match="torch-int8"):
        Settings()


def test_a_backend_suffixed_model_gets_its_base_models_calibration() -> None:
    assert base_model("google/embeddinggemma-300m@torch-bf16") == DEFAULT_MODEL
    assert params_for("google/embeddinggemma-300m@torch-int8") is CALIBRATED[DEFAULT_MODEL]
    assert params_for("google/embeddinggemma-300m@torch-int8", abstain_threshold=0.1).abstain_threshold == 0.1
    # An '@' that does not name a backend is part of the model's own name (a folder, say).
    assert base_model("/models/mine@v2") == "/models/mine@v2"
    # A revised backend's name carries its revision; both its names belong to the backend.
    assert qualified_name(DEFAULT_MODEL, "onnx-int8") == "google/embeddinggemma-300m@onnx-int8.r2"
    assert {backend_of(f"{DEFAULT_MODEL}@onnx-int8"), backend_of(f"{DEFAULT_MODEL}@onnx-int8.r2")} == {"onnx-int8"}
    assert base_model(f"{DEFAULT_MODEL}@onnx-int8.r2") == DEFAULT_MODEL
    assert params_for("/models/mine@v2") == CompositionParams()


def test_an_index_built_with_another_backend_is_refused(article_index: Path) -> None:
    settings = make_settings(article_index, embedding_backend="torch-int8")
    engine = RagEngine(
        settings, embedder=SentenceTransformerEmbedder.from_settings(settings), store=IndexStore(article_index)
    )
    refusal = r"engine uses 'google/embeddinggemma-300m@torch-int8'; run 'rag reindex'"
    with pytest.raises(IndexIncompatibleError, match=refusal):
        engine.ask("Siapa sutradara film Ballerina?")


def test_cached_vectors_of_one_backend_are_never_served_to_another(tmp_path: Path) -> None:
    cache = VectorCache(tmp_path / "embeddings.sqlite")
    cache.store(qualified_name(DEFAULT_MODEL, "torch"), {"key": np.ones(4, dtype=np.float32)})
    assert cache.lookup(qualified_name(DEFAULT_MODEL, "torch-int8"), ["key"]) == {}
    assert list(cache.lookup(qualified_name(DEFAULT_MODEL, "torch"), ["key"])) == ["key"]


@pytest.mark.model
def test_torch_int8_indexes_and_answers_beside_a_float32_index(
    tmp_path: Path, float32_embedder: SentenceTransformerEmbedder, int8_embedder: SentenceTransformerEmbedder
) -> None:
    cache = VectorCache(tmp_path / "embeddings.sqlite")  # shared, as the evaluation indexes share theirs
    engines = {}
    for name, model in (("float32", float32_embedder), ("int8", int8_embedder)):
        index_dir = tmp_path / name
        engines[name] = RagEngine(make_settings(index_dir), embedder=model, store=IndexStore(index_dir), cache=cache)
    first = engines["float32"].add_document(KEBUN)
    second = engines["int8"].add_document(KEBUN)
    # The int8 engine embeds every text itself: the float32 vectors in the cache are not its own.
    assert second.texts_embedded == first.texts_embedded > 0
    assert engines["int8"].in_service().generation.model == "google/embeddinggemma-300m@torch-int8"
    answer = engines["int8"].ask("Siapa yang mendirikan Kebun Raya Bogor?")
    assert "Reinwardt" in answer.text
    citation = answer.citations[0]
    assert KEBUN.text[citation.start : citation.end] == citation.quote


@pytest.mark.model
def test_quantized_and_bfloat16_vectors_stay_close_to_float32(
    float32_embedder: SentenceTransformerEmbedder, int8_embedder: SentenceTransformerEmbedder
) -> None:
    texts = [KEBUN.text, "Siapa yang mendirikan Kebun Raya Bogor?"]
    reference = float32_embedder.embed_documents(texts)
    bf16 = SentenceTransformerEmbedder.from_settings(Settings(embedding_backend="torch-bf16"))
    for model, floor in ((int8_embedder, 0.95), (bf16, 0.999)):
        vectors = model.embed_documents(texts)
        assert vectors.dtype == np.float32 and vectors.shape == reference.shape
        assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
        assert np.sum(vectors * reference, axis=1).min() > floor


@pytest.mark.model
def test_another_backend_embeds_every_document_again_keeping_those_added_over_http(
    tmp_path: Path, float32_embedder: SentenceTransformerEmbedder, int8_embedder: SentenceTransformerEmbedder
) -> None:
    index_dir, folder = tmp_path / "index", tmp_path / "notes"
    folder.mkdir()
    (folder / "toba.txt").write_text("Danau Toba terletak di Sumatera Utara.\n", encoding="utf-8")
    plain = RagEngine(make_settings(index_dir), embedder=float32_embedder, store=IndexStore(index_dir))
    plain.reindex([folder])
    plain.add_document(KEBUN)  # no file behind it: only the index holds its text

    settings = make_settings(index_dir, embedding_backend="torch-int8")
    quantized = RagEngine(settings, embedder=int8_embedder, store=IndexStore(index_dir))
    with pytest.raises(IndexIncompatibleError, match="run 'rag reindex'"):
        quantized.ask("Siapa yang mendirikan Kebun Raya Bogor?")
    report = quantized.reindex()
    assert report.texts_embedded > 0 and report.removed == []
    assert {d.document.id for d in quantized.documents()} == {"notes/toba.txt", "kebun.md"}
    assert quantized.in_service().generation.model == "google/embeddinggemma-300m@torch-int8"
    assert "Reinwardt" in quantized.ask("Siapa yang mendirikan Kebun Raya Bogor?").text
