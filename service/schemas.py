"""Request and response bodies of the HTTP API (pydantic, at the edge only)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from rag import MAX_TOP_K

# At least one character that is not white space (JSON Schema patterns match anywhere in the string). Python's
# str.strip() also removes U+001C-U+001F and U+0085, which JSON Schema's \s does not: they count as blank too.
NOT_BLANK = r"[^\s\u001c-\u001f\u0085]"
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# The document id rule as a JSON Schema pattern too: not starting with / or \ or a drive (C:), no '..' segment,
# no control characters.
SAFE_ID_PATTERN = r"^(?![/\\])(?![A-Za-z]:)(?!(?:.*[/\\])?\.\.(?:[/\\]|$))[^\x00-\x1f\x7f]+$"
SAFE_ID = re.compile(SAFE_ID_PATTERN)


def unicode_text(value: str) -> str:
    """Refuse strings that cannot be UTF-8 (lone surrogates, e.g. from a JSON escape like \\ud800)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"not valid Unicode text (character {exc.start} is a lone surrogate)") from exc
    return value


def document_id(value: str) -> str:
    """An id is a name, never a path out of anywhere: no '..' segment, no absolute path, no control characters."""
    unicode_text(value)
    if _CONTROL.search(value):
        raise ValueError("a document id cannot hold control characters")
    if not SAFE_ID.search(value):
        raise ValueError("a document id cannot be an absolute path or hold a '..' segment")
    return value


def not_a_boolean(value: object) -> object:
    """JSON Schema's integer takes 48.0 but not true: pydantic's lax int would take both."""
    if isinstance(value, bool):
        raise ValueError("an integer is expected, not true or false")
    return value


Text = Annotated[str, AfterValidator(unicode_text)]
TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K), BeforeValidator(not_a_boolean)]
DocumentId = Annotated[str, AfterValidator(document_id)]


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"question": "Who plays Ok-ju?"}]})

    # maxLength is RAG_MAX_QUESTION_CHARS, written into the OpenAPI schema by create_app; the engine enforces it.
    question: Text = Field(
        ..., min_length=1, pattern=NOT_BLANK, description="A free-form question in any language (not blank)."
    )
    top_k: TopK | None = Field(None, description="Passages to consider (default 5).")
    generate: bool | None = Field(
        None,
        strict=True,
        description="Have the configured generator write the answer (default: yes when one is configured); "
        "false: source sentences. true without a generator: the source sentences, with fallback_reason saying so.",
    )


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"query": "sutradara"}]})

    query: Text = Field(..., min_length=1, pattern=NOT_BLANK, description="What to look for (not blank).")
    top_k: TopK | None = Field(None, description="Passages to return (default 5).")


class DocumentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"id": "notes/kebun.md", "text": "Kebun Raya Bogor didirikan pada 1817."}]},
    )

    id: DocumentId = Field(
        ...,
        min_length=1,
        max_length=500,
        json_schema_extra={"pattern": SAFE_ID_PATTERN},
        description="Stable id (no '..' segment, not absolute, no control characters); the same id is replaced.",
    )
    text: Text = Field(
        ..., min_length=1, pattern=NOT_BLANK, description="The document's full text (citations point into it)."
    )
    title: Text | None = Field(None, max_length=500, description="Defaults to the first Markdown heading or the id.")


class ErrorBody(BaseModel):
    code: str = Field(..., description="Stable, machine-readable: invalid_input, unauthorized, rate_limited...")
    message: str = Field(..., description="What went wrong and how to fix it.")
    request_id: str | None = Field(None, description="The X-Request-ID of the request, to find it in the logs.")


class ErrorResponse(BaseModel):
    error: ErrorBody
