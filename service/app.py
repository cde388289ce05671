"""The FastAPI application factory and the one translation of errors into HTTP responses."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rag import (
    DocumentError,
    DocumentNotFoundError,
    IndexBusyError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexNotFoundError,
    InvalidInputError,
    ModelNotInstalledError,
    ModelVerificationError,
    RagEngine,
    RagError,
    Settings,
)
from service.page import add_page
from service.routes import router

STATUS: dict[type[RagError], int] = {
    InvalidInputError: 422,
    DocumentError: 422,
    DocumentNotFoundError: 404,
    IndexBusyError: 409,
    IndexNotFoundError: 503,
    IndexIncompatibleError: 503,
    IndexCorruptError: 503,
    ModelNotInstalledError: 503,
    ModelVerificationError: 503,
}


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"code": code, "message": message}})


async def _rag_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    return _error(STATUS.get(type(exc), 500), exc.code, exc.message)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return _error(400, "malformed_json", "the request body is not valid JSON")
    message = "; ".join(
        f"{'.'.join(str(part) for part in p.get('loc', ()) if part != 'body') or 'body'}: {p.get('msg')}"
        for p in problems
    )
    return _error(422, "invalid_input", message)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return _error(exc.status_code, "http_error", str(exc.detail))


def create_app(settings: Settings, *, engine: RagEngine | None = None) -> FastAPI:
    """Build the HTTP app around an engine (made from settings when none is given)."""
    app = FastAPI(
        title="rag: cited answers",
        version="0.1.0",
        description=(
            "Ask free-form questions over your documents. Every answer sentence cites the exact passage "
            "it came from (document, character offsets, quote), or the service says the documents don't say."
        ),
    )
    app.state.engine = engine or RagEngine.from_settings(settings)
    app.include_router(router)
    add_page(app)
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    return app
