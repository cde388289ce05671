"""Segments: a change writes only what it changes, compaction changes no answer, a kill -9 anywhere loses nothing."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from rag import Document, RagEngine
from rag.language.tokens import Tokenizer
from rag.model.embedding import SentenceTransformerEmbedder
from rag.search.lexical import Lexicon
from rag.storage.compaction import MERGE_FACTOR, plan
from rag.storage.entries import SegmentEntry
from rag.storage.postings import LexicalPart, Postings
from rag.storage.store import GENERATIONS, SEGMENTS, IndexStore
from rag.storage.vectors import is_graph
from tests.conftest import make_settings
from tests.index_files import files_under, manifest_of, segments_of, unreferenced_segments

QUESTIONS = ("Siapa sutradara film Ballerina?", "Who plays Ok-ju?", "Kapan Gudang beras di Bogor dibangun?")
NOTES = {
    "gudang.txt": "Gudang beras di Bogor dibangun pada tahun 1920 oleh koperasi petani.",
    "saman.txt": "Tari Saman berasal dari suku Gayo di Aceh.",
    "toba.txt": "Danau Toba terletak di Sumatera Utara dan terbentuk dari letusan gunung api purba.",
}


def _notes(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in NOTES.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def _engine(index_dir: Path, embedder: SentenceTransformerEmbedder, **settings: int) -> RagEngine:
    return RagEngine(make_settings(index_dir, **settings), embedder=embedder, store=IndexStore(index_dir))


@pytest.fixture
def notes_index(tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder) -> tuple[Path, Path]:
    """The article plus a folder of three notes, in two segments."""
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    folder = _notes(tmp_path / "notes")
    _engine(index_dir, embedder).reindex([folder])
    return index_dir, folder


def test_a_one_document_change_writes_one_small_segment_and_touches_no_other_file(
    notes_index: tuple[Path, Path], embedder: SentenceTransformerEmbedder
) -> None:
    index_dir, folder = notes_index
    before = files_under(index_dir / SEGMENTS)
    old_segments = segments_of(index_dir)
    (folder / "saman.txt").write_text("Tari Saman berasal dari suku Gayo di Aceh Tengah.", encoding="utf-8")

    report = _engine(index_dir, embedder).reindex([folder])
    assert report.changed == ["notes/saman.txt"] and report.unchanged == ["notes/gudang.txt", "notes/toba.txt"]
    after = files_under(index_dir / SEGMENTS)
    assert {k: v for k, v in after.items() if k in before} == before  # nothing written is ever rewritten
    (new,) = [s for s in segments_of(index_dir) if s not in old_segments]
    assert {str(Path(k).parent) for k in after if k not in before} == {new.name}
    deleted = {row["name"]: row["deleted"] for row in manifest_of(index_dir)["segments"]}
    assert deleted[old_segments[1].name] == ["notes/saman.txt"] and deleted[new.name] == []
    assert manifest_of(index_dir)["counts"]["documents"] == 4
    assert "Aceh Tengah" in _engine(index_dir, embedder).ask("Dari suku mana Tari Saman berasal?").text


def test_compaction_changes_no_answer(notes_index: tuple[Path, Path], embedder: SentenceTransformerEmbedder) -> None:
    index_dir, folder = notes_index
    engine = _engine(index_dir, embedder)
    (folder / "toba.txt").unlink()
    engine.reindex([folder])
    engine.add_document(Document("api-note", "", "Kebun Raya Bogor didirikan pada tahun 1817.", "api"))
    assert len(segments_of(index_dir)) == 3
    before = [engine.ask(q) for q in QUESTIONS]

    engine.compact()
    assert len(segments_of(index_dir)) == 1
    assert manifest_of(index_dir)["segments"][0]["deleted"] == []
    for old, new in zip(before, [engine.ask(q) for q in QUESTIONS], strict=True):
        assert (new.text, new.abstained) == (old.text, old.abstained)
        cited = [(c.doc_id, c.start, c.end) for c in new.citations]
        assert cited == [(c.doc_id, c.start, c.end) for c in old.citations]
        assert new.confidence == pytest.approx(old.confidence, abs=1e-4)


def test_segments_above_the_graph_threshold_answer_as_exact_search_does(
    notes_index: tuple[Path, Path], embedder: SentenceTransformerEmbedder
) -> None:
    index_dir, folder = notes_index
    exact = _engine(index_dir, embedder)
    exact.add_document(Document("api-note", "", "Kebun Raya Bogor didirikan pada tahun 1817.", "api"))
    graph_dir = index_dir.parent / "graph"
    shutil.copytree(index_dir, graph_dir)
    settings = make_settings(graph_dir, vector_graph_min_rows=5)
    graph = RagEngine(settings, embedder=embedder, store=IndexStore(graph_dir, graph_min_rows=5))
    graph.compact()  # rewrites every row into one segment, now above the threshold
    (part,) = graph.in_service().generation.parts
    assert is_graph(part.segment.chunk_index) and is_graph(part.segment.sentence_index)
    assert not any(is_graph(p.segment.chunk_index) for p in exact.in_service().generation.parts)

    for engine in (exact, graph):  # a deleted document must not come back through the graph either
        engine.remove_document("notes/toba.txt")
    for question in (*QUESTIONS, "Di mana Danau Toba?"):
        want, got = exact.search(question, top_k=5), graph.search(question, top_k=5)
        assert [h.chunk for h in got.hits] == [h.chunk for h in want.hits]
        assert "notes/toba.txt" not in {h.chunk.doc_id for h in got.hits}
        assert graph.ask(question).text == exact.ask(question).text


def test_chunk_vectors_from_sentences_embed_only_the_sentences(
    tmp_path: Path, embedder: SentenceTransformerEmbedder
) -> None:
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "saman.txt").write_text("Tari Saman berasal dari suku Gayo. Tarian ini dari Aceh.", encoding="utf-8")
    (folder / "toba.txt").write_text("Danau Toba ada di Sumatera Utara. Danau ini sangat luas.", encoding="utf-8")
    counts = {}
    for mode in ("embedded", "sentences"):
        index_dir = tmp_path / mode
        engine = RagEngine(make_settings(index_dir, chunk_vectors=mode), embedder=embedder, store=IndexStore(index_dir))
        counts[mode] = engine.reindex([folder]).texts_embedded
    # Two notes of one chunk and two sentences each: 6 texts embedded, or only the 4 sentences.
    assert counts == {"embedded": 6, "sentences": 4}
    (part,) = engine.in_service().generation.parts
    segment = part.segment
    for chunk, members in enumerate(segment.chunk_sentences):
        lengths = np.array([len(segment.sentences[m].text) for m in members], dtype=np.float32)
        mean = lengths @ segment.sentence_vectors[members]
        assert np.allclose(segment.chunk_vectors[chunk], mean / np.linalg.norm(mean), atol=1e-6)
    assert "Gayo" in engine.ask("Dari suku mana Tari Saman berasal?").text


def test_a_reader_keeps_answering_from_its_generation_while_compaction_removes_its_files(
    notes_index: tuple[Path, Path], embedder: SentenceTransformerEmbedder
) -> None:
    index_dir, _ = notes_index
    reader = _engine(index_dir, embedder)
    held = reader.ask(QUESTIONS[0])
    writer = _engine(index_dir, embedder, keep_generations=1)
    answers = []
    compaction = threading.Thread(target=writer.compact)
    compaction.start()
    while compaction.is_alive():
        answers.append(reader.ask(QUESTIONS[0]))
    compaction.join()
    assert not (index_dir / GENERATIONS / held.generation).exists()
    # Its generation's files are gone; the reader still answers from the segments it holds, then moves on.
    answers.append(reader.ask(QUESTIONS[0]))
    assert all(a.text == held.text for a in answers)
    reader.wait_for_loader()
    latest = reader.ask(QUESTIONS[0])
    assert latest.generation == manifest_of(index_dir)["generation"] and latest.text == held.text


def test_small_segments_merge_by_tiers() -> None:
    ones = [SegmentEntry(f"s{n}", "", documents=1) for n in range(MERGE_FACTOR - 1)]
    big = SegmentEntry("big", "", documents=5000)
    assert plan([big, *ones]) == []
    assert plan([big, *ones, SegmentEntry("last", "", documents=2)]) == [[e.name for e in ones] + ["last"]]
    mostly_deleted = SegmentEntry("old", "", deleted=frozenset(f"d{n}" for n in range(60)), documents=40)
    assert plan([big, mostly_deleted]) == [["old"]]


def test_ten_one_document_writes_leave_few_segments(fresh_engine: RagEngine) -> None:
    for n in range(MERGE_FACTOR + 1):
        fresh_engine.add_document(Document(f"d{n}", "", f"Pulau nomor {n} memiliki {n * 7} desa.", "api"))
    assert len(segments_of(fresh_engine.store.root)) == 2
    assert len(fresh_engine.documents()) == MERGE_FACTOR + 1
    assert unreferenced_segments(fresh_engine.store.root) == set()


def test_bm25_over_segments_equals_bm25s_over_the_live_collection() -> None:
    bm25s = pytest.importorskip("bm25s")
    tokenizer = Tokenizer()
    texts = [*NOTES.values(), "Danau Toba dan Danau Maninjau adalah danau vulkanik.", "Gudang tua di Bogor."]
    first, second = Postings.build(texts[:3], tokenizer), Postings.build(texts[3:], tokenizer)
    dead = np.array([True, False, True])  # the second text is deleted
    lexicon = Lexicon([LexicalPart(first, dead, 0), LexicalPart(second, np.array([True, True]), 3)], tokenizer)
    live = [texts[0], texts[2], texts[3], texts[4]]
    reference = bm25s.BM25()
    reference.index([tokenizer(t) or ["\x00"] for t in live], show_progress=False)
    terms = lexicon.query_terms("Di mana danau Toba dan gudang Bogor?")
    positions, scores = lexicon.scores(terms)
    expected = reference.get_scores([t for t in terms if lexicon.document_frequency(t)])
    assert positions.tolist() == [0, 2, 3, 4]
    assert np.allclose(scores, expected, atol=1e-5)


KILL_POINTS = {
    # module attribute patched -> kill -9 when it is called with a path of this name ("" = any)
    "segment files written, before segment.json": ("rag.storage.segments", "write_atomic", "segment.json"),
    "segment written, before the manifest": ("rag.storage.store", "write_atomic", "manifest.json"),
    "manifest written, before CURRENT": ("rag.storage.store", "write_atomic", "CURRENT"),
    "while deleting unreferenced files": ("shutil", "rmtree", ""),
}
KILLER = """
import importlib, os, signal, sys
from pathlib import Path
from rag import RagEngine
from rag.config import Settings
module, name, target, command, folder = sys.argv[1:]
owner = importlib.import_module(module)
real = getattr(owner, name)
def kill(path, *args, **kwargs):
    if not target or Path(path).name == target:
        os.kill(os.getpid(), signal.SIGKILL)
    return real(path, *args, **kwargs)
setattr(owner, name, kill)
engine = RagEngine.from_settings(Settings())
engine.compact() if command == "compact" else engine.reindex([Path(folder)])
raise SystemExit("the kill point was never reached")
"""


@pytest.mark.parametrize("command", ["reindex", "compact"])
@pytest.mark.parametrize("point", KILL_POINTS)
def test_a_kill_9_at_any_point_leaves_a_readable_index_and_the_next_command_completes(
    notes_index: tuple[Path, Path], embedder: SentenceTransformerEmbedder, point: str, command: str
) -> None:
    index_dir, folder = notes_index
    (folder / "saman.txt").write_text("Tari Saman berasal dari suku Gayo di Aceh Tengah.", encoding="utf-8")
    _engine(index_dir, embedder).reindex([folder])  # the edit's vectors are cached: the child embeds nothing
    (folder / "saman.txt").write_text("Tari Saman berasal dari suku Gayo di Aceh.", encoding="utf-8")
    env = {**os.environ, "RAG_INDEX_DIR": str(index_dir)}
    child = subprocess.run(
        [sys.executable, "-c", KILLER, *KILL_POINTS[point], command, str(folder)], env=env, capture_output=True
    )
    assert child.returncode == -9, child.stderr.decode()

    reader = _engine(index_dir, embedder)
    assert "Lee Chung-hyun" in reader.ask(QUESTIONS[0]).text
    again = _engine(index_dir, embedder)
    again.compact() if command == "compact" else again.reindex([folder])
    assert len(again.documents()) == 4
    # A reindex reads the file as it is now; a compaction keeps the text indexed before.
    expected = "suku Gayo di Aceh Tengah." if command == "compact" else "suku Gayo di Aceh."
    assert expected in again.ask("Dari suku mana Tari Saman berasal?").text
    assert unreferenced_segments(index_dir) == set()  # no partial or unlisted segment is left
