"""Readers never wait for a new generation: it loads in the background while requests use the old one."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

from rag import RagEngine
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.generation import Generation
from rag.storage.store import IndexStore
from tests.conftest import make_settings


class GatedStore(IndexStore):
    """An IndexStore whose loads of any generation but the first wait until the gate opens."""

    def __init__(self, root: Path, first: str) -> None:
        super().__init__(root)
        self.first = first
        self.gate = threading.Event()
        self.waiting = threading.Event()

    def load_generation(self, name: str, *, model: str, reuse: Generation | None = None) -> Generation:
        if name != self.first:
            self.waiting.set()
            self.gate.wait(timeout=600)
        return super().load_generation(name, model=model, reuse=reuse)


def test_questions_are_answered_from_the_old_generation_while_the_new_one_loads(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    first = IndexStore(index_dir).current_name() or ""
    store = GatedStore(index_dir, first)
    reader = RagEngine(make_settings(index_dir), embedder=embedder, store=store)
    assert reader.ask("Siapa sutradara film Ballerina?").generation == first

    writer = RagEngine(make_settings(index_dir), embedder=embedder, store=IndexStore(index_dir))
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "saman.md").write_text("# Tari Saman\n\nTari Saman berasal dari suku Gayo di Aceh.\n", encoding="utf-8")
    published = writer.reindex([folder]).generation
    assert published is not None and published != first

    answers: list[Any] = []
    asking = threading.Thread(target=lambda: answers.append(reader.ask("Siapa sutradara film Ballerina?")))
    asking.start()
    asking.join(timeout=600)
    # The question was answered while the new generation's load was still held at the gate.
    assert answers and answers[0].generation == first
    assert store.waiting.is_set() and not store.gate.is_set()

    store.gate.set()
    reader.wait_for_loader()
    answer = reader.ask("Dari suku mana Tari Saman berasal?")
    assert answer.generation == published
    assert answer.citations and answer.citations[0].doc_id == "new/saman.md"


def test_a_write_through_the_engine_is_served_when_it_returns(
    tmp_path: Path, article_index: Path, embedder: SentenceTransformerEmbedder
) -> None:
    index_dir = tmp_path / "index"
    shutil.copytree(article_index, index_dir)
    engine = RagEngine(make_settings(index_dir), embedder=embedder, store=IndexStore(index_dir))
    engine.warm_up()
    folder = tmp_path / "new"
    folder.mkdir()
    (folder / "saman.md").write_text("# Tari Saman\n\nTari Saman berasal dari suku Gayo di Aceh.\n", encoding="utf-8")
    published = engine.reindex([folder]).generation
    assert engine.ask("Dari suku mana Tari Saman berasal?").generation == published
