"""The page in a real headless browser (Debian's chromium driven by Playwright) against a real uvicorn."""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

from rag import RagEngine
from rag.answering.generative import generative_composer
from rag.model.embedding import SentenceTransformerEmbedder
from rag.storage.store import IndexStore
from service.app import create_app
from tests.conftest import PHASE_REPORTS, make_settings
from tests.fake_generator import cites, fake_generator, sentences
from tests.servers import free_port

playwright_api = pytest.importorskip("playwright.sync_api")
CHROMIUM = next((found for name in ("chromium", "chromium-browser") if (found := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed ('make test' installs it)")
KEY = "sesame"


class ThreadedServer:
    """A real uvicorn serving an app from a thread of this process, so it shares the session's model."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> ThreadedServer:
        self._thread.start()
        for _ in range(600):
            if self._server.started:
                return self
            time.sleep(0.05)  # polling a starting server, not asserting on time
        raise AssertionError("uvicorn did not start")

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def _app(
    index_dir: Path,
    embedder: SentenceTransformerEmbedder,
    *,
    key: str | None = None,
    refuse: dict[str, int] | None = None,
    generator_url: str | None = None,
) -> FastAPI:
    settings = make_settings(index_dir, generator_url=generator_url)
    generative = generative_composer(settings, embedder)
    engine = RagEngine(settings, embedder=embedder, store=IndexStore(index_dir), generative=generative)
    app = create_app(settings, engine=engine)
    if refuse:
        # Stands in for limits the service may set (body size, rate): these paths answer with this status.
        @app.middleware("http")
        async def limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            status = refuse.get(f"{request.method} {request.url.path}")
            if status is None:
                return await call_next(request)
            return JSONResponse({"error": {"code": "limited", "message": "limited"}}, status_code=status)

    if key is not None:
        # Keys are built on another branch; this stands in for them: the API answers 401 without the bearer key.
        @app.middleware("http")
        async def require_key(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
            public = request.url.path == "/" or request.url.path.startswith("/static/")
            if public or request.headers.get("authorization") == f"Bearer {key}":
                return await call_next(request)
            error = {"code": "unauthorized", "message": "send an API key as 'Authorization: Bearer KEY'"}
            return JSONResponse({"error": error}, status_code=401)

    return app


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture
def index_copy(tmp_path: Path, article_index: Path) -> Path:
    shutil.copytree(article_index, tmp_path / "index")
    return tmp_path / "index"


@pytest.fixture
def page(browser: Any, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A fresh browser tab; when the test fails its screenshot is saved and its path printed."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.set_default_timeout(60_000)
    yield tab
    report = request.node.stash.get(PHASE_REPORTS, {}).get("call")
    if report is not None and report.failed:
        shot = tmp_path / "failure.png"
        tab.screenshot(path=str(shot), full_page=True)
        print(f"screenshot of the failed page: {shot}")
    context.close()


def _ask(page: Any, question: str) -> dict[str, Any]:
    """Type the question, press Enter, and return the API's JSON answer the page received."""
    box = page.get_by_label("Question")
    box.fill(question)
    with page.expect_response(lambda r: r.url.endswith("/ask")) as response:
        box.press("Enter")
    body: dict[str, Any] = response.value.json()
    page.get_by_role("status").filter(has_text="Answer ready").or_(
        page.get_by_role("status").filter(has_text="do not answer")
    ).wait_for()
    return body


def _check_evidence(page: Any, body: dict[str, Any]) -> None:
    answer = page.get_by_role("region", name="Answer")
    evidence = page.get_by_role("region", name="Evidence")
    assert " ".join(answer.locator(".answer-text").inner_text().split()) == " ".join(body["answer"].split())
    marker = answer.get_by_role("button", name="[1]", exact=True)
    marker.focus()
    page.keyboard.press("Enter")  # activated from the keyboard
    current = evidence.locator("li.current")
    assert current.evaluate("node => node === document.activeElement")
    quote = body["citations"][0]["quote"]
    # The quote is highlighted inside its surrounding text, fetched from GET /documents/{id}/text.
    page.locator("#evidence-1[data-context=loaded]").wait_for()
    assert current.locator("mark").text_content() == quote
    assert body["citations"][0]["title"] in current.inner_text()
    assert len(current.locator(".context").text_content()) > len(quote)


def test_questions_show_answers_and_highlighted_evidence(
    page: Any, index_copy: Path, embedder: SentenceTransformerEmbedder
) -> None:
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    with ThreadedServer(_app(index_copy, embedder)) as server:
        page.goto(server.url + "/")
        page.get_by_role("region", name="Documents").get_by_text("ballerina_id.txt", exact=True).wait_for()
        director = _ask(page, "Siapa sutradara film Ballerina?")
        assert "Lee Chung-hyun" in page.get_by_role("region", name="Answer").inner_text()
        _check_evidence(page, director)
        actor = _ask(page, "Who plays Ok-ju?")
        assert "Jong-seo" in page.get_by_role("region", name="Answer").inner_text()
        _check_evidence(page, actor)
        marks = page.get_by_role("region", name="Evidence").locator("mark").all_text_contents()
        assert marks == [c["quote"] for c in actor["citations"]]

        unanswerable = _ask(page, "Siapa produser film Ballerina?")
        assert unanswerable["abstained"] is True
        answer = page.get_by_role("region", name="Answer")
        assert "Dokumen tidak menyebutkannya." in answer.inner_text()
        # The reason is said in the question's language and in no other.
        assert answer.locator("p").all_inner_texts() == [unanswerable["answer"]]
        assert answer.get_by_role("button").count() == 0
        assert page.get_by_role("region", name="Evidence").locator("mark").count() == 0
    assert all(url.startswith(server.url) or url.startswith("data:") for url in requested)


def test_a_generated_answer_says_so_and_lists_what_it_left_out(
    page: Any, index_copy: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with fake_generator() as fake:
        fake.script = sentences(
            cites("Ok-ju is played by Jun Jong-seo."),
            cites("Jun Jong-seo won an Oscar.", "Jun Jong-seo memenangkan Oscar"),
        )
        with ThreadedServer(_app(index_copy, embedder, generator_url=fake.url)) as server:
            page.goto(server.url + "/")
            body = _ask(page, "Who plays Ok-ju?")
            assert body["mode"] == "generated"
            answer = page.get_by_role("region", name="Answer")
            assert "checked against its citation" in answer.inner_text()
            _check_evidence(page, body)
            left_out = answer.locator("details.dropped")
            assert not left_out.locator("li").is_visible()
            left_out.locator("summary").click()
            assert "Jun Jong-seo won an Oscar." in left_out.locator("li").inner_text()
            assert "fabricated" in left_out.locator("li").inner_text()


def test_an_uploaded_document_goes_live_and_answers(
    page: Any, index_copy: Path, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    note = tmp_path / "saman.md"
    note.write_text("# Tari Saman\n\nTari Saman berasal dari suku Gayo di Aceh.\n", encoding="utf-8")
    with ThreadedServer(_app(index_copy, embedder)) as server:
        page.goto(server.url + "/")
        page.get_by_label("Add a document").set_input_files(str(note))
        status = page.locator("#upload-status")
        status.filter(has_text="is live").wait_for()
        generation = httpx.get(server.url + "/health").json()["generation"]
        assert f"saman.md added: generation {generation} is live" in status.inner_text()
        assert page.get_by_role("region", name="Documents").get_by_text("Tari Saman").is_visible()
        body = _ask(page, "Dari suku mana Tari Saman berasal?")
        assert "Gayo" in page.get_by_role("region", name="Answer").inner_text()
        assert body["citations"][0]["document_id"] == "saman.md"
        _check_evidence(page, body)


def test_a_service_that_wants_a_key_gets_one_from_the_key_field(
    page: Any, index_copy: Path, embedder: SentenceTransformerEmbedder
) -> None:
    with ThreadedServer(_app(index_copy, embedder, key=KEY)) as server:
        assert httpx.get(server.url + "/documents").status_code == 401
        page.goto(server.url + "/")
        key = page.get_by_label("API key")
        key.wait_for()
        assert "needs an API key" in page.get_by_role("alert").inner_text()
        key.fill(KEY)
        key.press("Enter")
        page.get_by_role("region", name="Documents").get_by_text("ballerina_id.txt", exact=True).wait_for()
        assert "Lee Chung-hyun" in str(_ask(page, "Siapa sutradara film Ballerina?")["answer"])
        assert page.evaluate("sessionStorage.getItem('rag-api-key')") == KEY
        # The key stays for this tab: a reload asks with it at once.
        page.reload()
        page.get_by_role("region", name="Documents").get_by_text("ballerina_id.txt", exact=True).wait_for()
        assert page.get_by_label("API key").input_value() == KEY


def test_errors_are_said_in_words(page: Any, tmp_path: Path, embedder: SentenceTransformerEmbedder) -> None:
    with ThreadedServer(_app(tmp_path / "no-index", embedder)) as server:
        page.goto(server.url + "/")
        alert = page.get_by_role("alert")
        alert.filter(has_text="not ready yet").wait_for()
        assert "rag reindex" in alert.inner_text()
        page.get_by_label("Question").fill("Siapa sutradara film Ballerina?")
        page.get_by_label("Question").press("Enter")
        alert.filter(has_text="not ready yet").wait_for()


def test_limits_are_said_in_words(
    page: Any, index_copy: Path, embedder: SentenceTransformerEmbedder, tmp_path: Path
) -> None:
    note = tmp_path / "big.txt"
    note.write_text("Catatan yang terlalu besar.", encoding="utf-8")
    refuse = {"POST /ask": 429, "POST /documents": 413}
    with ThreadedServer(_app(index_copy, embedder, refuse=refuse)) as server:
        page.goto(server.url + "/")
        page.get_by_role("region", name="Documents").get_by_text("ballerina_id.txt", exact=True).wait_for()
        page.get_by_label("Question").fill("Who plays Ok-ju?")
        page.get_by_label("Question").press("Enter")
        alert = page.get_by_role("alert")
        alert.filter(has_text="Too many requests").wait_for()
        page.get_by_label("Add a document").set_input_files(str(note))
        alert.filter(has_text="too large").wait_for()


@pytest.mark.parametrize(("width", "height"), [(390, 844), (1280, 900)])
def test_the_page_fits_phone_and_desktop_widths(
    browser: Any, index_copy: Path, embedder: SentenceTransformerEmbedder, width: int, height: int
) -> None:
    with ThreadedServer(_app(index_copy, embedder)) as server:
        tab = browser.new_page(viewport={"width": width, "height": height})
        tab.goto(server.url + "/")
        tab.get_by_label("Question").fill("Who plays Ok-ju?")
        tab.get_by_label("Question").press("Enter")
        tab.get_by_role("region", name="Evidence").locator("mark").first.wait_for()
        assert tab.evaluate("document.documentElement.scrollWidth") <= width
        tab.close()
