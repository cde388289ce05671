"""Limits at the edge: request body size, a per-client rate limit, and a time budget per request."""

from __future__ import annotations

import functools
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread
from limits import RateLimitItem, parse
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import InvalidInputError
from service.responses import ApiError, error_response

T = TypeVar("T")
# Probes must keep working while a client is being throttled.
UNLIMITED_PATHS = frozenset({"/health"})


def parse_rate(text: str) -> RateLimitItem:
    """'60/minute' -> a rate limit item; a clear error for anything else."""
    try:
        return parse(text)
    except ValueError as exc:
        raise InvalidInputError(f"RAG_RATE_LIMIT={text!r} is not a rate such as '60/minute' or '5/second'") from exc


def too_large(limit: int) -> ApiError:
    return ApiError(413, "too_large", f"the request body is over the limit of {limit} bytes (RAG_MAX_UPLOAD_BYTES)")


class BodyLimit:
    """Refuse bodies over `limit` bytes: at once from Content-Length, else while they stream in."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isdigit() and int(declared) > self.limit:
            error = too_large(self.limit)
            await error_response(error.status, error.code, error.message, scope=scope)(scope, receive, send)
            return
        received = 0
        exceeded = False

        async def counted() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.limit:
                    exceeded = True
                    raise too_large(self.limit)
            return message

        async def unless_exceeded(message: Message) -> None:
            # Whatever the app made of the interrupted body (a 400, say), the answer is the 413 below.
            if not exceeded:
                await send(message)

        try:
            await self.app(scope, counted, unless_exceeded)
        except Exception:
            if not exceeded:
                raise
        if exceeded:
            error = too_large(self.limit)
            await error_response(error.status, error.code, error.message, scope=scope)(scope, receive, send)


class RateLimit:
    """At most `rate` requests per client address in a moving window; 429 with Retry-After beyond it."""

    def __init__(self, app: ASGIApp, *, rate: RateLimitItem) -> None:
        self.app = app
        self.rate = rate
        # Owned by this middleware instance, i.e. by one app: no state shared between apps.
        self.limiter = MovingWindowRateLimiter(MemoryStorage())

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        key = client[0] if client else "unknown"
        if self.limiter.hit(self.rate, key):
            await self.app(scope, receive, send)
            return
        reset = self.limiter.get_window_stats(self.rate, key).reset_time
        retry = max(1, math.ceil(reset - time.time()))
        response = error_response(
            429,
            "rate_limited",
            f"more than {self.rate} from this client; retry in {retry} s",
            scope=scope,
            headers={"Retry-After": str(retry)},
        )
        await response(scope, receive, send)


async def within_budget(seconds: float, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a blocking call in a worker thread; answer 503 if it takes longer than `seconds`.

    The thread cannot be killed: it finishes in the background, but the request, the connection and the
    event loop are released at once.
    """
    call = functools.partial(function, *args, **kwargs)
    with anyio.move_on_after(seconds):
        return await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
    raise ApiError(
        503,
        "timeout",
        f"the request took longer than {seconds:g} s (RAG_REQUEST_TIMEOUT); try again",
        headers={"Retry-After": "1"},
    )
