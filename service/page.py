"""The browser page: index.html at `/`, its script and style under `/static`, all shipped in the package."""

from __future__ import annotations

from importlib import resources

from fastapi import FastAPI
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

# The page loads nothing from other hosts; the browser is told to refuse it if it ever tried.
CONTENT_POLICY = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"


def add_page(app: FastAPI) -> None:
    """Serve the page at `/` and its files under `/static` (kept out of the OpenAPI schema)."""
    html = (resources.files("service") / "static" / "index.html").read_text(encoding="utf-8")

    @app.get("/", include_in_schema=False)
    async def page() -> HTMLResponse:
        return HTMLResponse(html, headers={"Content-Security-Policy": CONTENT_POLICY, "Cache-Control": "no-cache"})

    app.mount("/static", StaticFiles(packages=[("service", "static")]), name="static")
