"""Documents and chunks as values, and reading documents from files."""

from __future__ import annotations

import bisect
import hashlib
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from rag.errors import DocumentError

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIX = ".pdf"
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {PDF_SUFFIX}
PAGE_BREAK = "\n\n"
_BLANK_LINES = re.compile(r"\n\s*\n\s*")
_MARKDOWN_HEADING = re.compile(r"^\s{0,3}#\s+(.+?)\s*#*\s*$", re.MULTILINE)


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    """A source text; every offset in the service points into `text`.

    `pages` holds the offset where each page starts (PDF only; empty otherwise).
    """

    id: str
    title: str
    text: str
    source: str = ""
    hash: str = field(default="")
    pages: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(self.text))

    def page_at(self, offset: int) -> int | None:
        """The 1-based page holding `offset`, or None for documents without pages."""
        return bisect.bisect_right(self.pages, offset) if self.pages else None


@dataclass(frozen=True)
class Span:
    """A character range [start, end) of one document."""

    doc_id: str
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Skipped:
    """A file that was not indexed, and why."""

    path: str
    reason: str


def title_for(text: str, fallback: str) -> str:
    """A Markdown document's first heading, otherwise the file name without its suffix."""
    heading = _MARKDOWN_HEADING.search(text)
    return heading.group(1) if heading else fallback


def _visible_text(markup: str) -> tuple[str, str | None]:
    """The text a browser shows (scripts, styles and templates removed) and the page title."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(markup, "html.parser")
    for hidden in soup(["script", "style", "noscript", "template"]):
        hidden.decompose()
    title = soup.title.get_text(strip=True) if soup.title else None
    if soup.head:
        soup.head.decompose()
    heading = soup.find("h1")
    text = _BLANK_LINES.sub("\n\n", soup.get_text("\n")).strip()
    return text, title or (heading.get_text(strip=True) if heading else None)


def _pdf_text(raw: bytes, name: str) -> tuple[str, tuple[int, ...], str | None]:
    """The text layer of a PDF, its pages joined by blank lines, each page's start offset and the title."""
    from pypdf import PdfReader
    from pypdf.errors import LimitReachedError, PyPdfError

    try:
        reader = PdfReader(io.BytesIO(raw))
        texts = [(page.extract_text() or "").strip() for page in reader.pages]
        title = reader.metadata.title if reader.metadata else None
    except LimitReachedError as exc:
        raise DocumentError(f"{name}: a compressed stream expands past the safety limit (decompression bomb?)") from exc
    except (PyPdfError, ValueError, KeyError) as exc:
        raise DocumentError(f"{name}: not a readable PDF ({exc})") from exc
    starts, parts, offset = [], [], 0
    for text in texts:
        starts.append(offset)
        parts.append(text)
        offset += len(text) + len(PAGE_BREAK)
    return PAGE_BREAK.join(parts), tuple(starts), title


def parse_document(raw: bytes, *, name: str, doc_id: str, source: str) -> Document:
    """Turn a file's bytes into a Document by its suffix; DocumentError says why it is not usable."""
    suffix = Path(name).suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{name}: unsupported file type {suffix or '(none)'!r}")
    if suffix == PDF_SUFFIX:
        text, pages, pdf_title = _pdf_text(raw, name)
        if not text.strip():
            raise DocumentError(f"{name}: no text layer (scanned PDF?); run OCR first")
        return Document(doc_id, pdf_title or Path(name).stem, text, source, pages=pages)
    if b"\x00" in raw:
        raise DocumentError(f"{name}: looks binary (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name}: not valid UTF-8 (byte {exc.start}); convert it to UTF-8") from exc
    title: str | None = None
    if suffix in HTML_SUFFIXES:
        text, title = _visible_text(text)
    if not text.strip():
        raise DocumentError(f"{name}: empty")
    return Document(id=doc_id, title=title or title_for(text, Path(name).stem), text=text, source=source)


def read_document(path: Path, doc_id: str) -> Document:
    return parse_document(path.read_bytes(), name=str(path), doc_id=doc_id, source=str(path.resolve()))


def scan(paths: Iterable[Path]) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file under the given files and folders.

    A file's id is its path relative to the folder above the one it was found in,
    so `rag reindex notes/` names `notes/a.md` "notes/a.md" wherever it is run from.
    """
    documents: dict[str, Document] = {}
    skipped: list[Skipped] = []
    for root in paths:
        if not root.exists():
            raise DocumentError(f"{root}: no such file or folder")
        files = sorted(p for p in root.rglob("*") if p.is_file()) if root.is_dir() else [root]
        base = root.resolve().parent
        for path in files:
            if any(part.startswith(".") for part in path.relative_to(root).parts if root.is_dir()):
                continue
            doc_id = path.resolve().relative_to(base).as_posix()
            try:
                documents[doc_id] = read_document(path, doc_id)
            except DocumentError as exc:
                skipped.append(Skipped(str(path), exc.message))
    return list(documents.values()), skipped


def default_corpus() -> list[Document]:
    """The bundled article about the Korean film Ballerina (2023), in Indonesian."""
    resource = resources.files("rag").joinpath("data/ballerina_id.txt")
    text = resource.read_text(encoding="utf-8")
    return [Document(id="ballerina_id.txt", title="Ballerina (2023)", text=text, source="bundled")]
