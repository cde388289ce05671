"""Finding a document's title in its text, and what fills the embedding model's title slot."""

from __future__ import annotations

import re

from rag.config import UntitledContext
from rag.language.sentences import split_sentences
from rag.language.stopwords import ENGLISH, INDONESIAN

# A first line reads as a title when it is at most this long, has no final punctuation and a blank
# line follows it. Longer lines are the opening sentence of an untitled text.
MAX_TITLE_CHARS = 120
# The lead sentence stands in for a missing title, cut at a word boundary to stay a label.
MAX_LEAD_CHARS = 120

# At most this many names from the lead sentence label an untitled document.
MAX_LEAD_NAMES = 3

# For new indexes; an index keeps the choice it was built with unless RAG_UNTITLED_CONTEXT is set.
DEFAULT_UNTITLED: UntitledContext = "names"

_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\n(.*?)\n(?:---|\.\.\.)[ \t]*(?:\n|\Z)", re.DOTALL)
_FRONT_MATTER_TITLE = re.compile(r"^title:[ \t]*(.+?)[ \t]*$", re.MULTILINE)
_ATX_HEADING = re.compile(r"^[ ]{0,3}#{1,6}[ \t]+(.+?)[ \t]*#*[ \t]*$")
_FIRST_H1 = re.compile(r"^[ ]{0,3}#[ \t]+(.+?)[ \t]*#*[ \t]*$", re.MULTILINE)
_SETEXT_UNDERLINE = re.compile(r"^[ ]{0,3}(=+|-+)[ \t]*$")
_FINAL_PUNCTUATION = ".!?,;:…"
_NAME_SEPARATORS = re.compile(r"[_\-.]+")
_WORD = re.compile(r"[^\W_][\w'’\-]*")
_FUNCTION_WORDS = INDONESIAN | ENGLISH


def _clean(title: str) -> str:
    return " ".join(title.strip().strip("\"'").split())


def _first_lines(text: str) -> list[str]:
    """The lines from the first non-blank one on (front matter excluded)."""
    lines = text.splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    return lines


def _title_line(lines: list[str]) -> str:
    """The first line when it reads as a title: short, no final punctuation, a blank line and more text after."""
    if len(lines) < 3 or lines[1].strip() or not any(line.strip() for line in lines[2:]):
        return ""
    first = lines[0].strip()
    if not first or len(first) > MAX_TITLE_CHARS or first[-1] in _FINAL_PUNCTUATION:
        return ""
    return _clean(first)


def find_title(text: str, *, markdown: bool = False) -> str:
    """The title a text declares, or "" when it has none.

    Front matter `title:`, then a heading on the first line (`# Title`, or a line underlined with
    `===`), then (Markdown only) the first level-one heading anywhere, then a plain first line that
    reads as a title.
    """
    front = _FRONT_MATTER.match(text)
    if front:
        declared = _FRONT_MATTER_TITLE.search(front.group(1))
        if declared and _clean(declared.group(1)):
            return _clean(declared.group(1))
        text = text[front.end() :]
    lines = _first_lines(text)
    if not lines:
        return ""
    heading = _ATX_HEADING.match(lines[0])
    if heading:
        return _clean(heading.group(1))
    if len(lines) > 1 and _SETEXT_UNDERLINE.match(lines[1]) and lines[0].strip():
        return _clean(lines[0])
    if markdown:
        anywhere = _FIRST_H1.search(text)
        if anywhere:
            return _clean(anywhere.group(1))
    return _title_line(lines)


def is_title_text(sentence: str, title: str) -> bool:
    """True when a sentence is the title line itself (a heading is a label, not an answer)."""
    if not title:
        return False
    bare = sentence.strip().lstrip("#").strip().rstrip("#").strip()
    return _clean(bare).casefold() == title.casefold()


def name_words(name: str) -> str:
    """A file name as words: 'ballerina_id.txt' -> 'ballerina id'."""
    stem = name.rsplit("/", 1)[-1]
    stem = stem.rsplit(".", 1)[0] if "." in stem else stem
    return " ".join(_NAME_SEPARATORS.sub(" ", stem).split())


def lead(text: str) -> str:
    """The document's first sentence, cut at a word boundary to at most MAX_LEAD_CHARS."""
    spans = split_sentences(text, max_chars=10 * MAX_LEAD_CHARS)
    if not spans:
        return ""
    start, end = spans[0]
    sentence = " ".join(text[start:end].split())
    if len(sentence) <= MAX_LEAD_CHARS:
        return sentence
    return sentence[:MAX_LEAD_CHARS].rsplit(" ", 1)[0]


def _names(sentence: str) -> list[str]:
    """The runs of capitalised words of a sentence (separated by spaces only), first mention first.

    The first word is capitalised by grammar, so it counts only when the sentence never writes it in
    lowercase; function words and single letters never count.
    """
    lowercase = {m.group().casefold() for m in _WORD.finditer(sentence) if m.group()[0].islower()}
    names: list[str] = []
    run: list[str] = []
    previous_end: int | None = None
    for position, match in enumerate(_WORD.finditer(sentence)):
        word, folded = match.group(), match.group().casefold()
        adjacent = previous_end is not None and not sentence[previous_end : match.start()].strip()
        previous_end = match.end()
        is_name = (
            (word[0].isupper() or (word[0].isdigit() and bool(run) and adjacent))  # "Ferdinand VII", "Apollo 11"
            and len(word) > 1
            and folded not in _FUNCTION_WORDS
            and (position > 0 or folded not in lowercase)
        )
        if run and (not is_name or not adjacent):
            names.append(" ".join(run))
            run = []
        if is_name:
            run.append(word)
    if run:
        names.append(" ".join(run))
    return list(dict.fromkeys(names))


def lead_names(text: str) -> str:
    """The names the document's first sentence uses, at most MAX_LEAD_NAMES: "Republik Malawi, Afrika".

    A label like a title: it tells every sentence what the document is about without carrying the lead
    sentence's facts into each of them.
    """
    spans = split_sentences(text)
    if not spans:
        return ""
    start, end = spans[0]
    return ", ".join(_names(text[start:end])[:MAX_LEAD_NAMES])


def slot_title(title: str, text: str, doc_id: str, *, untitled: UntitledContext) -> str:
    """What fills the model's title slot: the document's title, or for an untitled one the names of its
    lead sentence (the sentence itself in a text without capitalised names), the lead sentence, its file
    name as words, or nothing (the model's own "none")."""
    if title:
        return title
    if untitled == "names":
        return lead_names(text) or lead(text)
    if untitled == "lead":
        return lead(text)
    if untitled == "name":
        return name_words(doc_id)
    return ""
