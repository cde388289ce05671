"""Dependencies point one way: packages import only the layers below them; the core knows nothing of HTTP."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import rag

ROOT = Path(__file__).resolve().parents[1]
HTTP_PACKAGES = {"fastapi", "starlette", "uvicorn", "service"}
# Any module may import these two: the error tree and the settings type.
FOUNDATION = {"rag.errors", "rag.config"}
# What each package of rag/ may import besides itself and FOUNDATION.
ALLOWED: dict[str, set[str]] = {
    "language": set(),
    "model": set(),
    "reading": {"language"},
    "storage": {"language", "model", "reading"},
    "indexing": {"language", "model", "reading", "storage"},
    "search": {"language", "model", "reading", "storage"},
    "answering": {"language", "model", "reading", "storage", "search"},
    "evaluation": {"language", "model", "reading", "storage", "indexing", "search", "answering", "engine"},
    # The command line sits on top: it may use all of rag (the service only inside `rag serve`, checked below).
    "cli": {"language", "model", "reading", "storage", "indexing", "search", "answering", "evaluation"}
    | {"engine", "loader", "contract", "remote"},
}
PACKAGES = sorted(ALLOWED)


def _imports(path: Path, *, top_level_only: bool = False) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nodes = tree.body if top_level_only else list(ast.walk(tree))
    names: list[str] = []
    for node in nodes:
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
            if node.module == "rag":
                names += [f"rag.{alias.name}" for alias in node.names]
    return names


def _layer(module: str) -> str | None:
    """The package (or top-level module) of rag a dotted name belongs to, None outside rag."""
    parts = module.split(".")
    if parts[0] != "rag" or len(parts) == 1:
        return None
    return parts[1]


def test_every_package_says_what_it_holds() -> None:
    for package in PACKAGES:
        assert (ROOT / "rag" / package / "__init__.py").is_file(), package
        assert ast.get_docstring(ast.parse((ROOT / "rag" / package / "__init__.py").read_text())), package
    found = {p.name for p in (ROOT / "rag").iterdir() if (p / "__init__.py").is_file()}
    assert found == set(PACKAGES), "a new package needs its place in ALLOWED"


@pytest.mark.parametrize("package", PACKAGES)
def test_packages_import_only_the_layers_below(package: str) -> None:
    for path in sorted((ROOT / "rag" / package).glob("*.py")):
        for module in _imports(path):
            layer = _layer(module)
            if layer is None or module in FOUNDATION or layer == package:
                continue
            assert layer in ALLOWED[package], f"rag/{package}/{path.name} imports {module}"


def test_the_core_does_not_import_http_packages() -> None:
    for path in (ROOT / "rag").rglob("*.py"):
        # The CLI's `serve` command starts the service, importing it inside that command only.
        imported = _imports(path, top_level_only="cli" in path.parts)
        offending = [name for name in imported if name.split(".")[0] in HTTP_PACKAGES]
        assert not offending, f"{path.relative_to(ROOT)} imports {offending}"


def test_the_service_uses_only_names_rag_exports() -> None:
    for path in (ROOT / "service").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "rag":
                assert node.module == "rag", f"{path.name} imports {node.module}"
                assert all(alias.name in rag.__all__ for alias in node.names)


def test_every_exported_name_resolves_and_is_typed_where_it_lives() -> None:
    """rag/__init__ names its exports three times (for mypy, for lazy loading, in __all__): they must agree."""
    tree = ast.parse((ROOT / "rag" / "__init__.py").read_text(encoding="utf-8"))
    typed = {
        (node.module, alias.name)
        for node in ast.walk(tree)
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("rag.")
        for alias in node.names
    }
    lazy = {(module, name) for name, module in rag._MODULE_OF.items()}
    assert typed == lazy
    assert sorted(rag.__all__) == sorted(rag._MODULE_OF)
    for name in rag.__all__:
        assert getattr(rag, name) is not None
