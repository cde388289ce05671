"""The `rag` application: its options, shared helpers, and the entry point that turns errors into one line."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING, Annotated, Any

import click
import typer

from rag.config import Settings
from rag.errors import RagError

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


def engine_for(settings: Settings | None = None) -> RagEngine:
    # The engine (FAISS, BM25, the model adapter) is imported only by commands that use it here.
    from rag.engine import RagEngine

    return RagEngine.from_settings(settings or Settings())


def print_json(payload: Any) -> None:
    typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))


@app.callback()
def _options(
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Show tracebacks on errors.")] = False,
) -> None:
    """Cited answers from your documents. Settings come from RAG_* environment variables."""


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
