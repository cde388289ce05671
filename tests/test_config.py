"""Settings read from the environment: comma-separated keys and origins, secrets kept out of reprs, every one
documented in the README."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rag import Settings


def test_keys_and_origins_are_comma_separated_and_keys_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RAG_API_KEYS", " alpha-key, beta-key ,")
    monkeypatch.setenv("RAG_ADMIN_KEYS", "root-key")
    monkeypatch.setenv("RAG_CORS_ORIGINS", "https://a.example,https://b.example")
    monkeypatch.setenv("RAG_RATE_LIMIT", "60/minute")
    settings = Settings()
    assert [k.get_secret_value() for k in settings.api_keys] == ["alpha-key", "beta-key"]
    assert [k.get_secret_value() for k in settings.admin_keys] == ["root-key"]
    assert settings.cors_origins == ("https://a.example", "https://b.example")
    assert settings.rate_limit == "60/minute"
    shown = f"{settings!r} {settings} {settings.model_dump()}"
    assert "alpha-key" not in shown and "root-key" not in shown


def test_without_keys_access_control_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RAG_API_KEYS", "RAG_ADMIN_KEYS", "RAG_CORS_ORIGINS", "RAG_RATE_LIMIT", "RAG_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert (settings.api_keys, settings.admin_keys, settings.cors_origins) == ((), (), ())
    assert (settings.rate_limit, settings.log_format) == (None, "text")


def test_the_readme_documents_every_setting_and_no_other() -> None:
    """The README's configuration table is the user's list of settings: one row per variable Settings reads."""
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `RAG_")]
    documented = {name for row in rows for name in re.findall(r"`(RAG_[A-Z_]+)`", row.split(" | ")[0])}
    read = {f"RAG_{name.upper()}" for name in Settings.model_fields}
    assert documented == read, f"undocumented: {sorted(read - documented)}; not settings: {sorted(documented - read)}"
