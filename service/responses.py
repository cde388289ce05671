"""The one error shape of the API, and the edge-only exception that carries a status with it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi.responses import JSONResponse
from starlette.types import Scope

REQUEST_ID_HEADER = "X-Request-ID"


class ApiError(Exception):
    """A refusal decided at the edge (keys, limits, time budget), turned into the error shape."""

    def __init__(self, status: int, code: str, message: str, *, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = dict(headers or {})


def request_id(scope: Scope) -> str | None:
    state: dict[str, Any] = scope.get("state") or {}
    value = state.get("request_id")
    return str(value) if value else None


def error_response(
    status: int, code: str, message: str, *, scope: Scope, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """`{"error": {"code", "message", "request_id"}}` with the given status."""
    body = {"error": {"code": code, "message": message, "request_id": request_id(scope)}}
    return JSONResponse(status_code=status, content=body, headers=dict(headers or {}))
