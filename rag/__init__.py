"""A small cited-answer search service: every answer sentence points at the exact passage it came from."""

from rag.answer import Answer, Citation
from rag.config import Settings
from rag.documents import Document, Span, parse_document
from rag.engine import Health, RagEngine, TextWindow
from rag.errors import (
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
from rag.store import StoredDocument

__all__ = [
    "Answer",
    "Citation",
    "Document",
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
