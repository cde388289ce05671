"""The FastAPI application factory and the one translation of errors into HTTP responses."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match

from rag import (
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
    RagEngine,
    RagError,
    Settings,
    StorageFullError,
)
from service.access import KeyRing, require_admin
from service.guards import BodyLimit, RateLimit, parse_rate
from service.observability import Metrics, Observed
from service.page import add_page
from service.responses import REQUEST_ID_HEADER, ApiError, error_response
from service.routes import router
from service.schemas import NOT_BLANK

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
STATUS: dict[type[RagError], int] = {
    InvalidInputError: 422,
    DocumentError: 422,
    DocumentNotFoundError: 404,
    DocumentConflictError: 409,
    IndexBusyError: 409,
    IndexNotFoundError: 503,
    IndexIncompatibleError: 503,
    IndexCorruptError: 503,
    ModelNotInstalledError: 503,
    ModelVerificationError: 503,
    StorageFullError: 507,
    ClusterError: 503,
}


async def _rag_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    return error_response(STATUS.get(type(exc), 500), exc.code, exc.message, scope=request.scope)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, scope=request.scope, headers=exc.headers)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = exc.errors()
    if any(p.get("type") == "json_invalid" for p in problems):
        return error_response(400, "malformed_json", "the request body is not valid JSON", scope=request.scope)
    message = "; ".join(
        f"{'.'.join(str(part) for part in p.get('loc', ()) if part != 'body') or 'body'}: {_problem(p)}"
        for p in problems
    )
    return error_response(422, "invalid_input", message, scope=request.scope)


def _problem(problem: Any) -> str:
    """pydantic's message, in plain words where it would only quote a pattern."""
    if problem.get("type") == "string_pattern_mismatch" and problem.get("ctx", {}).get("pattern") == NOT_BLANK:
        return "empty or only whitespace; ask something"
    return str(problem.get("msg"))


def _allowed_methods(request: Request) -> str:
    """Every method some route accepts at this path (Starlette names only the first partial match's)."""
    routes = request.app.router.routes
    return ", ".join(
        method
        for method in METHODS
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    # FastAPI raises a bare 400 when the body cannot even be decoded (invalid UTF-8, say): it is not JSON either.
    code = "malformed_json" if exc.status_code == 400 else "http_error"
    return error_response(exc.status_code, code, str(exc.detail), scope=request.scope, headers=headers)


def _openapi(app: FastAPI, settings: Settings) -> dict[str, Any]:
    """The generated schema, plus what only the settings know: the real longest question, and which operations
    ask for a key (none without keys; reads only with read keys)."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
        components = schema["components"]["schemas"]
        for model, field in (("AskRequest", "question"), ("SearchRequest", "query")):
            components[model]["properties"][field]["maxLength"] = settings.max_question_chars
        keys: KeyRing = app.state.keys
        for route in app.routes:
            if isinstance(route, APIRoute) and not keys.required(admin=require_admin in route_guards(route)):
                for method in route.methods or ():
                    schema["paths"].get(route.path_format, {}).get(method.lower(), {}).pop("security", None)
        if not keys.enabled:
            schema["components"].pop("securitySchemes", None)
        app.openapi_schema = schema
    return app.openapi_schema


def route_guards(route: APIRoute) -> set[Any]:
    """The dependencies a route declares (require_reader, require_admin)."""
    return {dependency.dependency for dependency in route.dependencies}


def create_app(settings: Settings, *, engine: RagEngine | None = None) -> FastAPI:
    """Build the HTTP app around an engine (made from settings when none is given)."""
    app = FastAPI(
        title="rag: cited answers",
        version="0.1.0",
        description=(
            "Ask free-form questions over your documents. Every answer sentence cites the exact passage "
            "it came from (document, character offsets, quote), or the service says the documents don't say. "
            "When the server has keys, send `Authorization: Bearer <key>` (every route but `GET /health`). "
            f"Every response carries an `{REQUEST_ID_HEADER}` header (yours, or a new one)."
        ),
    )
    app.state.settings = settings
    app.state.engine = engine = engine or RagEngine.from_settings(settings)
    app.state.keys = KeyRing(settings.api_keys, settings.admin_keys)
    app.state.metrics = metrics = Metrics(engine)
    app.include_router(router)
    add_page(app)
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    # The last added middleware runs first: Observed sees every request, including refused ones.
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes)
    if settings.rate_limit:
        app.add_middleware(RateLimit, rate=parse_rate(settings.rate_limit))
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER, "Retry-After"],
        )
    app.add_middleware(Observed, metrics=metrics)
    app.openapi = lambda: _openapi(app, settings)  # type: ignore[method-assign]
    return app
