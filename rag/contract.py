"""The JSON contract: every response body of the HTTP API and of the CLI's --json, written once.

Pydantic models built from the core's values with `Model.of(value)`; the service declares them as its
response models (so the OpenAPI schema is this file) and the CLI prints `model_dump()`. Request bodies are
the service's own (service/schemas.py).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from rag.answering.composer import Answer
from rag.indexing.report import ReindexReport
from rag.reading.documents import TextWindow
from rag.search.retrieval import Hit, Results
from rag.storage.segments import StoredDocument


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
    reason: Literal["nothing_relevant", "names_absent", "low_confidence"] | None = Field(
        ...,
        description="Why the documents were judged not to answer (null when answered): 'nothing_relevant', no "
        "passage is about the question; 'names_absent', the names or numbers the question asks about are not in "
        "the passage closest to it (nor its title); 'low_confidence', the closest passage does not stand out "
        "from the rest of the documents. The answer text says it in the question's language.",
    )
    confidence: float = Field(
        ...,
        ge=0.0,
        le=1.0,
        description="How clearly the best sentence stands out from the rest of the documents as the answer, on "
        "a scale where 0.5 is the bar an answer must clear: below 0.5 the service declines, 1.0 is a sentence "
        "standing out twice as far as the bar (or more), 0 one that stands out not at all. It is not a "
        "probability of being right.",
    )
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

    @classmethod
    def of(cls, answer: Answer) -> AskResponse:
        return cls(
            question=answer.question,
            answer=answer.text,
            abstained=answer.abstained,
            reason=answer.abstention_reason,
            confidence=answer.confidence,
            citations=[
                CitationOut(
                    n=c.n,
                    document_id=c.doc_id,
                    title=c.title,
                    start=c.start,
                    end=c.end,
                    quote=c.quote,
                    score=c.score,
                    page=c.page,
                )
                for c in answer.citations
            ],
            mode="generated" if answer.mode == "generated" else "extractive",
            dropped=[DroppedOut(sentence=d.sentence, reason=d.reason) for d in answer.dropped],
            fallback_reason=answer.fallback_reason,
            index=IndexInfo(generation=answer.generation, model=answer.model),
        )


class HitOut(BaseModel):
    document_id: str
    title: str
    start: int
    end: int
    text: str
    score: float
    dense_score: float
    lexical_score: float

    @classmethod
    def of(cls, hit: Hit) -> HitOut:
        return cls(
            document_id=hit.chunk.doc_id,
            title=hit.title,
            start=hit.chunk.start,
            end=hit.chunk.end,
            text=hit.chunk.text,
            score=round(hit.score, 4),
            dense_score=round(hit.dense, 4),
            lexical_score=round(hit.lexical, 4),
        )


class SearchResponse(BaseModel):
    query: str
    hits: list[HitOut]
    index: IndexInfo

    @classmethod
    def of(cls, results: Results) -> SearchResponse:
        index = IndexInfo(generation=results.generation, model=results.model)
        return cls(query=results.query, hits=[HitOut.of(h) for h in results.hits], index=index)


class DocumentOut(BaseModel):
    id: str
    title: str
    source: str
    hash: str
    characters: int
    chunks: int
    language: str | None = Field(
        None,
        description="ISO 639-1 code of the language most of the text is in, as identified when indexed (a text too "
        "short to tell takes the default, Indonesian).",
    )
    added_at: float
    updated_at: float

    @classmethod
    def of(cls, stored: StoredDocument) -> DocumentOut:
        document = stored.document
        return cls(
            id=document.id,
            title=document.label,
            source=document.source,
            hash=document.hash,
            characters=len(document.text),
            chunks=stored.chunk_count,
            language=stored.language or None,
            added_at=stored.added_at,
            updated_at=stored.updated_at,
        )


class TextResponse(BaseModel):
    document_id: str
    title: str
    start: int = Field(..., description="Offset of the window's first character in the document text.")
    end: int = Field(..., description="Offset just past the window: text == document_text[start:end].")
    characters: int = Field(..., description="Length of the whole document text.")
    text: str

    @classmethod
    def of(cls, window: TextWindow) -> TextResponse:
        return cls(
            document_id=window.doc_id,
            title=window.title,
            start=window.start,
            end=window.end,
            characters=window.characters,
            text=window.text,
        )


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

    @classmethod
    def of(cls, report: ReindexReport) -> ReindexResponse:
        return cls(
            generation=report.generation,
            dry_run=report.dry_run,
            added=report.added,
            changed=report.changed,
            removed=report.removed,
            unchanged=report.unchanged,
            skipped=[SkippedOut(path=s.path, reason=s.reason) for s in report.skipped],
            missing_sources=[MissingSourceOut(path=m.path, documents_kept=m.documents) for m in report.missing],
            texts_embedded=report.texts_embedded,
            seconds=round(report.seconds, 3),
        )


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
