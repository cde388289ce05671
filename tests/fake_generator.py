"""A scripted OpenAI-compatible chat server on loopback, for the exact fault cases of generated answers.

Each test sets `script`: a function of the parsed request (its numbered passages and the response form asked
for) that returns what the server replies. The end-to-end test uses a real model server instead.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from tests.servers import free_port

# A quote of the bundled article (the sentence that names who plays Ok-ju).
QUOTE = "Ok-ju (di perankan oleh Jun Jong-seo)"
_PASSAGE = re.compile(r"^\[(\d+)\] [^\n]*\n(.*?)(?=\n\n\[\d+\] |\n\nQuestion: )", re.S | re.M)


@dataclass(frozen=True)
class Asked:
    """What the service sent: the passages by number, the question and the response form."""

    passages: dict[int, str]
    question: str
    form: str


@dataclass
class Reply:
    """A reply to script: message content, or an HTTP status with an error, after an optional delay."""

    content: str | None = None
    status: int = 200
    delay: float = 0.0


@dataclass
class FakeGenerator:
    url: str
    script: Callable[[Asked], Reply] = field(default=lambda asked: Reply('{"sentences": []}'))
    requests: list[Asked] = field(default_factory=list)


def _asked(body: dict[str, Any]) -> Asked:
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    passages = {int(n): text for n, text in _PASSAGE.findall(user)}
    question = user.rsplit("Question: ", 1)[-1]
    form = (body.get("response_format") or {}).get("type", "text")
    return Asked(passages, question, form)


def _app(fake: FakeGenerator) -> FastAPI:
    app = FastAPI()

    @app.post("/v1/chat/completions")
    async def complete(request: Request) -> JSONResponse:
        asked = _asked(await request.json())
        fake.requests.append(asked)
        reply = fake.script(asked)
        if reply.delay:
            await asyncio.sleep(reply.delay)  # a slow model
        if reply.status != 200:
            error = {"error": {"message": "scripted failure", "type": "server_error", "code": reply.status}}
            return JSONResponse(error, status_code=reply.status)
        return JSONResponse(
            {
                "id": "chatcmpl-fake",
                "object": "chat.completion",
                "created": 0,
                "model": "fake",
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": reply.content},
                        "finish_reason": "stop",
                    }
                ],
            }
        )

    return app


@contextmanager
def fake_generator() -> Iterator[FakeGenerator]:
    """The fake server running on a free loopback port; yields it with its base URL ('.../v1')."""
    port = free_port()
    fake = FakeGenerator(f"http://127.0.0.1:{port}/v1")
    server = uvicorn.Server(uvicorn.Config(_app(fake), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)  # waiting for the thread's server to bind, not asserting on time
    try:
        yield fake
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def number_of(asked: Asked, quote: str) -> int:
    return next(n for n, text in asked.passages.items() if quote in text)


def reply_json(*sentences: tuple[str, int, str]) -> str:
    return json.dumps({"sentences": [{"text": t, "passage": n, "quote": q} for t, n, q in sentences]})


def sentences(*rows: Callable[[Asked], tuple[str, int, str]]) -> Callable[[Asked], Reply]:
    """A script answering with the given sentences, each built from the request (to cite real passage numbers)."""
    return lambda asked: Reply(reply_json(*(row(asked) for row in rows)))


def cites(text: str, quote: str = QUOTE, *, passage_of: str = QUOTE) -> Callable[[Asked], tuple[str, int, str]]:
    """A sentence citing the passage that holds `passage_of`, with `quote`."""
    return lambda asked: (text, number_of(asked, passage_of), quote)
