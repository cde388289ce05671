"""HTTP routes: each validates its body, calls the engine and returns the core's JSON view."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool

from rag import (
    RagEngine,
    answer_payload,
    document_payload,
    health_payload,
    report_payload,
    search_payload,
)
from service.schemas import (
    AskRequest,
    AskResponse,
    DocumentOut,
    ErrorResponse,
    HealthResponse,
    ReindexResponse,
    SearchRequest,
    SearchResponse,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON."},
    422: {"model": ErrorResponse, "description": "Invalid input (empty or too long question, bad top_k)."},
    503: {"model": ErrorResponse, "description": "No usable index or model yet."},
}

router = APIRouter()


def _engine(request: Request) -> RagEngine:
    engine: RagEngine = request.app.state.engine
    return engine


@router.post("/ask", response_model=AskResponse, responses=ERRORS)
async def ask(body: AskRequest, request: Request) -> dict[str, Any]:
    """Answer a question from the indexed documents.

    The answer is made of source sentences, each followed by a marker `[n]` that points at a
    citation: the document, the character offsets `start`/`end` and the exact `quote`.
    When the documents do not answer the question, `abstained` is true, the answer says so
    and there are no citations.
    """
    engine = _engine(request)
    answer = await run_in_threadpool(engine.ask, body.question, top_k=body.top_k)
    return answer_payload(answer, engine.generation())


@router.post("/search", response_model=SearchResponse, responses=ERRORS)
async def search(body: SearchRequest, request: Request) -> dict[str, Any]:
    """List the passages that best match a query, best first, with dense and lexical scores."""
    engine = _engine(request)
    hits = await run_in_threadpool(engine.search, body.query, top_k=body.top_k)
    return search_payload(body.query, hits, engine.generation())


@router.get("/documents", response_model=list[DocumentOut], responses=ERRORS)
async def documents(request: Request) -> list[dict[str, Any]]:
    """List the indexed documents with their content hash and number of chunks."""
    stored = await run_in_threadpool(_engine(request).documents)
    return [document_payload(d) for d in stored]


@router.post("/reindex", response_model=ReindexResponse, responses={**ERRORS, 409: {"model": ErrorResponse}})
async def reindex(request: Request) -> dict[str, Any]:
    """Rescan every known source and publish a new index generation if anything changed.

    Requests keep being answered from the previous generation until the new one is switched in.
    """
    report = await run_in_threadpool(_engine(request).reindex)
    return report_payload(report)


@router.get("/health", response_model=HealthResponse)
async def health(request: Request) -> dict[str, Any]:
    """Report whether an index is loaded, which generation and model, and how many documents and chunks."""
    return health_payload(await run_in_threadpool(_engine(request).health))
