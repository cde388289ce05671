"""Request and response bodies of the HTTP API (pydantic, at the edge only)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

MAX_QUESTION_CHARS = 1000
MAX_TOP_K = 50


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "Who plays Ok-ju?"}]})

    question: str = Field(
        ..., description=f"A free-form question, 1 to {MAX_QUESTION_CHARS} characters, in any language."
    )
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="Passages to consider (default 5).")


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"query": "sutradara"}]})

    query: str = Field(..., description=f"What to look for, 1 to {MAX_QUESTION_CHARS} characters.")
    top_k: int | None = Field(None, ge=1, le=MAX_TOP_K, description="Passages to return (default 5).")


class DocumentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "notes/kebun.md", "text": "Kebun Raya Bogor didirikan pada 1817."}]},
    )

    id: str = Field(..., min_length=1, max_length=500, description="Stable id; a document with this id is replaced.")
    text: str = Field(..., min_length=1, description="The document's full text (citations point into it).")
    title: str | None = Field(None, max_length=500, description="Defaults to the first Markdown heading or the id.")


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


class AskResponse(BaseModel):
    question: str
    answer: str = Field(..., description="Source sentences, each followed by its citation marker [n].")
    abstained: bool = Field(..., description="True when the documents do not answer the question.")
    confidence: float
    citations: list[CitationOut]
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


class ReindexResponse(BaseModel):
    generation: str | None
    dry_run: bool
    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[SkippedOut]
    texts_embedded: int
    seconds: float


class HealthResponse(BaseModel):
    status: str = Field(..., description="'ready', or 'not_ready' when there is no usable index.")
    ready: bool
    generation: str | None
    model: str
    documents: int
    chunks: int
    detail: str


class ErrorBody(BaseModel):
    code: str
    message: str


class ErrorResponse(BaseModel):
    error: ErrorBody
