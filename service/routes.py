"""HTTP routes: each validates its body, calls the engine and returns the core's JSON view."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError
from starlette.datastructures import UploadFile as StarletteUploadFile

from rag import (
    Document,
    InvalidInputError,
    RagEngine,
    answer_payload,
    document_payload,
    health_payload,
    parse_document,
    report_payload,
    search_payload,
    text_payload,
)
from service.schemas import (
    AskRequest,
    AskResponse,
    DocumentIn,
    DocumentOut,
    ErrorResponse,
    HealthResponse,
    ReindexResponse,
    SearchRequest,
    SearchResponse,
    TextResponse,
)

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "Malformed JSON."},
    422: {"model": ErrorResponse, "description": "Invalid input (empty or too long question, bad top_k)."},
    503: {"model": ErrorResponse, "description": "No usable index or model yet."},
}

# Documents added over HTTP have no file to rescan; `POST /reindex` keeps them as they are.
API_SOURCE = "api"
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")

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
    answer = await run_in_threadpool(_engine(request).ask, body.question, top_k=body.top_k)
    return answer_payload(answer)


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
                        "id": {"type": "string", "description": "Defaults to the file name."},
                    },
                }
            },
        },
    }
}


async def _document_from_request(request: Request) -> Document:
    if request.headers.get("content-type", "").startswith(FORM_TYPES):
        # The context manager closes the spooled upload files.
        async with request.form() as form:
            upload = form.get("file")
            if not isinstance(upload, StarletteUploadFile):
                raise InvalidInputError("send the document as a form field named 'file'")
            name = upload.filename or "upload.txt"
            doc_id = str(form.get("id") or name)
            return parse_document(await upload.read(), name=name, doc_id=doc_id, source=API_SOURCE)
    try:
        body = DocumentIn.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from exc
    document = parse_document(body.text.encode("utf-8"), name=f"{body.id}.txt", doc_id=body.id, source=API_SOURCE)
    return Document(document.id, body.title or document.title, document.text, API_SOURCE)


@router.post("/documents", response_model=ReindexResponse, responses=ERRORS, openapi_extra=UPLOAD_BODY)
async def add_document(request: Request) -> dict[str, Any]:
    """Add a document, or replace the one with the same id, and publish a new index generation.

    Send JSON `{"id", "text", "title"?}`, or upload a file (`.txt`, `.md`, `.html`) as multipart
    form field `file` with an optional `id`. The response names the generation that holds it.
    """
    document = await _document_from_request(request)
    return report_payload(await run_in_threadpool(_engine(request).add_document, document))


@router.get(
    "/documents/{doc_id:path}/text", response_model=TextResponse, responses={**ERRORS, 404: {"model": ErrorResponse}}
)
async def document_text(
    doc_id: str,
    request: Request,
    start: Annotated[int | None, Query(ge=0, description="The window's first character (default 0).")] = None,
    end: Annotated[int | None, Query(ge=0, description="Just past its last character (default: the end).")] = None,
) -> dict[str, Any]:
    """The indexed text of a document, or the window `text[start:end]` of it.

    Citation offsets point into this text: `GET /documents/{id}/text?start={start}&end={end}`
    returns the citation's quote. Ids may contain slashes (`notes/a.md/text`).
    """
    window = await run_in_threadpool(_engine(request).document_text, doc_id, start=start, end=end)
    return text_payload(window)


@router.delete(
    "/documents/{doc_id:path}", response_model=ReindexResponse, responses={**ERRORS, 404: {"model": ErrorResponse}}
)
async def delete_document(doc_id: str, request: Request) -> dict[str, Any]:
    """Remove a document; the response names the generation without it."""
    return report_payload(await run_in_threadpool(_engine(request).remove_document, doc_id))


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
