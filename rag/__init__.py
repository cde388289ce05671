"""A small cited-answer search service: every answer sentence points at the exact passage it came from."""

# The public names are imported on first use (PEP 562), so that `rag ask` through a running server
# does not pay for FAISS, BM25 and the rest of the engine it never calls.

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rag.answer import Answer, Citation
    from rag.config import Settings
    from rag.documents import Document, Span, parse_document
    from rag.engine import Health, RagEngine, TextWindow
    from rag.errors import (
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
    from rag.indexing import ReindexReport
    from rag.payloads import (
        answer_payload,
        document_payload,
        health_payload,
        report_payload,
        search_payload,
        text_payload,
    )
    from rag.retrieval import Hit
    from rag.segments import StoredDocument

_HOMES = {
    "rag.answer": ["Answer", "Citation"],
    "rag.config": ["Settings"],
    "rag.documents": ["Document", "Span", "parse_document"],
    "rag.engine": ["Health", "RagEngine", "TextWindow"],
    "rag.errors": [
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
    "rag.indexing": ["ReindexReport"],
    "rag.payloads": [
        "answer_payload",
        "document_payload",
        "health_payload",
        "report_payload",
        "search_payload",
        "text_payload",
    ],
    "rag.retrieval": ["Hit"],
    "rag.segments": ["StoredDocument"],
}
_MODULE_OF = {name: module for module, names in _HOMES.items() for name in names}

__all__ = [
    "Answer",
    "Citation",
    "Document",
    "DocumentConflictError",
    "DocumentError",
    "DocumentNotFoundError",
    "Health",
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
    "answer_payload",
    "document_payload",
    "health_payload",
    "parse_document",
    "report_payload",
    "search_payload",
    "text_payload",
]


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module 'rag' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
