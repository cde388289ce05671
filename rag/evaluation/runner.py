"""`rag eval`: answer quality on QA files and retrieval quality on BEIR folders, through the real engine."""

from __future__ import annotations

import csv
import hashlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from rag.answering.generative import generative_composer
from rag.config import Settings
from rag.engine import RagEngine
from rag.evaluation.corpus_files import CorpusRow, FileForm, read_corpus, read_jsonl, write_corpus
from rag.evaluation.metrics import first_rank, holds, mrr_at, ndcg_at, percentile, recall_at, reciprocal_rank
from rag.model.backends import PLAIN_BACKEND, backend_of, recorded_tag
from rag.model.embedding import Embedder
from rag.reading.titles import DEFAULT_UNTITLED
from rag.storage.store import IndexStore
from rag.storage.vector_cache import VectorCache


@dataclass(frozen=True)
class QuestionResult:
    id: str
    lang: str
    question: str
    answerable: bool
    answer: str
    abstained: bool
    correct: bool
    supported: bool
    rank: int | None
    confidence: float
    seconds: float
    embed_seconds: float
    mode: str = "extractive"
    dropped: int = 0
    outcome: str | None = None


def _backend_key(embedder: Embedder) -> list[str]:
    """Each backend gets its own evaluation indexes (the plain one keeps the names they had before backends)."""
    backend = backend_of(embedder.model_name)
    return [] if backend == PLAIN_BACKEND else [recorded_tag(backend)]


def _chunking_key(settings: Settings) -> list[str]:
    """How the evaluation index cuts and titles its documents (a fresh index: the default for untitled ones)."""
    return [str(settings.chunk_size), str(settings.chunk_overlap), settings.untitled_context or DEFAULT_UNTITLED]


def _vectors_key(settings: Settings, embedder: Embedder) -> list[str]:
    """How the evaluation index makes its vectors: the backend, and chunk vectors other than embedded."""
    chunk_vectors = [] if settings.chunk_vectors == "embedded" else [f"chunks-from-{settings.chunk_vectors}"]
    return _backend_key(embedder) + chunk_vectors


def evaluation_engine(
    settings: Settings,
    embedder: Embedder,
    rows: Sequence[CorpusRow],
    *,
    name: str,
    form: FileForm,
    sentences: bool = True,
) -> tuple[RagEngine, dict[str, str], float]:
    """An engine over an evaluation corpus written as files and indexed like `rag reindex FOLDER`.

    The index is kept under settings.eval_dir while the corpus and settings are the same. Returns
    the engine, indexed document id -> corpus id, and the indexing time.
    """
    digest = hashlib.sha256()
    for row in rows:
        digest.update(f"{row.id}\0{row.title}\0{row.text}\0".encode())
    key = "-".join(
        [name, form, *_chunking_key(settings), str(int(sentences)), digest.hexdigest()[:12]]
        + _vectors_key(settings, embedder)
    )
    root = settings.eval_dir / key
    files = write_corpus(rows, root / "files" / name, form)
    local = settings.model_copy(update={"index_dir": root / "index"})
    # One vector cache for every evaluation index: the QA and BEIR views of a corpus share their vectors.
    cache = VectorCache(settings.eval_dir / "embeddings.sqlite")
    engine = RagEngine(
        local,
        embedder=embedder,
        store=IndexStore(root / "index"),
        cache=cache,
        generative=generative_composer(local, embedder),
    )
    started = time.perf_counter()
    engine.index_files([root / "files" / name], sentences=sentences, progress=True)
    seconds = time.perf_counter() - started
    ids = {d.document.id: files[Path(d.document.source).name] for d in engine.documents()}
    return engine, ids, seconds


def qa_engine(
    settings: Settings, embedder: Embedder, corpus: Path | None, *, form: FileForm = "md"
) -> tuple[RagEngine, float]:
    """The evaluation engine over a corpus.jsonl written as files, or over the bundled article's file."""
    if corpus is None:
        return bundled_engine(settings, embedder)
    engine, _, seconds = evaluation_engine(settings, embedder, read_corpus(corpus), name=corpus.parent.name, form=form)
    return engine, seconds


def bundled_engine(settings: Settings, embedder: Embedder) -> tuple[RagEngine, float]:
    """The bundled article indexed exactly as `rag reindex` indexes it on first use."""
    key = "-".join(["bundled", *_chunking_key(settings), *_vectors_key(settings, embedder)])
    index_dir = settings.eval_dir / key
    local = settings.model_copy(update={"index_dir": index_dir})
    cache = VectorCache(settings.eval_dir / "embeddings.sqlite")
    engine = RagEngine(
        local,
        embedder=embedder,
        store=IndexStore(index_dir),
        cache=cache,
        generative=generative_composer(local, embedder),
    )
    started = time.perf_counter()
    engine.reindex(progress=True)
    return engine, time.perf_counter() - started


def run_qa(
    engine: RagEngine, questions: Sequence[dict[str, Any]], *, top_k: int, generate: bool | None = None
) -> list[QuestionResult]:
    engine.warm_up()
    results = []
    for item in tqdm(questions, desc="asking", unit="question"):
        # The bare query embedding, timed alone: the floor that answering is compared with.
        started = time.perf_counter()
        engine.embedder.embed_queries([item["question"]])
        embed_seconds = time.perf_counter() - started
        started = time.perf_counter()
        answer = engine.ask(item["question"], top_k=top_k, generate=generate)
        seconds = time.perf_counter() - started
        groups = item.get("answers", [])
        quotes = " ".join(c.quote for c in answer.citations)
        results.append(
            QuestionResult(
                id=str(item["id"]),
                lang=str(item.get("lang", "?")),
                question=item["question"],
                answerable=bool(item.get("answerable", True)),
                answer=answer.text,
                abstained=answer.abstained,
                correct=not answer.abstained and holds(answer.text, groups),
                supported=not answer.abstained and holds(quotes, groups),
                rank=first_rank([h.chunk.text for h in answer.hits], groups),
                confidence=answer.confidence,
                seconds=seconds,
                embed_seconds=embed_seconds,
                mode=answer.mode,
                dropped=len(answer.dropped),
                outcome=answer.outcome,
            )
        )
    return results


def _ratio(values: Sequence[bool]) -> float | None:
    return round(sum(values) / len(values), 4) if values else None


def summarize_qa(results: Sequence[QuestionResult]) -> dict[str, Any]:
    answerable = [r for r in results if r.answerable]
    unanswerable = [r for r in results if not r.answerable]
    answered = [r for r in results if not r.abstained]
    generating = any(r.outcome is not None for r in results)
    attempted = [r for r in answered if r.outcome not in (None, "abstained")]
    return {
        "questions": len(results),
        "answerable": len(answerable),
        "unanswerable": len(unanswerable),
        "answer_accuracy": _ratio([r.correct for r in answerable]),
        "citation_support": _ratio([r.supported for r in answerable]),
        "hit_at_1": _ratio([r.rank == 1 for r in answerable]),
        "hit_at_3": _ratio([r.rank is not None and r.rank <= 3 for r in answerable]),
        "mrr": round(sum(reciprocal_rank(r.rank) for r in answerable) / len(answerable), 4) if answerable else None,
        "false_abstention_rate": _ratio([r.abstained for r in answerable]),
        "abstention_accuracy": _ratio([r.abstained for r in unanswerable]),
        "mean_answer_chars": round(sum(len(r.answer) for r in answered) / len(answered), 1) if answered else None,
        "latency_ms_p50": round(1000 * percentile([r.seconds for r in results], 50), 1),
        "latency_ms_p95": round(1000 * percentile([r.seconds for r in results], 95), 1),
        "embed_ms_p50": round(1000 * percentile([r.embed_seconds for r in results], 50), 1),
        # Generated answers (rag eval --generate): the share of answers the model wrote and that were verified,
        # and the sentences dropped per answer that was attempted.
        "generated_share": _ratio([r.mode == "generated" for r in answered]) if generating else None,
        "dropped_per_answer": round(sum(r.dropped for r in attempted) / len(attempted), 3) if attempted else None,
    }


def qa_report(results: Sequence[QuestionResult], *, per_question: bool) -> dict[str, Any]:
    languages = sorted({r.lang for r in results})
    report: dict[str, Any] = {
        "kind": "qa",
        "overall": summarize_qa(results),
        "by_language": {lang: summarize_qa([r for r in results if r.lang == lang]) for lang in languages},
    }
    if per_question:
        report["questions"] = [asdict(r) for r in results]
    return report


def evaluate_qa(
    settings: Settings,
    embedder: Embedder,
    qa_path: Path,
    *,
    corpus: Path | None,
    per_question: bool,
    top_k: int,
    form: FileForm = "md",
    generate: bool | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    engine, index_seconds = qa_engine(settings, embedder, corpus, form=form)
    results = run_qa(engine, read_jsonl(qa_path)[:limit], top_k=top_k, generate=generate)
    report = qa_report(results, per_question=per_question)
    if generate:
        report["outcomes"] = dict(Counter(r.outcome or "-" for r in results).most_common())
    report["index_seconds"] = round(index_seconds, 1)
    report["ranking"] = settings.ranking
    report["files"] = form if corpus else "bundled"
    return report


def read_qrels(path: Path) -> dict[str, dict[str, int]]:
    relevant: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            relevant.setdefault(row["query-id"], {})[row["corpus-id"]] = int(row["score"])
    return relevant


def evaluate_beir(
    settings: Settings,
    embedder: Embedder,
    folder: Path,
    *,
    limit: int | None = None,
    form: FileForm = "md",
    sentences: bool = False,
) -> dict[str, Any]:
    """nDCG@10, Recall@10/100 and MRR@10 of document ranking on a BEIR folder's test queries.

    Chunks only by default (ranking needs no sentences, and they cost most of the embedding); `sentences`
    indexes them as `rag reindex` does, so documents are also raised by their best sentence.
    """
    documents = read_corpus(folder / "corpus.jsonl")
    engine, ids, index_seconds = evaluation_engine(
        settings, embedder, documents, name=folder.name, form=form, sentences=sentences
    )
    qrels = read_qrels(folder / "qrels" / "test.tsv")
    queries = [q for q in read_jsonl(folder / "queries.jsonl") if str(q["_id"]) in qrels][:limit]
    rows: dict[str, list[float]] = {"ndcg@10": [], "recall@10": [], "recall@100": [], "mrr@10": []}
    latencies = []
    for query in tqdm(queries, desc="ranking", unit="query"):
        started = time.perf_counter()
        text = str(query["text"])
        served = engine.in_service()
        prepared = served.retriever.prepare(text, engine.embedder.embed_queries([text])[0])
        ranked = [ids[doc] for doc, _ in served.retriever.rank_documents(prepared, k=100)]
        latencies.append(time.perf_counter() - started)
        relevant = qrels[str(query["_id"])]
        rows["ndcg@10"].append(ndcg_at(ranked, relevant, 10))
        rows["recall@10"].append(recall_at(ranked, relevant, 10))
        rows["recall@100"].append(recall_at(ranked, relevant, 100))
        rows["mrr@10"].append(mrr_at(ranked, relevant, 10))
    return {
        "kind": "beir",
        "dataset": folder.name,
        "ranking": settings.ranking,
        "documents": len(documents),
        "files": form,
        "queries": len(queries),
        **{name: round(sum(values) / len(values), 4) if values else None for name, values in rows.items()},
        "index_seconds": round(index_seconds, 1),
        "latency_ms_p50": round(1000 * percentile(latencies, 50), 1),
    }
