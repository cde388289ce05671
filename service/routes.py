"""HTTP routes: each validates its body, calls the engine and returns the contract's model (rag.contract)."""

from __future__ import annotations

from functools import partial
from pathlib import PurePosixPath
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from rag import (
    AskResponse,
    Document,
    DocumentOut,
    HealthResponse,
    InvalidInputError,
    RagEngine,
    ReindexResponse,
    SearchResponse,
    Settings,
    TextResponse,
    parse_document,
)
from service.access import require_admin, require_reader
from service.guards import within_budget
from service.observability import Metrics
from service.responses import ApiError
from service.schemas import (
    SAFE_ID_PATTERN,
    AskRequest,
    DocumentIn,
    ErrorResponse,
    SearchRequest,
    document_id,
)


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Malformed JSON.",
        401: "No key, or an unknown one (when keys are configured); see WWW-Authenticate.",
        403: "A read key on a route that changes documents (when admin keys are configured).",
        404: "No document with this id.",
        409: "Another process is writing the index, or the id belongs to a document from another source.",
        413: "The body is over RAG_MAX_UPLOAD_BYTES, or the document over RAG_MAX_DOCUMENT_CHARS.",
        422: "Invalid input: blank or too long question, bad top_k, unsafe document id, unreadable document.",
        429: "Too many requests from this client (RAG_RATE_LIMIT); see Retry-After.",
        500: "Unexpected error; the message holds the request id to find it in the logs.",
        503: "No usable index or model yet (the message says which command fixes it), or over RAG_REQUEST_TIMEOUT.",
        507: "The disk is full; nothing was changed.",
    }
    headers = {
        401: {
            "WWW-Authenticate": {"description": 'Bearer realm="rag"', "required": True, "schema": {"type": "string"}}
        },
        403: {
            "WWW-Authenticate": {
                "description": 'error="insufficient_scope"',
                "required": True,
                "schema": {"type": "string"},
            }
        },
        429: {"Retry-After": {"description": "Seconds to wait.", "required": True, "schema": {"type": "integer"}}},
    }
    return {
        status: {
            "model": ErrorResponse,
            "description": descriptions[status],
            **({"headers": headers[status]} if status in headers else {}),
        }
        for status in statuses
    }


COMMON = (401, 429, 500)
WRITES = (400, 403, 409, 413, 422, 503, 507, *COMMON)
READ_ERRORS = _errors(400, 413, 422, 503, *COMMON)
WRITE_ERRORS = _errors(*WRITES)

# Documents added over HTTP have no file to rescan; `POST /reindex` keeps them as they are.
API_SOURCE = "api"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

router = APIRouter()
reader = [Depends(require_reader)]
admin = [Depends(require_admin)]


def _engine(request: Request) -> RagEngine:
    engine: RagEngine = request.app.state.engine
    return engine


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


@router.post("/ask", response_model=AskResponse, responses=READ_ERRORS, dependencies=reader)
async def ask(body: AskRequest, request: Request) -> AskResponse:
    """Answer a question from the indexed documents.

    The answer is made of sentences, each followed by a marker `[n]` that points at a citation: the
    document, the character offsets `start`/`end` and the exact `quote`. With a generator configured the
    sentences are the model's, in the question's language, each verified against its quote (`mode`
    "generated"); otherwise, or when verification fails (`fallback_reason`), they are the source's.
    When the documents do not answer the question, `abstained` is true, the answer says so
    and there are no citations.
    """
    timeout = _settings(request).request_timeout
    ask = partial(_engine(request).ask, generate=body.generate)
    answer = await within_budget(timeout, ask, body.question, top_k=body.top_k)
    _metrics(request).answers.labels(str(answer.abstained).lower()).inc()
    if answer.outcome is not None:
        _metrics(request).generations.labels(answer.outcome).inc()
    return AskResponse.of(answer)


@router.post("/search", response_model=SearchResponse, responses=READ_ERRORS, dependencies=reader)
async def search(body: SearchRequest, request: Request) -> SearchResponse:
    """List the passages that best match a query, best first, with dense and lexical scores."""
    engine = _engine(request)

    def run() -> SearchResponse:
        # Off the event loop: the first search may load the index. The hits name the generation they came from.
        return SearchResponse.of(engine.search(body.query, top_k=body.top_k))

    return await within_budget(_settings(request).request_timeout, run)


@router.get("/documents", response_model=list[DocumentOut], responses=_errors(503, *COMMON), dependencies=reader)
async def documents(request: Request) -> list[DocumentOut]:
    """List the indexed documents with their content hash and number of chunks."""
    stored = await within_budget(_settings(request).request_timeout, _engine(request).documents)
    return [DocumentOut.of(d) for d in stored]


UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": DocumentIn.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file"],
                    "properties": {
                        "file": {"type": "string", "format": "binary", "description": ".txt .md .html .pdf"},
                        "id": {
                            "type": "string",
                            "pattern": SAFE_ID_PATTERN,
                            "description": "Defaults to the file's base name.",
                        },
                    },
                }
            },
        },
    }
}


def _checked_id(value: str) -> str:
    try:
        return document_id(value)
    except ValueError as exc:
        raise InvalidInputError(f"id: {exc}") from exc


def _upload_name(filename: str | None) -> str:
    """The base name of an uploaded file: used for its suffix and the default id, never as a path."""
    return PurePosixPath((filename or "").replace("\\", "/")).name or "upload.txt"


async def _document_from_request(request: Request) -> Document:
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        # The context manager closes the spooled upload files.
        async with request.form() as form:
            upload, given_id = form.get("file"), form.get("id")
            if not isinstance(upload, StarletteUploadFile):
                raise InvalidInputError("send the document as a form field named 'file'")
            if given_id is not None and not isinstance(given_id, str):
                raise InvalidInputError("the form field 'id' must be text")
            name = _upload_name(upload.filename)
            doc_id = _checked_id(given_id or name)
            raw = await upload.read()
        # PDF and HTML parsing is CPU work: off the event loop.
        return await run_in_threadpool(parse_document, raw, name=name, doc_id=doc_id, source=API_SOURCE)
    try:
        body = DocumentIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    document = parse_document(body.text.encode("utf-8"), name=f"{body.id}.txt", doc_id=body.id, source=API_SOURCE)
    return Document(document.id, body.title or document.title, document.text, API_SOURCE)


@router.post(
    "/documents", response_model=ReindexResponse, responses=WRITE_ERRORS, openapi_extra=UPLOAD_BODY, dependencies=admin
)
async def add_document(request: Request) -> ReindexResponse:
    """Add a document, or replace the one with the same id, and publish a new index generation.

    Send JSON `{"id", "text", "title"?}`, or upload a file (`.txt`, `.md`, `.html`, `.pdf`) as multipart
    form field `file` with an optional `id`. The response names the generation that holds it.
    Binary, non-UTF-8 and empty files are refused (422), so are documents over the size limits (413).
    """
    document = await _document_from_request(request)
    limit = _settings(request).max_document_chars
    if len(document.text) > limit:
        raise ApiError(
            413,
            "too_large",
            f"the document holds {len(document.text)} characters once extracted; the limit is {limit} "
            "(RAG_MAX_DOCUMENT_CHARS)",
        )
    report = await run_in_threadpool(_engine(request).add_document, document)
    _metrics(request).reindex.labels("add").observe(report.seconds)
    return ReindexResponse.of(report)


@router.get(
    "/documents/{doc_id:path}/text",
    response_model=TextResponse,
    responses=_errors(404, 422, 503, *COMMON),
    dependencies=reader,
)
async def document_text(
    doc_id: str,
    request: Request,
    start: Annotated[int | None, Query(ge=0, description="The window's first character (default 0).")] = None,
    end: Annotated[int | None, Query(ge=0, description="Just past its last character (default: the end).")] = None,
) -> TextResponse:
    """The indexed text of a document, or the window `text[start:end]` of it.

    Citation offsets point into this text: `GET /documents/{id}/text?start={start}&end={end}`
    returns the citation's quote. Offsets past the end stop at the end, as in a slice. Ids may contain
    slashes (`notes/a.md/text`).
    """
    window = await run_in_threadpool(_engine(request).document_text, doc_id, start=start, end=end)
    return TextResponse.of(window)


@router.delete(
    "/documents/{doc_id:path}", response_model=ReindexResponse, responses=_errors(404, *WRITES), dependencies=admin
)
async def delete_document(
    doc_id: Annotated[str, Path(json_schema_extra={"pattern": SAFE_ID_PATTERN})], request: Request
) -> ReindexResponse:
    """Remove a document; the response names the generation without it."""
    report = await run_in_threadpool(_engine(request).remove_document, _checked_id(doc_id))
    _metrics(request).reindex.labels("delete").observe(report.seconds)
    return ReindexResponse.of(report)


@router.post("/reindex", response_model=ReindexResponse, responses=WRITE_ERRORS, dependencies=admin)
async def reindex(request: Request) -> ReindexResponse:
    """Rescan every known source and publish a new index generation if anything changed.

    Requests keep being answered from the previous generation until the new one is switched in.
    """
    report = await run_in_threadpool(_engine(request).reindex)
    _metrics(request).reindex.labels("reindex").observe(report.seconds)
    return ReindexResponse.of(report)


@router.get("/health", response_model=HealthResponse, responses=_errors(500))
async def health(request: Request) -> HealthResponse:
    """Whether an index is loaded (`ready`, or `degraded` with the reason), which generation and model, counts.

    Always open, without a key, and never rate limited: meant for probes.
    """
    return await run_in_threadpool(_engine(request).health)


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "Prometheus text format."},
        **_errors(*COMMON),
    },
    dependencies=reader,
)
async def metrics(request: Request) -> Response:
    """Prometheus metrics: requests and latency by route and status, answers and abstentions, index
    generation, documents, chunks, and the duration of index writes made over HTTP."""
    body = await run_in_threadpool(_metrics(request).render)
    return Response(body, media_type=CONTENT_TYPE_LATEST)
