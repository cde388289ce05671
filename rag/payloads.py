"""Plain JSON views of core values: the one shape the CLI's --json and the HTTP API both return."""

from __future__ import annotations

from typing import Any

from rag.answering.composer import Answer
from rag.engine import Health
from rag.indexing.indexer import ReindexReport
from rag.reading.documents import TextWindow
from rag.search.retrieval import Hit, Results
from rag.storage.segments import StoredDocument


def answer_payload(answer: Answer) -> dict[str, Any]:
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "confidence": answer.confidence,
        "citations": [
            {
                "n": c.n,
                "document_id": c.doc_id,
                "title": c.title,
                "start": c.start,
                "end": c.end,
                "quote": c.quote,
                "score": c.score,
                "page": c.page,
            }
            for c in answer.citations
        ],
        "mode": answer.mode,
        "dropped": [{"sentence": d.sentence, "reason": d.reason} for d in answer.dropped],
        "fallback_reason": answer.fallback_reason,
        "index": {"generation": answer.generation, "model": answer.model},
    }


def hit_payload(hit: Hit) -> dict[str, Any]:
    return {
        "document_id": hit.chunk.doc_id,
        "title": hit.title,
        "start": hit.chunk.start,
        "end": hit.chunk.end,
        "text": hit.chunk.text,
        "score": round(hit.score, 4),
        "dense_score": round(hit.dense, 4),
        "lexical_score": round(hit.lexical, 4),
    }


def search_payload(results: Results) -> dict[str, Any]:
    return {
        "query": results.query,
        "hits": [hit_payload(h) for h in results.hits],
        "index": {"generation": results.generation, "model": results.model},
    }


def document_payload(stored: StoredDocument) -> dict[str, Any]:
    return {
        "id": stored.document.id,
        "title": stored.document.label,
        "source": stored.document.source,
        "hash": stored.document.hash,
        "characters": len(stored.document.text),
        "chunks": stored.chunk_count,
        "added_at": stored.added_at,
        "updated_at": stored.updated_at,
    }


def report_payload(report: ReindexReport) -> dict[str, Any]:
    return {
        "generation": report.generation,
        "dry_run": report.dry_run,
        "added": report.added,
        "changed": report.changed,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "skipped": [{"path": s.path, "reason": s.reason} for s in report.skipped],
        "missing_sources": [{"path": m.path, "documents_kept": m.documents} for m in report.missing],
        "texts_embedded": report.texts_embedded,
        "seconds": round(report.seconds, 3),
    }


def health_payload(health: Health) -> dict[str, Any]:
    return {
        "status": "degraded" if health.degraded else "ready" if health.ready else "not_ready",
        "ready": health.ready,
        "generation": health.generation,
        "model": health.model,
        "documents": health.documents,
        "chunks": health.chunks,
        "detail": health.detail,
    }


def text_payload(window: TextWindow) -> dict[str, Any]:
    return {
        "document_id": window.doc_id,
        "title": window.title,
        "start": window.start,
        "end": window.end,
        "characters": window.characters,
        "text": window.text,
    }
