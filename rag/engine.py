"""RagEngine: the one facade the CLI and the HTTP service call."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rag.answer import Answer, Composer
from rag.chunking import Chunker
from rag.config import Settings
from rag.documents import Document, Skipped, default_corpus, scan
from rag.embedding import Embedder, SentenceTransformerEmbedder
from rag.errors import DocumentNotFoundError, IndexIncompatibleError, InvalidInputError, RagError
from rag.indexing import BUNDLED, Indexer, ReindexReport
from rag.lexical import Tokenizer
from rag.retrieval import Hit, Query, Retriever
from rag.store import Generation, IndexStore, StoredDocument
from rag.vector_cache import VectorCache

CACHE_FILE = "embeddings.sqlite"
MAX_TOP_K = 50
# Weight of BM25 (scaled 0..1) added to the cosine, times the query's vocabulary coverage. Measured with
# bench/fusion_sweep.py, chunk MRR@10 dense-only -> 0.05 -> 0.15: TyDi 0.9627 -> 0.9628 -> 0.9563,
# Ballerina dev 0.858 -> 0.875 -> 0.846. Larger weights let BM25 override better dense rankings.
LEXICAL_WEIGHT = 0.05


@dataclass(frozen=True)
class Health:
    ready: bool
    generation: str | None
    model: str
    documents: int
    chunks: int
    detail: str


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


class RagEngine:
    """Answers, searches and reindexes one index directory with one embedding model.

    The generation in service is re-read whenever another process publishes a new one:
    the new generation is loaded off to the side and swapped in with one reference assignment.
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

    @classmethod
    def from_settings(cls, settings: Settings) -> RagEngine:
        embedder = SentenceTransformerEmbedder.from_settings(settings)
        return cls(settings, embedder=embedder, store=IndexStore(settings.index_dir))

    # -- reading -------------------------------------------------------------------------------

    def _current(self) -> _Loaded:
        name = self.store.current_name()
        loaded = self._loaded
        if loaded is not None and loaded.generation.name == name:
            return loaded
        with self._reload_lock:
            loaded = self._loaded
            if loaded is None or loaded.generation.name != self.store.current_name():
                generation = self.store.load(model=self.embedder.model_name)
                retriever = Retriever(
                    generation, self._tokenizer, lexical_weight=LEXICAL_WEIGHT, ranking=self.settings.ranking
                )
                composer = Composer(retriever, abstain_threshold=self.settings.abstain_threshold)
                loaded = _Loaded(generation, retriever, composer)
                self._loaded = loaded
            return loaded

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

    def search(self, query: str, *, top_k: int | None = None) -> list[Hit]:
        k = self._validate(query, top_k)
        loaded = self._current()
        return loaded.retriever.search(self._query(loaded, query.strip()), k=k)

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
        return self._current().generation.content.documents

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
        return TextWindow(stored.document.id, stored.document.title, first, last, len(text), text[first:last])

    def health(self) -> Health:
        try:
            generation = self._current().generation
        except RagError as exc:
            return Health(False, None, self.embedder.model_name, 0, 0, exc.message)
        counts = generation.manifest["counts"]
        return Health(True, generation.name, generation.model, counts["documents"], counts["chunks"], "ok")

    # -- writing -------------------------------------------------------------------------------

    def _indexer(self, *, sentences: bool = True) -> Indexer:
        return Indexer(
            self.store,
            self.embedder,
            self.cache,
            Chunker(size=self.settings.chunk_size, overlap=self.settings.chunk_overlap),
            keep_generations=self.settings.keep_generations,
            sentences=sentences,
        )

    def reindex(self, paths: Sequence[Path] = (), *, dry_run: bool = False, progress: bool = False) -> ReindexReport:
        """Index the given files and folders; with none, rescan every known source (the bundled article at first)."""
        if paths:
            documents, skipped = scan(paths)
            roots = [str(p.resolve()) for p in paths]
        else:
            roots = self._known_sources() or [BUNDLED]
            documents, skipped = self._scan_roots(roots)
        return self._indexer().sync(documents, roots=roots, skipped=skipped, dry_run=dry_run, progress=progress)

    def add_document(self, document: Document) -> ReindexReport:
        """Add or replace (same id) one document given directly, e.g. over HTTP."""
        return self._indexer().sync([document], roots=[])

    def remove_document(self, doc_id: str) -> ReindexReport:
        return self._indexer().remove([doc_id])

    def index_documents(
        self, documents: Sequence[Document], *, source: str, sentences: bool = True, progress: bool = False
    ) -> ReindexReport:
        """Make the index hold exactly these documents (used for evaluation corpora)."""
        return self._indexer(sentences=sentences).sync(documents, roots=[source], progress=progress, replace=True)

    def _known_sources(self) -> list[str]:
        try:
            return list(self._current().generation.content.sources)
        except RagError:
            return []

    @staticmethod
    def _scan_roots(roots: Sequence[str]) -> tuple[list[Document], list[Skipped]]:
        documents: list[Document] = []
        skipped: list[Skipped] = []
        for root in roots:
            if root == BUNDLED:
                documents.extend(default_corpus())
            elif Path(root).exists():
                found, missed = scan([Path(root)])
                documents.extend(found)
                skipped.extend(missed)
        return documents, skipped

    def has_index(self) -> bool:
        return self.store.current_name() is not None

    def warm_up(self) -> None:
        """Load the index and the model now rather than on the first request."""
        self._query(self._current(), "warm-up")
