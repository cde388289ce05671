"""Indexing on a Ray cluster: a head and a worker node on loopback embed what changed, as the local path would."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest

from rag import RagEngine
from rag.errors import ClusterError
from rag.indexing import cluster as cluster_module
from rag.indexing.cluster import ClusterWriter
from rag.indexing.report import ReindexReport
from rag.model.embedding import SentenceTransformerEmbedder, Vectors
from rag.storage.generation import Generation
from rag.storage.store import IndexStore
from tests.conftest import make_settings

pytestmark = pytest.mark.model

RAG = str(Path(sys.executable).with_name("rag"))
DOCS = {
    "borobudur.md": "# Borobudur\n\nBorobudur is a ninth-century Mahayana Buddhist temple in Magelang Regency, Central "
    "Java. It is the largest Buddhist temple in the world. The temple has nine stacked platforms topped by a dome.\n",
    "komodo.md": "# Komodo dragon\n\nThe Komodo dragon is a monitor lizard found on the islands of Komodo, Rinca and "
    "Flores. It is the largest living lizard and grows to a length of three metres.\n",
    "toba.md": "# Lake Toba\n\nLake Toba is a large lake in North Sumatra that fills the caldera of a supervolcano. "
    "The lake is about 100 kilometres long. Samosir is a volcanic island in the middle of the lake.\n",
    "batik.md": "# Batik\n\nBatik is a technique of wax-resist dyeing applied to cloth. UNESCO designated Indonesian "
    "batik as a Masterpiece of Oral and Intangible Heritage of Humanity in 2009.\n",
}
# Seconds an embedding actor runs before the fault test kills it.
ACTOR_KILLED_AFTER = 1.5
QUESTIONS = ["How long is Lake Toba?", "When did UNESCO recognise Indonesian batik?"]


class ClusterOnly:
    """The session's model for questions; a document text reaching it would mean it was not embedded on the cluster."""

    def __init__(self, model: SentenceTransformerEmbedder) -> None:
        self.model = model

    @property
    def model_name(self) -> str:
        return self.model.model_name

    @property
    def dimension(self) -> int:
        return self.model.dimension

    def embed_queries(self, texts: Sequence[str]) -> Vectors:
        return self.model.embed_queries(texts)

    def embed_documents(self, texts: Sequence[str], *, titles: Sequence[str] | None = None) -> Vectors:
        raise AssertionError(f"{len(texts)} document texts were embedded on the driver, not on the cluster")


@pytest.fixture(scope="module")
def cluster() -> Iterator[str]:
    """A head and one worker node (one CPU each) on loopback; the address engines join."""
    import ray
    from ray.cluster_utils import Cluster

    nodes = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    nodes.add_node(num_cpus=1)
    nodes.wait_for_nodes()
    yield str(nodes.address)
    ray.shutdown()
    nodes.shutdown()


def _folder(root: Path) -> Path:
    root.mkdir(parents=True)
    for name, text in DOCS.items():
        (root / name).write_text(text, encoding="utf-8")
    return root


def _on_cluster(index_dir: Path, address: str, model: SentenceTransformerEmbedder, **settings: object) -> RagEngine:
    return RagEngine(
        make_settings(index_dir, ray_address=address, **settings),
        embedder=ClusterOnly(model),
        store=IndexStore(index_dir),
    )


def _spans(generation: Generation) -> tuple[list[tuple[str, int, int]], list[tuple[str, int, int]]]:
    parts = [p.segment for p in generation.parts]
    chunks = [(c.doc_id, c.start, c.end) for s in parts for c in s.chunks]
    return chunks, [(c.doc_id, c.start, c.end) for s in parts for c in s.sentences]


def _vectors(generation: Generation) -> tuple[Vectors, Vectors]:
    parts = [p.segment for p in generation.parts]
    return np.vstack([s.chunk_vectors for s in parts]), np.vstack([s.sentence_vectors for s in parts])


def _cached_keys(index_dir: Path) -> set[str]:
    connection = sqlite3.connect(index_dir / "embeddings.sqlite")
    try:
        return {key for (key,) in connection.execute("SELECT key FROM vectors")}
    finally:
        connection.close()


def test_an_index_built_on_the_cluster_equals_the_local_one(
    cluster: str, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "docs")
    local = RagEngine(make_settings(tmp_path / "local"), embedder=embedder, store=IndexStore(tmp_path / "local"))
    remote = _on_cluster(tmp_path / "remote", cluster, embedder)
    local_report = local.reindex([folder])
    remote_report = remote.reindex([folder], cluster=True)
    assert remote_report.texts_embedded == local_report.texts_embedded > 0
    mine, theirs = local.in_service().generation, remote.in_service().generation
    # One segment written by each node's actor (the driver's model cannot embed a document), in document order.
    assert len(theirs.parts) == 2 and len(mine.parts) == 1
    assert [(d.document.id, d.document.hash, d.chunk_count, d.sentence_count) for d in theirs.documents()] == [
        (d.document.id, d.document.hash, d.chunk_count, d.sentence_count) for d in mine.documents()
    ]
    assert _spans(theirs) == _spans(mine)
    for got, expected in zip(_vectors(theirs), _vectors(mine), strict=True):
        np.testing.assert_allclose(got, expected, atol=1e-4)
    for question in QUESTIONS:
        answer, reference = remote.ask(question), local.ask(question)
        assert not reference.abstained
        assert answer.text == reference.text
        assert [(c.doc_id, c.start, c.end, c.quote) for c in answer.citations] == [
            (c.doc_id, c.start, c.end, c.quote) for c in reference.citations
        ]


def test_a_changed_file_sends_only_its_new_texts_to_the_cluster(
    cluster: str, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "docs")
    engine = _on_cluster(tmp_path / "index", cluster, embedder)
    engine.reindex([folder], cluster=True)
    before, cached = engine.in_service().generation, _cached_keys(tmp_path / "index")
    with (folder / "toba.md").open("a", encoding="utf-8") as file:
        file.write("Toba erupted about 74,000 years ago.\n")
    report = engine.reindex([folder], cluster=True)
    after = engine.in_service().generation
    changed = report.changed[0]
    assert report.changed == [changed] and changed.endswith("toba.md")
    assert len(report.unchanged) == len(DOCS) - 1

    def texts(generation: Generation) -> set[str]:
        segments = [p.segment for p in generation.parts if changed not in p.deleted]
        return {s.text for g in segments for s in [*g.chunks, *g.sentences] if s.doc_id == changed}

    new_texts = texts(after) - texts(before)
    assert new_texts and any("74,000" in text for text in new_texts)
    assert report.texts_embedded == len(new_texts) == len(_cached_keys(tmp_path / "index") - cached)


def test_a_failed_cluster_job_leaves_the_index_as_it_was(
    cluster: str, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "docs")
    engine = _on_cluster(tmp_path / "index", cluster, embedder)
    engine.reindex([folder], cluster=True)
    served = engine.store.current_name()
    (folder / "batik.md").write_text(DOCS["batik.md"] + "Batik day is on 2 October.\n", encoding="utf-8")
    # The workers look for the model where there is none: the job fails on every worker.
    broken = _on_cluster(tmp_path / "index", cluster, embedder, model_dir=tmp_path / "no-model")
    with pytest.raises(ClusterError, match="failed: the embedding model .* is not installed") as raised:
        broken.reindex([folder], cluster=True)
    assert raised.value.message.endswith("the index is unchanged")
    assert engine.store.current_name() == served
    batik = next(d.document.id for d in engine.documents() if d.document.id.endswith("batik.md"))
    assert "2 October" not in engine.document_text(batik).text
    report = engine.reindex([folder], cluster=True)
    assert report.changed == [batik] and engine.store.current_name() != served
    assert "2 October" in engine.document_text(batik).text


def test_without_ray_installed_joining_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(cluster_module.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ClusterError, match=r"pip install 'rag-cited\[cluster\]'.*ray start --head"):
        ClusterWriter.join("auto", model_dir=tmp_path, batch_size=16)


def test_reindex_on_an_unreachable_cluster_prints_one_line(tmp_path: Path) -> None:
    folder = _folder(tmp_path / "docs")
    env = {**os.environ, "RAG_INDEX_DIR": str(tmp_path / "index"), "RAG_RAY_ADDRESS": "127.0.0.1:1"}
    result = subprocess.run(
        [RAG, "reindex", str(folder), "--cluster"], capture_output=True, text=True, env=env, timeout=120, check=False
    )
    assert result.returncode == 1
    assert result.stdout == ""
    [line] = result.stderr.strip().splitlines()
    assert line.startswith("error: no Ray cluster answers at 127.0.0.1:1") and "ray start --head" in line
    assert not (tmp_path / "index" / "CURRENT").exists()


def _actor_pids() -> list[int]:
    """The processes of Ray Data's embedding actors (Ray titles them after the map they run)."""
    pids = []
    for entry in Path("/proc").iterdir():
        try:
            command = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if entry.name.isdigit() and b"MapWorker" in command and b"SegmentWriter" in command:
            pids.append(int(entry.name))
    return pids


def test_a_worker_killed_during_a_job_is_replaced_and_the_old_generation_served_meanwhile(
    cluster: str, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    folder = _folder(tmp_path / "docs")
    engine = _on_cluster(tmp_path / "index", cluster, embedder)
    engine.reindex([folder], cluster=True)
    served, cached_before = engine.store.current_name(), _cached_keys(tmp_path / "index")
    # Enough new texts that the job is still running when one of its actors is killed.
    for n in range(40):
        (folder / f"island-{n}.md").write_text(
            f"# Island {n}\n\nIsland number {n} lies {n + 3} kilometres off the coast of Flores. "
            f"About {n * 120 + 7} people live there, most of them fishing for tuna. A ferry calls {n % 6 + 1} "
            "times a week.\n",
            encoding="utf-8",
        )
    outcome: list[object] = []
    earlier = set(_actor_pids())  # actors of earlier jobs, if any still linger
    job = threading.Thread(target=lambda: outcome.append(engine.reindex([folder], cluster=True)))
    job.start()
    killed, seen = None, 0.0
    while job.is_alive() and killed is None:
        pids = [pid for pid in _actor_pids() if pid not in earlier]
        seen = seen or (time.monotonic() if pids else 0.0)
        # An actor's results come back only when its whole segment is written, so it is killed a while after it
        # started (its model loaded, embedding its group) rather than after its first results.
        if pids and time.monotonic() - seen > ACTOR_KILLED_AFTER:
            assert engine.store.current_name() == served
            killed = pids[0]
            os.kill(killed, signal.SIGKILL)
        job.join(timeout=0.05)
    job.join()
    assert killed is not None, "the job ended before an embedding actor could be killed"
    # Ray restarted the actor and retried its batch: the same run completed, and built what the local path builds.
    [report] = outcome
    assert isinstance(report, ReindexReport) and len(report.added) == 40
    assert engine.store.current_name() != served
    local = RagEngine(make_settings(tmp_path / "local"), embedder=embedder, store=IndexStore(tmp_path / "local"))
    local.reindex([folder])
    mine, theirs = local.in_service().generation, engine.in_service().generation
    assert sorted(_spans(theirs)[1]) == sorted(_spans(mine)[1])
    assert report.texts_embedded == len(_cached_keys(tmp_path / "index")) - len(cached_before)


@pytest.fixture(scope="module")
def replicas(
    cluster: str, embedder: SentenceTransformerEmbedder, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, RagEngine]]:
    """Two Serve replicas over an index of DOCS; their proxy's URL and a local engine over the same index."""
    from ray import serve

    from service.cluster import APP_NAME, serve_replicas

    root = tmp_path_factory.mktemp("serve")
    folder = _folder(root / "docs")
    local = RagEngine(make_settings(root / "index"), embedder=embedder, store=IndexStore(root / "index"))
    local.reindex([folder])
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    serve_replicas(make_settings(root / "index"), replicas=2, host="127.0.0.1", port=port, blocking=False)
    try:
        [deployment] = serve.status().applications[APP_NAME].deployments.values()
        assert deployment.replica_states == {"RUNNING": 2}
        yield f"http://127.0.0.1:{port}", local
    finally:
        serve.shutdown()  # type: ignore[no-untyped-call]


def test_two_serve_replicas_answer_with_exact_citations(replicas: tuple[str, RagEngine]) -> None:
    url, local = replicas
    for question in QUESTIONS:
        body = httpx.post(f"{url}/ask", json={"question": question}, timeout=60).json()
        reference = local.ask(question)
        assert body["answer"] == reference.text and body["citations"]
        for citation in body["citations"]:
            text = local.document_text(citation["document_id"]).text
            assert text[citation["start"] : citation["end"]] == citation["quote"]


def _add(url: str, name: str, text: str) -> str:
    response = httpx.post(f"{url}/documents", files={"file": (name, text.encode(), "text/markdown")}, timeout=120)
    assert response.status_code == 200, response.text
    [doc_id] = response.json()["added"]
    return str(doc_id)


def test_a_document_added_through_one_replica_is_answered_by_both(replicas: tuple[str, RagEngine]) -> None:
    url, _ = replicas
    doc_id = _add(
        url,
        "rafflesia.md",
        "# Rafflesia\n\nRafflesia arnoldii has the largest single flower of any plant. Its flower can reach a "
        "diameter of about one metre and smells of rotting flesh.\n",
    )
    # The proxy spreads questions over both replicas; the one that did not write adopts the new generation in
    # the background. Twenty answers in a row from it can come from one replica only with odds of 2**-20.
    in_a_row = 0
    for _ in range(300):
        body = httpx.post(f"{url}/ask", json={"question": "How wide is the flower of Rafflesia?"}, timeout=60).json()
        cited = {c["document_id"] for c in body["citations"]}
        in_a_row = in_a_row + 1 if doc_id in cited else 0
        if in_a_row == 20:
            break
    assert in_a_row == 20


def test_a_burst_of_questions_during_publishes_has_no_errors(replicas: tuple[str, RagEngine]) -> None:
    url, _ = replicas
    stop = threading.Event()

    def ask_until_stopped(question: str) -> list[int]:
        statuses: list[int] = []
        with httpx.Client(timeout=120) as client:
            while not stop.is_set() or not statuses:
                statuses.append(client.post(f"{url}/ask", json={"question": question}).status_code)
        return statuses

    with ThreadPoolExecutor(8) as pool:
        askers = [pool.submit(ask_until_stopped, QUESTIONS[n % len(QUESTIONS)]) for n in range(8)]
        for n in range(3):
            _add(url, f"volcano-{n}.md", f"# Volcano {n}\n\nVolcano {n} last erupted in {1900 + 7 * n}.\n")
        stop.set()
        statuses = [status for asker in askers for status in asker.result()]
    assert len(statuses) >= 8 and set(statuses) == {200}
