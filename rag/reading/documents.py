"""Documents and chunks as values, and reading documents from files."""

from __future__ import annotations

import bisect
import hashlib
import io
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path

from rag.errors import DocumentError
from rag.reading.sources import BUNDLED, BUNDLED_SOURCE, Source
from rag.reading.titles import find_title

TEXT_SUFFIXES = frozenset({".txt", ".md", ".markdown", ".text"})
HTML_SUFFIXES = frozenset({".html", ".htm"})
PDF_SUFFIX = ".pdf"
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {PDF_SUFFIX}
PAGE_BREAK = "\n\n"
_BLANK_LINES = re.compile(r"\n\s*\n\s*")
MARKDOWN_SUFFIXES = frozenset({".md", ".markdown"})


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Document:
    """A source text; every offset in the service points into `text`.

    `title` is the title the file declares ("" when it has none); `pages` holds the offset where
    each page starts (PDF only; empty otherwise).
    """

    id: str
    title: str
    text: str
    source: str = ""
    hash: str = field(default="")
    pages: tuple[int, ...] = ()
    # (size, modification time in ns) of the file it was read from; (0, 0) when there is none.
    stamp: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        if not self.hash:
            object.__setattr__(self, "hash", content_hash(self.text))

    @property
    def label(self) -> str:
        """What to call the document: its title, or its file name when it has none."""
        return self.title or self.id.rsplit("/", 1)[-1]

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
        return Document(doc_id, (pdf_title or "").strip() or find_title(text), text, source, pages=pages)
    if b"\x00" in raw:
        raise DocumentError(f"{name}: looks binary (contains NUL bytes)")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{name}: not valid UTF-8 (byte {exc.start}); convert it to UTF-8") from exc
    html_title: str | None = None
    if suffix in HTML_SUFFIXES:
        text, html_title = _visible_text(text)
    if not text.strip():
        raise DocumentError(f"{name}: empty")
    title = html_title or find_title(text, markdown=suffix in MARKDOWN_SUFFIXES)
    return Document(id=doc_id, title=title, text=text, source=source)


def read_document(path: Path, doc_id: str) -> Document:
    stat = path.stat()
    document = parse_document(path.read_bytes(), name=str(path), doc_id=doc_id, source=str(path))
    return replace(document, stamp=(stat.st_size, stat.st_mtime_ns))


def _files_under(base: Path, skipped: list[Skipped]) -> list[tuple[str, str, os.stat_result]]:
    """Every file below `base` outside hidden files and folders, as (path relative to base, path, stat),
    sorted by the relative path. os.scandir reports file types without a stat call per entry, which rglob
    and Path.is_file do not: at 50,000 files this walk takes a fraction of rglob's time."""
    found: list[tuple[str, str, os.stat_result]] = []
    pending = [("", str(base))]
    while pending:
        prefix, folder = pending.pop()
        try:
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    relative = prefix + entry.name
                    # Like rglob: symlinked folders are not followed (no cycles), symlinked files are.
                    if entry.is_dir(follow_symlinks=False):
                        pending.append((relative + "/", entry.path))
                    elif entry.is_file():
                        found.append((relative, entry.path, entry.stat()))
        except OSError as exc:
            skipped.append(Skipped(folder, f"unreadable ({exc.strerror or exc})"))
    return sorted(found, key=lambda item: item[0])


def scan(
    roots: Sequence[Source], *, known: Mapping[str, Document] | None = None
) -> tuple[list[Document], list[Skipped]]:
    """Read every supported file under the given roots (hidden files and folders left out).

    A file whose size and modification time equal those of the `known` document with its id is
    not read again: that document is returned as it is.
    """
    known = known or {}
    documents: dict[str, Document] = {}
    skipped: list[Skipped] = []
    for root in roots:
        base = Path(root.path)
        if not base.exists():
            raise DocumentError(f"{base}: no such file or folder")
        files = _files_under(base, skipped) if base.is_dir() else [("", str(base), base.stat())]
        for relative, path, stat in files:
            doc_id = root.doc_id(relative)
            before = known.get(doc_id)
            try:
                unchanged = before is not None and before.stamp == (stat.st_size, stat.st_mtime_ns)
                if before is not None and unchanged and before.source == path:
                    documents[doc_id] = before
                else:
                    documents[doc_id] = read_document(Path(path), doc_id)
            except DocumentError as exc:
                skipped.append(Skipped(path, exc.message))
            except OSError as exc:
                skipped.append(Skipped(path, f"unreadable ({exc.strerror or exc})"))
    return list(documents.values()), skipped


def default_corpus() -> list[Document]:
    """The bundled article about the Korean film Ballerina (2023), in Indonesian, read as any file is."""
    name = BUNDLED_SOURCE.name
    raw = resources.files("rag").joinpath(f"data/{name}").read_bytes()
    return [parse_document(raw, name=name, doc_id=name, source=BUNDLED)]


@dataclass(frozen=True)
class TextWindow:
    """`text == document_text[start:end]` of one document, which has `characters` characters in all."""

    doc_id: str
    title: str
    start: int
    end: int
    characters: int
    text: str
