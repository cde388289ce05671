"""The onnx-int8 backend: exported by `rag model install`, verified, refused when changed, and served like any other."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rag import IndexIncompatibleError, ModelNotInstalledError, ModelVerificationError, RagEngine, Settings
from rag.model.embedding import SentenceTransformerEmbedder
from rag.model.installer import INSTALL_NAME, installed_path
from rag.model.onnx_encoder import OnnxEncoder
from rag.model.onnx_model import GRAPH, VERIFIED_MARKER, export_path, verify
from rag.storage.store import IndexStore
from tests.test_backends import KEBUN

RAG = str(Path(sys.executable).with_name("rag"))


def _model_dir_of_its_own(folder: Path) -> Path:
    """A model folder whose exports go under `folder`: the installed model itself is linked, never written."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / INSTALL_NAME).symlink_to(installed_path(Settings().model_dir), target_is_directory=True)
    return folder


@pytest.fixture(scope="module")
def onnx_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model folder with the onnx-int8 export made the way users make it: `rag model install`."""
    model_dir = _model_dir_of_its_own(tmp_path_factory.mktemp("models"))
    env = {**os.environ, "RAG_MODEL_DIR": str(model_dir), "RAG_EMBEDDING_BACKEND": "onnx-int8"}
    result = subprocess.run(
        [RAG, "model", "install"], capture_output=True, text=True, env=env, timeout=1200, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "onnx-int8 export verified" in result.stdout
    # Nothing but the steps and the outcome: no warnings or progress bars of the libraries underneath.
    assert [line.split(" (")[0] for line in result.stderr.splitlines()] == [
        "exporting the model to ONNX for onnx-int8",
        "quantizing to int8",
        "onnx-int8 verified",
    ]
    return model_dir


@pytest.fixture(scope="module")
def onnx_embedder(onnx_model_dir: Path) -> SentenceTransformerEmbedder:
    return SentenceTransformerEmbedder.from_settings(Settings(model_dir=onnx_model_dir, embedding_backend="onnx-int8"))


def test_onnx_int8_indexes_and_answers_with_vectors_close_to_float32(
    tmp_path: Path, onnx_embedder: SentenceTransformerEmbedder
) -> None:
    texts = [KEBUN.text, "Siapa yang mendirikan Kebun Raya Bogor?"]
    reference = SentenceTransformerEmbedder.from_settings(Settings(), backend="torch").embed_documents(texts)
    vectors = onnx_embedder.embed_documents(texts)
    assert vectors.dtype == np.float32 and vectors.shape == reference.shape
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.sum(vectors * reference, axis=1).min() > 0.98

    index_dir = tmp_path / "index"
    engine = RagEngine(Settings(index_dir=index_dir), embedder=onnx_embedder, store=IndexStore(index_dir))
    engine.add_document(KEBUN)
    assert engine.in_service().generation.model == "google/embeddinggemma-300m@onnx-int8.r2"
    answer = engine.ask("Siapa yang mendirikan Kebun Raya Bogor?")
    assert "Reinwardt" in answer.text
    assert KEBUN.text[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].quote


def test_a_texts_vector_does_not_depend_on_the_texts_embedded_with_it(
    onnx_embedder: SentenceTransformerEmbedder,
) -> None:
    # Dynamic int8 quantizes a whole call's activations with one scale: batched, a passage's vector moved by
    # up to 0.008 in cosine with its batch-mates. Together, the texts also run on several cores at once.
    texts = [KEBUN.text, "Danau Toba terletak di Sumatera Utara.", "Vitamin D and respiratory infections. " * 8]
    titles = ["Kebun Raya", "", ""]
    together = onnx_embedder.embed_documents(texts, titles=titles)
    alone = np.vstack(
        [onnx_embedder.embed_documents([t], titles=[title]) for t, title in zip(texts, titles, strict=True)]
    )
    assert np.allclose(alone, together, atol=1e-6)


def test_a_second_install_keeps_the_verified_export(onnx_model_dir: Path) -> None:
    graph = export_path(onnx_model_dir / INSTALL_NAME, "onnx-int8") / GRAPH
    before = graph.stat().st_mtime_ns
    env = {**os.environ, "RAG_MODEL_DIR": str(onnx_model_dir), "RAG_EMBEDDING_BACKEND": "onnx-int8"}
    result = subprocess.run([RAG, "model", "install"], capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0 and "onnx-int8 export verified" in result.stdout
    assert "exporting" not in result.stderr
    assert graph.stat().st_mtime_ns == before


def test_an_export_changed_since_it_was_verified_is_refused(onnx_model_dir: Path) -> None:
    graph = export_path(onnx_model_dir / INSTALL_NAME, "onnx-int8") / GRAPH
    stat = graph.stat()
    os.utime(graph, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    try:
        embedder = SentenceTransformerEmbedder.from_settings(
            Settings(model_dir=onnx_model_dir, embedding_backend="onnx-int8")
        )
        with pytest.raises(ModelNotInstalledError, match="RAG_EMBEDDING_BACKEND=onnx-int8 rag model install"):
            embedder.embed_queries(["Siapa?"])
    finally:
        os.utime(graph, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_an_export_of_an_earlier_revision_and_its_indexes_are_refused(onnx_model_dir: Path, tmp_path: Path) -> None:
    # onnx-int8 before r2 quantized the last two layers too: its marker carries no revision.
    marker = export_path(onnx_model_dir / INSTALL_NAME, "onnx-int8") / VERIFIED_MARKER
    verified = marker.read_text()
    settings = Settings(model_dir=onnx_model_dir, embedding_backend="onnx-int8", index_dir=tmp_path / "index")
    try:
        marker.write_text(verified.split(" ", 1)[1])
        with pytest.raises(ModelNotInstalledError, match="RAG_EMBEDDING_BACKEND=onnx-int8 rag model install"):
            SentenceTransformerEmbedder.from_settings(settings).embed_queries(["Siapa?"])
    finally:
        marker.write_text(verified)
    store = IndexStore(settings.index_dir)
    earlier = _Named(SentenceTransformerEmbedder.from_settings(settings), "google/embeddinggemma-300m@onnx-int8")
    RagEngine(settings, embedder=earlier, store=store).add_document(KEBUN)
    # Reopened without naming a backend, the index's own backend is used, at its current revision.
    engine = RagEngine.from_settings(Settings(model_dir=onnx_model_dir, index_dir=settings.index_dir))
    assert engine.embedder.model_name == "google/embeddinggemma-300m@onnx-int8.r2"
    with pytest.raises(IndexIncompatibleError, match="run 'rag reindex'"):
        engine.ask("Siapa yang mendirikan Kebun Raya Bogor?")


class _Named:
    """An embedder recording its vectors under another name (as an earlier version of the service did)."""

    def __init__(self, embedder: SentenceTransformerEmbedder, name: str) -> None:
        self.embedder = embedder
        self.model_name = name
        self.dimension = embedder.dimension

    def embed_queries(self, texts: Sequence[str]) -> Any:
        return self.embedder.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str], *, titles: Sequence[str] | None = None) -> Any:
        return self.embedder.embed_documents(texts, titles=titles)


@pytest.mark.model
def test_a_backend_without_an_export_says_how_to_make_one(tmp_path: Path) -> None:
    model_dir = _model_dir_of_its_own(tmp_path / "models")
    embedder = SentenceTransformerEmbedder.from_settings(Settings(model_dir=model_dir, embedding_backend="onnx"))
    with pytest.raises(ModelNotInstalledError, match="RAG_EMBEDDING_BACKEND=onnx rag model install"):
        embedder.embed_queries(["Siapa?"])


class _Shuffled:
    """An export that gives each text another text's vector."""

    def __init__(self, encoder: OnnxEncoder) -> None:
        self.encoder = encoder

    def encode(self, texts: Sequence[str], **options: Any) -> Any:
        return self.encoder.encode(texts, **options)[::-1]


def test_an_export_that_embeds_unlike_the_model_is_not_installed(onnx_model_dir: Path) -> None:
    from sentence_transformers import SentenceTransformer

    folder = onnx_model_dir / INSTALL_NAME
    reference = SentenceTransformer(str(folder), device="cpu", local_files_only=True)
    encoder = OnnxEncoder(folder, export_path(folder, "onnx-int8") / GRAPH)
    assert verify(reference, encoder, "onnx-int8") > 0.98
    with pytest.raises(ModelVerificationError, match="not installed"):
        verify(reference, _Shuffled(encoder), "onnx-int8")  # type: ignore[arg-type]
