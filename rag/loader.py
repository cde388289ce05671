"""The generation in service: loaded once, replaced in the background when another process publishes one."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

from rag.answering.calibration import params_for
from rag.answering.composer import Composer
from rag.config import Settings
from rag.errors import IndexCorruptError, IndexIncompatibleError, RagError
from rag.language.tokens import Tokenizer
from rag.search.retrieval import Retriever
from rag.storage.generation import Generation
from rag.storage.store import IndexStore

# Weight of BM25 (scaled 0..1) added to the cosine, times the query's vocabulary coverage. Measured with a
# fusion sweep (bench/fusion_sweep.py, in git up to ad723f1), chunk MRR@10 dense-only -> 0.05 -> 0.15: TyDi
# 0.9627 -> 0.9628 -> 0.9563, Ballerina dev 0.858 -> 0.875 -> 0.846. Larger weights let BM25 override better
# dense rankings.
LEXICAL_WEIGHT = 0.05

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class InService:
    """What answers come from right now: a generation with its retriever and composer.

    Benchmarks and evaluation take it from `RagEngine.in_service()` to score the parts one by one.
    """

    generation: Generation
    retriever: Retriever
    composer: Composer
    current: str | None = None  # the name in CURRENT when this was loaded
    degraded: str = ""  # why an earlier generation is served instead, if it is


class GenerationLoader:
    """Keeps the generation in service current without making requests wait.

    The new generation is loaded in a background thread while requests keep answering from the one they
    have, then swapped in with one reference assignment.
    """

    def __init__(self, settings: Settings, store: IndexStore, *, model: str) -> None:
        self._settings = settings
        self._store = store
        self._model = model
        self._tokenizer = Tokenizer()
        self._loaded: InService | None = None
        self._reload_lock = threading.Lock()
        self._loader_lock = threading.Lock()
        self._loader: threading.Thread | None = None
        self._unloadable: str | None = None  # a CURRENT whose load failed: not retried in the background

    @property
    def loaded(self) -> InService | None:
        """What is in service, without loading anything."""
        return self._loaded

    def current(self) -> InService:
        """The generation in service; only the first load ever makes a request wait."""
        name = self._store.current_name()
        loaded = self._loaded
        if loaded is not None and loaded.current == name:
            return loaded
        if loaded is not None:
            if name != self._unloadable:
                self._load_in_background()
            return loaded
        return self.reload()

    def _load_in_background(self) -> None:
        with self._loader_lock:
            if self._loader is not None and self._loader.is_alive():
                return
            self._loader = threading.Thread(target=self._background_load, name="rag-generation-loader", daemon=True)
            self._loader.start()

    def _background_load(self) -> None:
        name = self._store.current_name()
        try:
            self.reload()
        except RagError as exc:
            self._unloadable = name
            logger.error("generation %s cannot be loaded (%s); still serving the previous one", name, exc.message)

    def wait(self) -> None:
        """Block until a background load in progress has finished."""
        loader = self._loader
        if loader is not None:
            loader.join()

    def adopt(self) -> None:
        """After a write through this process: serve the new generation before returning, if serving at all."""
        if self._loaded is not None:
            self.reload()

    def reload(self) -> InService:
        with self._reload_lock:
            name = self._store.current_name()
            loaded = self._loaded
            if loaded is None or loaded.current != name:
                generation, degraded = self._last_good_generation(loaded.generation if loaded else None)
                retriever = Retriever(
                    generation, self._tokenizer, lexical_weight=LEXICAL_WEIGHT, ranking=self._settings.ranking
                )
                params = params_for(generation.model, abstain_threshold=self._settings.abstain_threshold)
                loaded = InService(generation, retriever, Composer(retriever, params=params), name, degraded)
                self._loaded = loaded
            return loaded

    def _last_good_generation(self, reuse: Generation | None) -> tuple[Generation, str]:
        """The generation in service or, when it is damaged, the newest earlier one that loads, and why.

        Segments the generation served so far (`reuse`) already holds are not read again."""
        model = self._model
        try:
            return self._store.load(model=model, reuse=reuse), ""
        except IndexCorruptError as exc:
            damage = exc.message
        current = self._store.current_name() or ""
        for name in reversed([n for n in self._store.finished() if n < current]):
            try:
                generation = self._store.load_generation(name, model=model, reuse=reuse)
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
