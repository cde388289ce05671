"""Changing the collection: `rag reindex`, `rag documents`, `rag rm`, `rag compact`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from rag.cli.app import app, engine_for, print_json
from rag.config import Settings
from rag.errors import IndexNotFoundError


@app.command()
def reindex(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders; none rescans known sources.")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan, write nothing.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    prune: Annotated[bool, typer.Option("--prune", help="Drop the documents of folders that no longer exist.")] = False,
    cluster: Annotated[
        bool, typer.Option("--cluster", help="Embed on the Ray cluster at RAG_RAY_ADDRESS (default: 'auto').")
    ] = False,
) -> None:
    """Index documents: new ones are added, changed ones re-embedded, vanished ones dropped."""
    from rag.contract import ReindexResponse

    settings = Settings()
    on_cluster = cluster or settings.ray_address is not None
    report = engine_for(settings).reindex(
        paths or [], dry_run=dry_run, progress=not as_json, prune=prune, cluster=on_cluster
    )
    if as_json:
        print_json(ReindexResponse.of(report).model_dump())
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
    from rag.contract import DocumentOut

    stored = engine_for().documents()
    if as_json:
        print_json([DocumentOut.of(d).model_dump() for d in stored])
        return
    for d in stored:
        typer.echo(f"{d.document.id}\t{d.document.label}\t{d.chunk_count} chunks\t{d.document.hash[:12]}")


@app.command()
def rm(doc_id: Annotated[str, typer.Argument(help="The id 'rag documents' shows.")]) -> None:
    """Remove one document from the index."""
    report = engine_for().remove_document(doc_id)
    typer.echo(f"removed {doc_id}: generation {report.generation}")


@app.command()
def compact() -> None:
    """Merge the index's segments into one and drop deleted rows (answers stay the same)."""
    engine = engine_for()
    report = engine.compact()
    if report.generation is None:
        raise IndexNotFoundError("no index to compact; run 'rag reindex' first")
    manifest = engine.store.manifest(report.generation, model=engine.embedder.model_name)
    typer.echo(f"generation {report.generation}: {manifest['counts']['segments']} segment(s), {report.seconds:.1f} s")
