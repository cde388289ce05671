"""Faults: a damaged current generation is served around (degraded), none left is a 503, a full disk fails one write."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from rag import RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.segments import FILES, ROWS, SEGMENT_MANIFEST
from rag.storage.store import CURRENT, GENERATIONS, MANIFEST, IndexStore
from service.app import create_app
from tests.conftest import make_settings
from tests.index_files import own_segments, segments_of

EXTRA = "Gudang beras di Bogor dibangun pada tahun 1920 oleh koperasi petani."


def _client(index_dir: Path, embedder: SentenceTransformerEmbedder) -> TestClient:
    config = make_settings(index_dir)
    return TestClient(create_app(config, engine=RagEngine(config, embedder=embedder, store=IndexStore(index_dir))))


@pytest.fixture(scope="module")
def two_generations(
    tmp_path_factory: pytest.TempPathFactory, article_index: Path, embedder: SentenceTransformerEmbedder
) -> tuple[Path, str, str]:
    """An index whose previous generation holds the article and whose current one adds a document."""
    index_dir = tmp_path_factory.mktemp("faults") / "index"
    shutil.copytree(article_index, index_dir)
    store = IndexStore(index_dir)
    previous = store.current_name()
    assert previous is not None
    response = _client(index_dir, embedder).post("/documents", json={"id": "gudang", "text": EXTRA})
    assert response.status_code == 200, response.text
    return index_dir, previous, response.json()["generation"]


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def _flip(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in (len(data) // 3, len(data) // 2, len(data) - 5):
        data[offset] ^= 0xFF
    path.write_bytes(bytes(data))


def _remove(path: Path) -> None:
    path.unlink()


DAMAGES: dict[str, Callable[[Path], None]] = {"truncated": _truncate, "flipped bytes": _flip, "missing": _remove}


@pytest.mark.parametrize("damage", DAMAGES)
@pytest.mark.parametrize("file_name", [*FILES, SEGMENT_MANIFEST, MANIFEST])
def test_a_damaged_current_generation_is_reported_and_the_previous_one_served(
    two_generations: tuple[Path, str, str],
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
    file_name: str,
    damage: str,
) -> None:
    base, previous, current = two_generations
    index_dir = tmp_path / "index"
    shutil.copytree(base, index_dir)
    # The generation's own manifest, or a file of the segment only the current generation lists.
    (own,) = own_segments(index_dir, current, previous)
    DAMAGES[damage]((index_dir / GENERATIONS / current if file_name == MANIFEST else own) / file_name)

    client = _client(index_dir, embedder)
    health = client.get("/health").json()
    assert health["status"] == "degraded"
    assert health["ready"] is True
    assert health["generation"] == previous
    assert current in health["detail"] and previous in health["detail"]
    answer = client.post("/ask", json={"question": "Siapa sutradara film Ballerina?"}).json()
    assert answer["index"]["generation"] == previous
    assert "Lee Chung-hyun" in answer["answer"]
    assert "rag_index_degraded 1.0" in client.get("/metrics").text


def test_with_no_intact_generation_questions_get_503_naming_the_fix(
    two_generations: tuple[Path, str, str], embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    base, previous, current = two_generations
    index_dir = tmp_path / "index"
    shutil.copytree(base, index_dir)
    for segment in segments_of(index_dir, current):
        _flip(segment / "chunks.faiss")

    client = _client(index_dir, embedder)
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json()["status"] == "not_ready"
    response = client.post("/ask", json={"question": "Siapa sutradara film Ballerina?"})
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "index_corrupt"
    assert "rag reindex" in response.json()["error"]["message"]


def test_a_write_while_degraded_builds_on_the_last_good_generation(
    two_generations: tuple[Path, str, str], embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    base, previous, current = two_generations
    index_dir = tmp_path / "index"
    shutil.copytree(base, index_dir)
    (own,) = own_segments(index_dir, current, previous)
    _truncate(own / ROWS)
    client = _client(index_dir, embedder)

    response = client.post("/documents", json={"id": "baru", "text": "Kebun Raya Bogor didirikan pada 1817."})
    assert response.status_code == 200, response.text
    health = client.get("/health").json()
    assert health["status"] == "ready"
    # The article (from the last good generation) is kept; only what the damaged generation alone held is gone.
    assert sorted(d["id"] for d in client.get("/documents").json()) == ["ballerina_id.txt", "baru"]


def test_a_full_disk_fails_the_write_cleanly_and_the_service_keeps_answering(
    two_generations: tuple[Path, str, str],
    embedder: SentenceTransformerEmbedder,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    base, _, current = two_generations
    index_dir = tmp_path / "index"
    shutil.copytree(base, index_dir)
    client = _client(index_dir, embedder)

    def disk_full(path: Path, content: Any) -> None:
        path.write_bytes(b"SQLite format 3\0 and then the disk filled")
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr("rag.storage.segments._write_rows", disk_full)
    response = client.post("/documents", json={"id": "penuh", "text": "Dokumen ini tidak akan pernah tersimpan."})
    assert response.status_code == 507
    assert response.json()["error"]["code"] == "storage_full"
    assert "free some space" in response.json()["error"]["message"]

    assert (index_dir / CURRENT).read_text().strip() == current
    answer = client.post("/ask", json={"question": "Siapa sutradara film Ballerina?"})
    assert answer.status_code == 200 and answer.json()["index"]["generation"] == current
    monkeypatch.undo()
    assert client.post("/documents", json={"id": "penuh", "text": "Sekarang ada ruang."}).status_code == 200
