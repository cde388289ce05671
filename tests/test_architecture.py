"""Dependencies point one way: the core knows nothing of HTTP; the service uses only rag's public names."""

from __future__ import annotations

import ast
from pathlib import Path

import rag

ROOT = Path(__file__).resolve().parents[1]
HTTP_PACKAGES = {"fastapi", "starlette", "uvicorn", "service"}


def _imports(path: Path, *, top_level_only: bool) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


def test_the_core_does_not_import_http_packages() -> None:
    for path in (ROOT / "rag").glob("*.py"):
        # The CLI's `serve` command starts the service, importing it inside that command only.
        imported = _imports(path, top_level_only=path.name == "cli.py")
        offending = [name for name in imported if name.split(".")[0] in HTTP_PACKAGES]
        assert not offending, f"{path.name} imports {offending}"


def test_the_service_uses_only_names_rag_exports() -> None:
    for path in (ROOT / "service").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
                assert node.module == "rag", f"{path.name} imports {node.module}"
                assert all(alias.name in rag.__all__ for alias in node.names)
