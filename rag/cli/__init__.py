"""The `rag` command: each subcommand parses, calls the engine (or a running server), prints.

`app` holds the application and the entry point; the other modules register their subcommands on it. The
CLI may import all of rag; it imports the service only inside `rag serve`.
"""

from __future__ import annotations

# Registered in the order `rag --help` lists them.
from rag.cli import questions  # isort: skip
from rag.cli import collection, operations  # isort: skip
from rag.cli.app import app, main

__all__ = ["app", "collection", "main", "operations", "questions"]
