"""RagEngine: the one facade the CLI and the HTTP service call."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import get_args

from rag.answering.composer import Answer
from rag.answering.generative import GenerativeComposer, generative_composer
from rag.config import MAX_TOP_K, Settings, UntitledContext
from rag.contract import HealthResponse
from rag.errors import (
    DocumentNotFoundError,
    IndexIncompatibleError,
    InvalidInputError,
    RagError,
)
from rag.indexing.cluster import ClusterWriter
from rag.indexing.indexer import Indexer
from rag.indexing.report import ReindexReport
from rag.indexing.segment_builder import SegmentBuilder
from rag.language.tokens import Tokenizer
from rag.loader import GenerationLoader, InService
from rag.model.backends import backend_of, base_model
from rag.model.embedding import Embedder, SentenceTransformerEmbedder
from rag.reading.chunking import Chunker
from rag.reading.documents import Document, TextWindow
from rag.reading.titles import DEFAULT_UNTITLED
from rag.search.retrieval import Query, Results
from rag.storage.files import disk_full_refused
from rag.storage.generation import Generation
from rag.storage.segments import StoredDocument
from rag.storage.store import IndexStore
from rag.storage.vector_cache import VectorCache

CACHE_FILE = "embeddings.sqlite"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarmUp:
    """Seconds spent loading the index, and loading the model up to its first query."""

    index_seconds: float
    model_seconds: float


class RagEngine:
    """Answers, searches and reindexes one index directory with one embedding model.

    The generation in service is re-read whenever another process publishes a new one: the new
    generation is loaded in a background thread while requests keep answering from the one they
    have, then swapped in with one reference assignment. Writes made through this engine load their
    generation before they return, so a caller's next question sees its own change.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder: Embedder,
        store: IndexStore,
        cache: VectorCache | None = None,
        generative: GenerativeComposer | None = None,
    ) -> None:
        self.settings = settings
        self.embedder = embedder
        self.store = store
        self.cache = cache or VectorCache(settings.index_dir / CACHE_FILE)
        self._loader = GenerationLoader(settings, store, model=embedder.model_name)
        self._tokenizer = Tokenizer()
        self._generative = generative

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
        return cls(settings, embedder=embedder, store=store, generative=generative_composer(settings, embedder))

    # -- reading -------------------------------------------------------------------------------

    def _query(self, loaded: InService, text: str) -> Query:
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

    def ask(self, question: str, *, top_k: int | None = None, generate: bool | None = None) -> Answer:
        """A short cited answer, or an abstention.

        With a generator configured (RAG_GENERATOR_URL) the answer is written by the model unless `generate` is
        False, and is given only when verified; otherwise the source sentences are, with `fallback_reason` set
        when a generated answer was asked for.
        """
        k = self._validate(question, top_k)
        loaded = self._loader.current()
        query = self._query(loaded, question.strip())
        extractive = loaded.composer.compose(query, loaded.retriever.search(query, k=k))
        if generate is False or (self._generative is None and not generate):
            return extractive
        if self._generative is None:
            reason = "no generator is configured: set RAG_GENERATOR_URL (and RAG_GENERATOR_MODEL)"
            return replace(extractive, fallback_reason=reason, outcome="not_configured")
        language = self._tokenizer.language(query.text, default="", identified=False)
        return self._generative.compose(query, extractive, loaded.generation, language=language)

    def search(self, query: str, *, top_k: int | None = None) -> Results:
        """The best-matching passages, with the generation they were found in."""
        k = self._validate(query, top_k)
        loaded = self._loader.current()
        hits = loaded.retriever.search(self._query(loaded, query.strip()), k=k)
        return Results(query, hits, loaded.generation.name, loaded.generation.model)

    def in_service(self) -> InService:
        """The generation answers come from now, with its retriever and composer (benchmarks score these)."""
        return self._loader.current()

    def wait_for_loader(self) -> None:
        """Block until a generation being loaded in the background is in service."""
        self._loader.wait()

    def documents(self) -> list[StoredDocument]:
        return self._loader.current().generation.documents()

    def document_text(self, doc_id: str, *, start: int | None = None, end: int | None = None) -> TextWindow:
        """The indexed text of a document, or the window `text[start:end]` of it (offsets as in citations, clamped
        to the text as a slice is)."""
        stored = self._loader.current().generation.document(doc_id)
        if stored is None:
            raise DocumentNotFoundError(f"no document has the id {doc_id!r}; 'rag documents' lists them")
        text = stored.document.text
        # Like a slice: offsets past the end stop at the end, and a start past the end gives an empty window.
        last = len(text) if end is None else min(end, len(text))
        first = 0 if start is None else min(start, last)
        if first < 0:
            raise InvalidInputError("start and end must be 0 or more")
        return TextWindow(stored.document.id, stored.document.label, first, last, len(text), text[first:last])

    def health(self) -> HealthResponse:
        """Whether a generation is in service, which, and how big (the body of GET /health)."""
        try:
            loaded = self._loader.current()
        except RagError as exc:
            return HealthResponse(
                status="not_ready",
                ready=False,
                generation=None,
                model=self.embedder.model_name,
                documents=0,
                chunks=0,
                detail=exc.message,
            )
        generation, degraded = loaded.generation, loaded.degraded
        return HealthResponse(
            status="degraded" if degraded else "ready",
            ready=True,
            generation=generation.name,
            model=generation.model,
            documents=generation.manifest["counts"]["documents"],
            chunks=generation.manifest["counts"]["chunks"],
            detail=degraded or "ok",
        )

    # -- writing -------------------------------------------------------------------------------

    def _untitled(self, held: Generation | None) -> UntitledContext:
        """RAG_UNTITLED_CONTEXT, else the choice the index in service was built with (a new default does not
        embed an existing collection again), else the default for new indexes."""
        if self.settings.untitled_context is not None:
            return self.settings.untitled_context
        manifest = held.manifest if held is not None else self.store.recorded() or {}
        recorded = manifest.get("chunking", {}).get("untitled")
        return recorded if recorded in get_args(UntitledContext) else DEFAULT_UNTITLED

    def _indexer(self, *, sentences: bool = True, cluster: bool = False) -> Indexer:
        loaded = self._loader.loaded
        # Only a generation served as current (not an earlier one served around damage) is built on directly.
        held = loaded.generation if loaded is not None and not loaded.degraded else None
        on_cluster = None
        if cluster:
            address, settings = self.settings.ray_address or "auto", self.settings
            on_cluster = ClusterWriter.join(address, model_dir=settings.model_dir, batch_size=settings.batch_size)
        builder = SegmentBuilder(
            self.embedder,
            self.cache,
            Chunker(size=self.settings.chunk_size, overlap=self.settings.chunk_overlap),
            sentences=sentences,
            untitled=self._untitled(held),
            chunk_vectors=self.settings.chunk_vectors,
        )
        return Indexer(
            self.store, builder, keep_generations=self.settings.keep_generations, loaded=held, cluster=on_cluster
        )

    def reindex(
        self,
        paths: Sequence[Path] = (),
        *,
        dry_run: bool = False,
        progress: bool = False,
        prune: bool = False,
        cluster: bool = False,
    ) -> ReindexReport:
        """Index the given files and folders; with none, rescan every known one (the bundled article at first).

        Known folders that are missing keep their documents unless `prune` is set. With `cluster`, the documents
        with texts to embed are chunked, embedded and written into segments on the Ray cluster at RAG_RAY_ADDRESS
        (default 'auto'); this process verifies and publishes them.
        """
        with disk_full_refused(self.settings.index_dir):
            indexer = self._indexer(cluster=cluster)
            report = indexer.reindex(paths, dry_run=dry_run, progress=progress, prune=prune)
        self._loader.adopt()
        return report

    def add_document(self, document: Document) -> ReindexReport:
        """Add or replace (same id) one document given directly, e.g. over HTTP."""
        with disk_full_refused(self.settings.index_dir):
            report = self._indexer().add([document])
        self._loader.adopt()
        return report

    def remove_document(self, doc_id: str) -> ReindexReport:
        with disk_full_refused(self.settings.index_dir):
            report = self._indexer().remove([doc_id])
        self._loader.adopt()
        return report

    def compact(self) -> ReindexReport:
        """Merge all segments into one, without deleted rows; answers stay the same."""
        with disk_full_refused(self.settings.index_dir):
            report = self._indexer().compact()
        self._loader.adopt()
        return report

    def index_files(self, paths: Sequence[Path], *, sentences: bool = True, progress: bool = False) -> ReindexReport:
        """Make the index hold exactly the files under `paths`, read as `rag reindex` reads them
        (evaluation corpora; without sentences the index ranks passages but composes no answers)."""
        report = self._indexer(sentences=sentences).replace_all(paths, progress=progress)
        self._loader.adopt()
        return report

    def has_index(self) -> bool:
        return self.store.current_name() is not None

    def warm_up(self) -> WarmUp:
        """Load the index, then the model, now rather than on the first request.

        One after the other: loading both side by side on 2 cores took longer (at 50,000 documents 9.9-10.7 s
        against 8.9-9.5 s), as both loads hold Python's GIL much of the time."""
        started = time.perf_counter()
        loaded = self._loader.current()
        indexed = time.perf_counter()
        self._query(loaded, "warm-up")
        return WarmUp(indexed - started, time.perf_counter() - indexed)
