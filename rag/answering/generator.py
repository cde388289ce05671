"""Drafting an answer with any OpenAI-compatible model: numbered passages in, sentences with quotes out.

The draft is not trusted: rag.answering.verification locates every quote and checks every sentence.
Structured output is asked for in the form the server accepts (OpenAI's `json_schema`, llama.cpp's
`json_object` with a `schema`), falling back to plain text with `[n]` markers; the form that worked is
remembered for the next question.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import openai

from rag.errors import GeneratorError

ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "sentences": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "text": {"type": "string"},
                    "passage": {"type": "integer"},
                    "quote": {"type": "string"},
                },
                "required": ["text", "passage", "quote"],
                "additionalProperties": False,
            },
        }
    },
    "required": ["sentences"],
    "additionalProperties": False,
}
FORMS = ("json_schema", "json_object", "text")
MAX_TOKENS = 400
_MARKED = re.compile(r"(?P<text>[^\[\]]+?)\s*\[(?P<n>\d+)\]")

INSTRUCTIONS = (
    "Answer the question using only the numbered passages. Write the answer in {language}. "
    "Use one to three short sentences. For each sentence give the number of the passage it rests on and a quote: "
    "words copied exactly, character for character, from that passage, that say what the sentence says. "
    'Reply with JSON only: {{"sentences": [{{"text": "...", "passage": 1, "quote": "..."}}]}}. '
    'If the passages do not answer the question, reply {{"sentences": []}}.'
)
PLAIN_INSTRUCTIONS = (
    "Answer the question using only the numbered passages. Write the answer in {language}. "
    "Use one to three short sentences and end each with the number of its passage in brackets, like [1]. "
    "If the passages do not answer the question, reply with nothing."
)


@dataclass(frozen=True)
class Passage:
    """A numbered passage shown to the model."""

    n: int
    title: str
    text: str


@dataclass(frozen=True)
class DraftSentence:
    """A sentence the model wrote, the passage number it gave, and its quote ('' when it gave none)."""

    text: str
    passage: int
    quote: str


def prompt(question: str, passages: Sequence[Passage], *, language: str, plain: bool) -> list[dict[str, str]]:
    """The chat messages for one question."""
    numbered = "\n\n".join(f"[{p.n}] {p.title}\n{p.text}" for p in passages)
    template = PLAIN_INSTRUCTIONS if plain else INSTRUCTIONS
    return [
        {"role": "system", "content": template.format(language=language)},
        {"role": "user", "content": f"Passages:\n\n{numbered}\n\nQuestion: {question}"},
    ]


def parse_json(content: str) -> list[DraftSentence]:
    """Sentences from a JSON reply; GeneratorError('invalid_output') when it is not the shape asked for."""
    start, end = content.find("{"), content.rfind("}")
    try:
        reply = json.loads(content[start : end + 1] if start >= 0 else content)
        rows = reply["sentences"]
        return [
            DraftSentence(str(row["text"]).strip(), int(row["passage"]), str(row.get("quote") or "").strip())
            for row in rows
            if str(row["text"]).strip()
        ]
    except (ValueError, KeyError, TypeError) as exc:
        raise GeneratorError("invalid_output", f"the model's reply is not the JSON asked for ({exc})") from exc


def parse_marked(content: str) -> list[DraftSentence]:
    """Sentences from a plain-text reply whose sentences end with [n] markers."""
    drafted = [
        DraftSentence(match.group("text").strip(" .;:") + ".", int(match.group("n")), "")
        for match in _MARKED.finditer(content)
        if match.group("text").strip(" .;:")
    ]
    if content.strip() and not drafted:
        raise GeneratorError("invalid_output", "the model's reply cites no passage")
    return drafted


class _FormRefused(Exception):
    """The server refused a form of structured output (status code in args)."""


class Generator:
    """An OpenAI-compatible chat model reached with the `openai` client (no retries: a fault falls back at once)."""

    def __init__(self, base_url: str, *, model: str, api_key: str, timeout: float) -> None:
        self.model = model
        self._client = openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=0)
        self._forms = list(FORMS)
        self._lock = threading.Lock()

    def draft(self, question: str, passages: Sequence[Passage], *, language: str) -> list[DraftSentence]:
        """The model's sentences for `question`; raises GeneratorError with the outcome when it cannot."""
        forms = list(self._forms)
        for index, form in enumerate(forms):
            try:
                content = self._complete(question, passages, language=language, form=form)
            except _FormRefused:
                continue
            if index:  # the forms before this one were refused: this server does not take them
                with self._lock:
                    self._forms = [f for f in self._forms if f not in forms[:index]]
            return parse_marked(content) if form == "text" else parse_json(content)
        raise GeneratorError("rejected", "the generator refused every form of request tried")

    def _complete(self, question: str, passages: Sequence[Passage], *, language: str, form: str) -> str:
        extra: dict[str, Any] = {}
        if form == "json_schema":
            extra["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "cited_answer", "schema": ANSWER_SCHEMA, "strict": True},
            }
        elif form == "json_object":
            extra["response_format"] = {"type": "json_object", "schema": ANSWER_SCHEMA}
        try:
            reply = self._client.chat.completions.create(
                model=self.model,
                messages=prompt(question, passages, language=language, plain=form == "text"),  # type: ignore[arg-type]
                temperature=0.0,
                max_tokens=MAX_TOKENS,
                **extra,
            )
        except openai.APITimeoutError as exc:
            raise GeneratorError("timeout", "the generator did not answer in time") from exc
        except openai.APIConnectionError as exc:
            raise GeneratorError("unreachable", f"the generator cannot be reached ({exc})") from exc
        except openai.RateLimitError as exc:
            raise GeneratorError("rate_limited", "the generator is rate-limiting requests (429)") from exc
        except openai.APIStatusError as exc:
            # A server that does not know a form of structured output answers 400, 422 or (llama-cpp-python's
            # server) 500: the next form is tried. Without structured output, the failure is the outcome.
            if form != "text" and exc.status_code in (400, 422, 500):
                raise _FormRefused(exc.status_code) from exc
            outcome = "rejected" if exc.status_code in (400, 422) else "server_error"
            raise GeneratorError(outcome, f"the generator failed ({exc.status_code})") from exc
        except openai.APIError as exc:
            raise GeneratorError("invalid_output", f"the generator's reply is unreadable ({exc})") from exc
        if not reply.choices or reply.choices[0].message.content is None:
            raise GeneratorError("invalid_output", "the generator's reply holds no message")
        return reply.choices[0].message.content
