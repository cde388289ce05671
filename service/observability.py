"""Request ids, one log line per request (text or JSON), Prometheus metrics, and the catch-all 500."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from rag import RagEngine
from service.responses import REQUEST_ID_HEADER, error_response

logger = logging.getLogger("rag.service")
access_logger = logging.getLogger("rag.access")
# An incoming id is echoed into logs and headers: accept only a short, plain token.
VALID_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
# Standard attributes of a LogRecord; anything else was passed with `extra=` and is logged as a field.
_RECORD_FIELDS = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class IndexCollector(Collector):
    """Index gauges read from the engine at scrape time (nothing to keep in sync)."""

    def __init__(self, engine: RagEngine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[Metric]:
        health = self.engine.health()
        ready = GaugeMetricFamily("rag_index_ready", "1 when an index generation is loaded.")
        ready.add_metric([], 1.0 if health.ready else 0.0)
        degraded = GaugeMetricFamily("rag_index_degraded", "1 when an earlier generation is served (damage).")
        degraded.add_metric([], 1.0 if health.status == "degraded" else 0.0)
        info = GaugeMetricFamily("rag_index_generation", "The generation in service.", labels=["generation", "model"])
        info.add_metric([health.generation or "", health.model], 1.0)
        documents = GaugeMetricFamily("rag_index_documents", "Documents in the generation in service.")
        documents.add_metric([], float(health.documents))
        chunks = GaugeMetricFamily("rag_index_chunks", "Chunks in the generation in service.")
        chunks.add_metric([], float(health.chunks))
        yield from (ready, degraded, info, documents, chunks)


class Metrics:
    """The app's own Prometheus registry (never the process-global default one)."""

    def __init__(self, engine: RagEngine) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "rag_http_requests",
            "HTTP requests by route and status.",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "rag_http_request_duration_seconds",
            "HTTP request latency by route.",
            ["method", "route"],
            registry=self.registry,
        )
        self.answers = Counter(
            "rag_answers", "Answers given, by whether they abstained.", ["abstained"], registry=self.registry
        )
        self.generations = Counter(
            "rag_generations",
            "Generated answers asked for, by outcome: generated, or why the extractive answer was given.",
            ["outcome"],
            registry=self.registry,
        )
        self.reindex = Histogram(
            "rag_reindex_duration_seconds",
            "Index writes made over HTTP (add, delete, reindex).",
            ["operation"],
            buckets=(0.1, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600),
            registry=self.registry,
        )
        self.registry.register(IndexCollector(engine))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class Observed:
    """Outermost middleware: request id in and out, metrics, an access log line, and any crash as a 500."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = Headers(scope=scope).get(REQUEST_ID_HEADER, "")
        rid = incoming if VALID_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = time.perf_counter()
        status = 500
        response_started = False

        async def tagged(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status, response_started = message["status"], True
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = rid
            await send(message)

        try:
            await self.app(scope, receive, tagged)
        except Exception:
            logger.exception("unexpected error", extra={"request_id": rid, "path": scope["path"]})
            if response_started:
                raise
            message = f"unexpected server error; the log has its traceback under request id {rid}"
            await error_response(500, "internal_error", message, scope=scope)(scope, receive, tagged)
        finally:
            seconds = time.perf_counter() - started
            route = scope.get("route")
            template = str(getattr(route, "path", "unmatched"))
            method = scope["method"]
            self.metrics.requests.labels(method, template, str(status)).inc()
            self.metrics.latency.labels(method, template).observe(seconds)
            client = scope.get("client")
            access_logger.info(
                "%s %s %s %.1f ms",
                method,
                scope["path"],
                status,
                seconds * 1000,
                extra={
                    "request_id": rid,
                    "method": method,
                    "path": scope["path"],
                    "route": template,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "client": client[0] if client else None,
                },
            )


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, the record's extra fields, traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS})
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """The usual one line, plus the request id when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{line} [request_id={rid}]" if rid and "\n" not in line else line


def configure_logging(log_format: str, *, level: int = logging.INFO) -> None:
    """Send every log record (ours and uvicorn's) to stderr, as text or as JSON lines."""
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(TextFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
