"""`rag ask` and `rag search`: through a running server when there is one, else with the model loaded here."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from rag.cli.app import app, engine_for, print_json
from rag.config import Settings
from rag.errors import ServerError
from rag.language.messages import phrases_for
from rag.remote import Server, advertised_url

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
        from rag.contract import AskResponse

        payload = AskResponse.of(engine_for(settings).ask(question, top_k=top_k, generate=generate)).model_dump()
    if as_json:
        print_json(payload)
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
        from rag.contract import SearchResponse

        engine = engine_for(settings)
        payload = SearchResponse.of(engine.search(query, top_k=top_k)).model_dump()
    if as_json:
        print_json(payload)
        return
    for rank, hit in enumerate(payload["hits"], start=1):
        snippet = " ".join(hit["text"].split())[:160]
        where = f"{hit['document_id']}:{hit['start']}-{hit['end']}"
        typer.echo(f"{rank:>2}. {hit['score']:.3f}  {where}  {snippet}")
