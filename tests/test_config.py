"""Settings read from the environment: comma-separated keys and origins, secrets kept out of reprs."""

from __future__ import annotations

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
