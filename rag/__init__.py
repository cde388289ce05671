"""A small cited-answer search service: every answer sentence points at the exact passage it came from."""

# The public names are imported on first use (PEP 562), so that `rag ask` through a running server
# does not pay for FAISS, BM25 and the rest of the engine it never calls.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.answering.composer import Answer, Citation
    from rag.config import MAX_TOP_K, Settings
    from rag.contract import (
        AskResponse,
        DocumentOut,
        HealthResponse,
        ReindexResponse,
        SearchResponse,
        TextResponse,
    )
    from rag.engine import RagEngine
    from rag.errors import (
        ClusterError,
        DocumentConflictError,
        DocumentError,
        DocumentNotFoundError,
        IndexBusyError,
        IndexCorruptError,
        IndexIncompatibleError,
        IndexNotFoundError,
        InvalidInputError,
        ModelNotInstalledError,
        ModelVerificationError,
        RagError,
        StorageFullError,
    )
    from rag.indexing.report import ReindexReport
    from rag.reading.documents import Document, Span, TextWindow, parse_document
    from rag.search.retrieval import Hit
    from rag.storage.segments import StoredDocument

_HOMES = {
    "rag.answering.composer": ["Answer", "Citation"],
    "rag.config": ["MAX_TOP_K", "Settings"],
    "rag.reading.documents": ["Document", "Span", "TextWindow", "parse_document"],
    "rag.engine": ["RagEngine"],
    "rag.errors": [
        "ClusterError",
        "DocumentConflictError",
        "DocumentError",
        "DocumentNotFoundError",
        "IndexBusyError",
        "IndexCorruptError",
        "IndexIncompatibleError",
        "IndexNotFoundError",
        "InvalidInputError",
        "ModelNotInstalledError",
        "ModelVerificationError",
        "RagError",
        "StorageFullError",
    ],
    "rag.indexing.report": ["ReindexReport"],
    "rag.contract": [
        "AskResponse",
        "DocumentOut",
        "HealthResponse",
        "ReindexResponse",
        "SearchResponse",
        "TextResponse",
    ],
    "rag.search.retrieval": ["Hit"],
    "rag.storage.segments": ["StoredDocument"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "ClusterError",
    "MAX_TOP_K",
    "Answer",
    "AskResponse",
    "DocumentOut",
    "HealthResponse",
    "ReindexResponse",
    "SearchResponse",
    "TextResponse",
    "Citation",
    "Document",
    "DocumentConflictError",
    "DocumentError",
    "DocumentNotFoundError",
    "Hit",
    "IndexBusyError",
    "IndexCorruptError",
    "IndexIncompatibleError",
    "IndexNotFoundError",
    "InvalidInputError",
    "ModelNotInstalledError",
    "ModelVerificationError",
    "RagEngine",
    "RagError",
    "ReindexReport",
    "Settings",
    "Span",
    "StorageFullError",
    "StoredDocument",
    "TextWindow",
    "parse_document",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
