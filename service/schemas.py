"""Request and response bodies of the HTTP API (pydantic, at the edge only)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

MAX_TOP_K = 50
# At least one character that is not white space (JSON Schema patterns match anywhere in the string). Python's
# str.strip() also removes U+001C-U+001F and U+0085, which JSON Schema's \s does not: they count as blank too.
NOT_BLANK = r"[^\s\u001c-\u001f\u0085]"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The document id rule as a JSON Schema pattern too: not starting with / or \ or a drive (C:), no '..' segment,
# no control characters.
SAFE_ID_PATTERN = r"^(?![/\\])(?![A-Za-z]:)(?!(?:.*[/\\])?\.\.(?:[/\\]|$))[^\x00-\x1f\x7f]+$"
SAFE_ID = re.compile(SAFE_ID_PATTERN)


def unicode_text(value: str) -> str:
    """Refuse strings that cannot be UTF-8 (lone surrogates, e.g. from a JSON escape like \\ud800)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode text (character {exc.start} is a lone surrogate)") from exc
    return value


def document_id(value: str) -> str:
    """An id is a name, never a path out of anywhere: no '..' segment, no absolute path, no control characters."""
    unicode_text(value)
    if _CONTROL.search(value):
        raise ValueError("a document id cannot hold control characters")
    if not SAFE_ID.search(value):
        raise ValueError("a document id cannot be an absolute path or hold a '..' segment")
    return value


Text = Annotated[str, AfterValidator(unicode_text)]
DocumentId = Annotated[str, AfterValidator(document_id)]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "Who plays Ok-ju?"}]})

    # maxLength is RAG_MAX_QUESTION_CHARS, written into the OpenAPI schema by create_app; the engine enforces it.
    question: Text = Field(
        ..., min_length=1, pattern=NOT_BLANK, description="A free-form question in any language (not blank)."
    )
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="Passages to consider (default 5).")
    generate: bool | None = Field(
        None,
        description="Have the configured generator write the answer (default: yes when one is configured); "
        "false: source sentences. true without a generator: the source sentences, with fallback_reason saying so.",
    )


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"query": "sutradara"}]})

    query: Text = Field(..., min_length=1, pattern=NOT_BLANK, description="What to look for (not blank).")
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="Passages to return (default 5).")


class DocumentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "notes/kebun.md", "text": "Kebun Raya Bogor didirikan pada 1817."}]},
    )

    id: DocumentId = Field(
        ...,
        min_length=1,
        max_length=500,
        json_schema_extra={"pattern": SAFE_ID_PATTERN},
        description="Stable id (no '..' segment, not absolute, no control characters); the same id is replaced.",
    )
    text: Text = Field(
        ..., min_length=1, pattern=NOT_BLANK, description="The document's full text (citations point into it)."
    )
    title: Text | None = Field(None, max_length=500, description="Defaults to the first Markdown heading or the id.")


class IndexInfo(BaseModel):
    generation: str
    model: str


class CitationOut(BaseModel):
    n: int = Field(..., description="The marker [n] in the answer text.")
    document_id: str
    title: str
    start: int = Field(..., description="Offset of the quote's first character in the document text.")
    end: int = Field(..., description="Offset just past the quote: document_text[start:end] == quote.")
    quote: str
    score: float
    page: int | None = Field(None, description="1-based page of the quote's start (PDF documents only).")


class DroppedOut(BaseModel):
    sentence: str = Field(..., description="A sentence the generator wrote that is not in the answer.")
    reason: str = Field(
        ...,
        description="Why: its quote is fabricated or misattributed, a number or name is "
        "not in the cited passage, negation disagrees, or the passage does not say it.",
    )


class AskResponse(BaseModel):
    question: str
    answer: str = Field(..., description="Sentences, each followed by its citation marker [n].")
    abstained: bool = Field(..., description="True when the documents do not answer the question.")
    confidence: float
    citations: list[CitationOut]
    mode: Literal["extractive", "generated"] = Field(
        ...,
        description="'generated': written by the model, every sentence verified against its citation; "
        "'extractive': the source sentences themselves.",
    )
    dropped: list[DroppedOut] = Field(..., description="Generated sentences left out, each with the reason.")
    fallback_reason: str | None = Field(
        ..., description="Why a generated answer was asked for and the extractive one is given (else null)."
    )
    index: IndexInfo


class HitOut(BaseModel):
    document_id: str
    title: str
    start: int
    end: int
    text: str
    score: float
    dense_score: float
    lexical_score: float


class SearchResponse(BaseModel):
    query: str
    hits: list[HitOut]
    index: IndexInfo


class DocumentOut(BaseModel):
    id: str
    title: str
    source: str
    hash: str
    characters: int
    chunks: int
    added_at: float
    updated_at: float


class TextResponse(BaseModel):
    document_id: str
    title: str
    start: int = Field(..., description="Offset of the window's first character in the document text.")
    end: int = Field(..., description="Offset just past the window: text == document_text[start:end].")
    characters: int = Field(..., description="Length of the whole document text.")
    text: str


class SkippedOut(BaseModel):
    path: str
    reason: str


class MissingSourceOut(BaseModel):
    path: str
    documents_kept: int


class ReindexResponse(BaseModel):
    generation: str | None
    dry_run: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[SkippedOut]
    missing_sources: list[MissingSourceOut] = Field(
        default_factory=list, description="Indexed folders not found: their documents are kept."
    )
    texts_embedded: int
    seconds: float


class HealthResponse(BaseModel):
    status: str = Field(
        ...,
        description="'ready'; 'degraded' when the current generation is damaged and an earlier one is served "
        "(`detail` says why); 'not_ready' when there is no usable index.",
    )
    ready: bool
    generation: str | None
    model: str
    documents: int
    chunks: int
    detail: str


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable, machine-readable: invalid_input, unauthorized, rate_limited...")
    message: str = Field(..., description="What went wrong and how to fix it.")
    request_id: str | None = Field(None, description="The X-Request-ID of the request, to find it in the logs.")


class ErrorResponse(BaseModel):
    error: ErrorBody
