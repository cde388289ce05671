"""RagEngine: the one facade the CLI and the HTTP service call."""

from __future__ import annotations

import errno
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import get_args

from rag.answer import Answer, Composer
from rag.backends import backend_of, base_model
from rag.calibration import params_for
from rag.chunking import Chunker
from rag.config import Settings
from rag.documents import Document
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.errors import (
    DocumentNotFoundError,
    IndexCorruptError,
    IndexIncompatibleError,
    InvalidInputError,
    RagError,
    StorageFullError,
)
from rag.generation import Generation
from rag.indexing import Indexer, ReindexReport
from rag.lexical import Tokenizer
from rag.retrieval import Hit, Query, Retriever
from rag.segment_builder import SegmentBuilder
from rag.segments import StoredDocument
from rag.store import IndexStore
from rag.titles import DEFAULT_UNTITLED, UntitledContext
from rag.vector_cache import VectorCache

CACHE_FILE = "embeddings.sqlite"
MAX_TOP_K = 50
# Weight of BM25 (scaled 0..1) added to the cosine, times the query's vocabulary coverage. Measured with
# bench/fusion_sweep.py (in git up to ad723f1), chunk MRR@10 dense-only -> 0.05 -> 0.15: TyDi 0.9627 ->
# 0.9628 -> 0.9563, Ballerina dev 0.858 -> 0.875 -> 0.846. Larger weights let BM25 override better dense rankings.
LEXICAL_WEIGHT = 0.05

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Health:
    ready: bool
    generation: str | None
    model: str
    documents: int
    chunks: int
    detail: str
    degraded: bool = False


@dataclass(frozen=True)
class WarmUp:
    """Seconds spent loading the index, and loading the model up to its first query."""

    index_seconds: float
    model_seconds: float


@dataclass(frozen=True)
class Results:
    """Passages found for a query, and the index generation they were found in."""

    query: str
    hits: list[Hit]
    generation: str
    model: str


@dataclass(frozen=True)
class TextWindow:
    """`text == document_text[start:end]` of one document, which has `characters` characters in all."""

    doc_id: str
    title: str
    start: int
    end: int
    characters: int
    text: str


@dataclass(frozen=True)
class _Loaded:
    generation: Generation
    retriever: Retriever
    composer: Composer
    current: str | None = None  # the name in CURRENT when this was loaded
    degraded: str = ""  # why an earlier generation is served instead, if it is


class RagEngine:
    """Answers, searches and reindexes one index directory with one embedding model.

    The generation in service is re-read whenever another process publishes a new one: the new
    generation is loaded in a background thread while requests keep answering from the one they
    have, then swapped in with one reference assignment. Writes made through this engine load their
    generation before they return, so a caller's next question sees its own change.
    """

    def __init__(
        self, settings: Settings, *, embedder: Embedder, store: IndexStore, cache: VectorCache | None = None
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.cache = cache or VectorCache(settings.index_dir / CACHE_FILE)
        self._tokenizer = Tokenizer()
        self._loaded: _Loaded | None = None
        self._reload_lock = threading.Lock()
        self._loader_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._unloadable: str | None = None  # a CURRENT whose load failed: not retried in the background

    @classmethod
    def from_settings(cls, settings: Settings) -> RagEngine:
        """An engine over settings.index_dir. Unless RAG_EMBEDDING_BACKEND says otherwise, an index keeps the
        backend it was built with (a new default never makes an existing index unreadable)."""
        store = IndexStore(settings.index_dir, graph_min_rows=settings.vector_graph_min_rows)
        recorded = store.recorded_model()
        backend = None
        if settings.embedding_backend is None and recorded and base_model(recorded) == settings.embedding_model:
            backend = backend_of(recorded)
        embedder = SentenceTransformerEmbedder.from_settings(settings, backend=backend)
        return cls(settings, embedder=embedder, store=store)

    # -- reading -------------------------------------------------------------------------------

    def _current(self) -> _Loaded:
        """The generation in service; only the first load ever makes a request wait."""
        name = self.store.current_name()
        loaded = self._loaded
        if loaded is not None and loaded.current == name:
            return loaded
        if loaded is not None:
            if name != self._unloadable:
                self._load_in_background()
            return loaded
        return self._reload()

    def _load_in_background(self) -> None:
        with self._loader_lock:
            if self._loader is not None and self._loader.is_alive():
                return
            self._loader = threading.Thread(target=self._background_load, name="rag-generation-loader", daemon=True)
            self._loader.start()

    def _background_load(self) -> None:
        name = self.store.current_name()
        try:
            self._reload()
        except RagError as exc:
            self._unloadable = name
            logger.error("generation %s cannot be loaded (%s); still serving the previous one", name, exc.message)

    def wait_for_loader(self) -> None:
        """Block until a background load in progress has finished (tests and benchmarks)."""
        loader = self._loader
        if loader is not None:
            loader.join()

    def _adopt(self) -> None:
        """After a write through this engine: serve the new generation before returning, if serving at all."""
        if self._loaded is not None:
            self._reload()

    def _reload(self) -> _Loaded:
        with self._reload_lock:
            name = self.store.current_name()
            loaded = self._loaded
            if loaded is None or loaded.current != name:
                generation, degraded = self._last_good_generation(loaded.generation if loaded else None)
                retriever = Retriever(
                    generation, self._tokenizer, lexical_weight=LEXICAL_WEIGHT, ranking=self.settings.ranking
                )
                params = params_for(generation.model, abstain_threshold=self.settings.abstain_threshold)
                composer = Composer(retriever, params=params)
                loaded = _Loaded(generation, retriever, composer, name, degraded)
                self._loaded = loaded
            return loaded

    def _last_good_generation(self, reuse: Generation | None) -> tuple[Generation, str]:
        """The generation in service or, when it is damaged, the newest earlier one that loads, and why.

        Segments the generation served so far (`reuse`) already holds are not read again."""
        model = self.embedder.model_name
        try:
            return self.store.load(model=model, reuse=reuse), ""
        except IndexCorruptError as exc:
            damage = exc.message
        current = self.store.current_name() or ""
        for name in reversed([n for n in self.store.finished() if n < current]):
            try:
                generation = self.store.load_generation(name, model=model, reuse=reuse)
            except (IndexCorruptError, IndexIncompatibleError):
                continue
            reason = f"generation {current} is damaged ({damage}); serving the previous generation {name}"
            logger.error("index degraded: %s", reason)
            return generation, reason
        logger.error("index unusable: generation %s is damaged (%s) and no earlier one loads", current, damage)
        raise IndexCorruptError(
            f"{damage}; no earlier generation is intact either: rebuild with 'rag reindex' (it rescans the indexed "
            "folders; documents added over HTTP must be sent again)"
        )

    def _query(self, loaded: _Loaded, text: str) -> Query:
        vector = self.embedder.embed_queries([text])[0]
        if vector.shape[0] != loaded.generation.dimension:
            raise IndexIncompatibleError(
                f"index vectors have {loaded.generation.dimension} dimensions, the model gives "
                f"{vector.shape[0]}; run 'rag reindex'"
            )
        return loaded.retriever.prepare(text, vector)

    def _validate(self, text: str, top_k: int | None) -> int:
        if not text.strip():
            raise InvalidInputError("the question is empty; ask something")
        if len(text) > self.settings.max_question_chars:
            raise InvalidInputError(
                f"the question has {len(text)} characters; the maximum is {self.settings.max_question_chars}"
            )
        k = self.settings.top_k if top_k is None else top_k
        if not 1 <= k <= MAX_TOP_K:
            raise InvalidInputError(f"top_k must be between 1 and {MAX_TOP_K}, got {k}")
        return k

    def ask(self, question: str, *, top_k: int | None = None) -> Answer:
        """A short extractive answer with citations, or an abstention."""
        k = self._validate(question, top_k)
        loaded = self._current()
        query = self._query(loaded, question.strip())
        return loaded.composer.compose(query, loaded.retriever.search(query, k=k))

    def search(self, query: str, *, top_k: int | None = None) -> Results:
        """The best-matching passages, with the generation they were found in."""
        k = self._validate(query, top_k)
        loaded = self._current()
        hits = loaded.retriever.search(self._query(loaded, query.strip()), k=k)
        return Results(query, hits, loaded.generation.name, loaded.generation.model)

    def rank_documents(self, query: str, *, k: int) -> list[tuple[str, float]]:
        """Document ids ranked by their best passage (for retrieval benchmarks)."""
        loaded = self._current()
        return loaded.retriever.rank_documents(self._query(loaded, query), k=k)

    def retriever(self) -> Retriever:
        """The retriever over the generation in service (for benchmarks that score its parts)."""
        return self._current().retriever

    def generation(self) -> Generation:
        return self._current().generation

    def documents(self) -> list[StoredDocument]:
        return self._current().generation.documents()

    def document_text(self, doc_id: str, *, start: int | None = None, end: int | None = None) -> TextWindow:
        """The indexed text of a document, or the window `text[start:end]` of it (offsets as in citations)."""
        stored = self._current().generation.document(doc_id)
        if stored is None:
            raise DocumentNotFoundError(f"no document has the id {doc_id!r}; 'rag documents' lists them")
        text = stored.document.text
        first = 0 if start is None else start
        last = len(text) if end is None else end
        if not 0 <= first <= last <= len(text):
            raise InvalidInputError(
                f"the window {first}-{last} is not inside the document's {len(text)} characters; "
                "give 0 <= start <= end <= characters"
            )
        return TextWindow(stored.document.id, stored.document.label, first, last, len(text), text[first:last])

    def health(self) -> Health:
        try:
            loaded = self._current()
        except RagError as exc:
            return Health(False, None, self.embedder.model_name, 0, 0, exc.message)
        generation, degraded = loaded.generation, loaded.degraded
        documents, chunks = generation.manifest["counts"]["documents"], generation.manifest["counts"]["chunks"]
        return Health(True, generation.name, generation.model, documents, chunks, degraded or "ok", bool(degraded))

    # -- writing -------------------------------------------------------------------------------

    def _untitled(self, held: Generation | None) -> UntitledContext:
        """RAG_UNTITLED_CONTEXT, else the choice the index in service was built with (a new default does not
        embed an existing collection again), else the default for new indexes."""
        if self.settings.untitled_context is not None:
            return self.settings.untitled_context
        manifest = held.manifest if held is not None else self.store.recorded() or {}
        recorded = manifest.get("chunking", {}).get("untitled")
        return recorded if recorded in get_args(UntitledContext) else DEFAULT_UNTITLED

    def _indexer(self, *, sentences: bool = True) -> Indexer:
        loaded = self._loaded
        # Only a generation served as current (not an earlier one served around damage) is built on directly.
        held = loaded.generation if loaded is not None and not loaded.degraded else None
        builder = SegmentBuilder(
            self.embedder,
            self.cache,
            Chunker(size=self.settings.chunk_size, overlap=self.settings.chunk_overlap),
            sentences=sentences,
            untitled=self._untitled(held),
            chunk_vectors=self.settings.chunk_vectors,
        )
        return Indexer(self.store, builder, keep_generations=self.settings.keep_generations, loaded=held)

    @contextmanager
    def _writing(self) -> Iterator[None]:
        """Turn a full disk into a StorageFullError; the generation in service is untouched."""
        try:
            yield
        except OSError as exc:
            if exc.errno not in (errno.ENOSPC, errno.EDQUOT):
                raise
            raise StorageFullError(self._full_message(exc)) from exc
        except sqlite3.OperationalError as exc:
            if "full" not in str(exc):
                raise
            raise StorageFullError(self._full_message(exc)) from exc

    def _full_message(self, exc: Exception) -> str:
        return (
            f"the disk holding {self.settings.index_dir} is full ({exc}); nothing was changed: "
            "free some space and retry"
        )

    def reindex(
        self, paths: Sequence[Path] = (), *, dry_run: bool = False, progress: bool = False, prune: bool = False
    ) -> ReindexReport:
        """Index the given files and folders; with none, rescan every known one (the bundled article at first).

        Known folders that are missing keep their documents unless `prune` is set.
        """
        with self._writing():
            report = self._indexer().reindex(paths, dry_run=dry_run, progress=progress, prune=prune)
        self._adopt()
        return report

    def add_document(self, document: Document) -> ReindexReport:
        """Add or replace (same id) one document given directly, e.g. over HTTP."""
        with self._writing():
            report = self._indexer().add([document])
        self._adopt()
        return report

    def remove_document(self, doc_id: str) -> ReindexReport:
        with self._writing():
            report = self._indexer().remove([doc_id])
        self._adopt()
        return report

    def compact(self) -> ReindexReport:
        """Merge all segments into one, without deleted rows; answers stay the same."""
        with self._writing():
            report = self._indexer().compact()
        self._adopt()
        return report

    def index_files(self, paths: Sequence[Path], *, sentences: bool = True, progress: bool = False) -> ReindexReport:
        """Make the index hold exactly the files under `paths`, read as `rag reindex` reads them
        (evaluation corpora; without sentences the index ranks passages but composes no answers)."""
        report = self._indexer(sentences=sentences).replace_all(paths, progress=progress)
        self._adopt()
        return report

    def has_index(self) -> bool:
        return self.store.current_name() is not None

    def warm_up(self) -> WarmUp:
        """Load the index, then the model, now rather than on the first request.

        One after the other: loading both side by side on 2 cores took longer (at 50,000 documents 9.9-10.7 s
        against 8.9-9.5 s), as both loads hold Python's GIL much of the time."""
        started = time.perf_counter()
        loaded = self._current()
        indexed = time.perf_counter()
        self._query(loaded, "warm-up")
        return WarmUp(indexed - started, time.perf_counter() - indexed)
