"""Structure-aware Chinese chunking: headings give each chunk a section path; sentences stay whole."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.knowledge.types import Chunk, Document

CHUNKER_VERSION = "2"  # bump when chunking changes: ingest then re-chunks every file
TARGET_CHARS = 160  # a chunk closes at the first sentence end past this length...
MAX_CHARS = 280  # ...and never grows past this by adding another sentence
MIN_TAIL_CHARS = 50  # a shorter remainder of a paragraph joins the chunk before it

_NUM = "零〇一二三四五六七八九十百千两"
# (level, pattern); lower level = higher in the hierarchy. Articles (第X条) are their own level.
_HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^第[{_NUM}\d]+[编篇部分]")),
    (2, re.compile(rf"^第[{_NUM}\d]+章")),
    (3, re.compile(rf"^第[{_NUM}\d]+节")),
    (4, re.compile(rf"^[{_NUM}]+[、，,．.]")),
    (5, re.compile(rf"^[（(][{_NUM}]+[）)]")),
    (6, re.compile(r"^\d{1,2}[、．.](?!\d)")),
    (7, re.compile(r"^[（(]\d{1,2}[）)]|^[①-⑳]")),
]
_ARTICLE = re.compile(rf"^第[{_NUM}\d]+条")
ARTICLE_LEVEL = 8
_SENTENCE_END = "。！？!?；;…"
_CLOSERS = "”’\"'）)】》」』"
_SENTENCE_RE = re.compile(rf"[^{_SENTENCE_END}]*(?:[{_SENTENCE_END}]+[{_CLOSERS}]*|$)")
HEADING_MAX = 40  # a heading line (or the heading clause of a line) is at most this long


@dataclass
class _Block:
    """A paragraph with the section path in force where it stands."""

    path: tuple[str, ...]
    text: str


def chunk_id(doc_id: str, ordinal: int, text: str) -> str:
    """Stable chunk id: same document, position and text give the same id."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}:{ordinal:05d}:{digest}"


def heading_level(line: str) -> int | None:
    """The outline level of a numbered heading line, or None."""
    if _ARTICLE.match(line):
        return ARTICLE_LEVEL
    for level, pattern in _HEADINGS:
        if pattern.match(line):
            return level
    return None


def split_sentences(text: str) -> list[str]:
    """Split Chinese text into sentences, keeping end punctuation and closing quotes."""
    return [s for s in (m.group(0) for m in _SENTENCE_RE.finditer(text)) if s.strip()]


def _heading_text(line: str) -> str:
    """The heading clause of a numbered line: the whole line when short, else up to the first sentence end."""
    article = _ARTICLE.match(line)
    if article:
        return article.group(0)
    if _is_bare_heading(line):
        return line.rstrip("。；;")
    first = next(iter(split_sentences(line)), line)
    return first.rstrip("。；;") if len(first) <= HEADING_MAX + 20 else first[:HEADING_MAX] + "…"


def _is_bare_heading(line: str) -> bool:
    """A heading with no text of its own: short, and no sentence ends inside it."""
    return len(line) <= HEADING_MAX and not any(p in line.rstrip("。；;") for p in "。！？；;!?")


def _is_title_line(line: str, nxt: str | None) -> bool:
    """An unnumbered short line without sentence punctuation that introduces the following text."""
    if nxt is None or len(line) > HEADING_MAX or line.endswith(tuple(_SENTENCE_END + "：:，,")):
        return False
    return not any(p in line for p in "。！？；")


def _blocks(doc: Document) -> list[_Block]:
    """Walk the paragraphs, tracking the section path; headings with inline text become blocks too."""
    lines = [ln.strip() for ln in doc.text.split("\n")]
    lines = [ln for ln in lines if ln]
    if lines and lines[0] == doc.title and heading_level(lines[0]) is None and _is_bare_heading(lines[0]):
        lines = lines[1:]  # the title line is metadata, unless it carries text of its own
    stack: list[tuple[int, str]] = []
    blocks: list[_Block] = []
    pending_titles: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        level = heading_level(line)
        if (
            level is not None
            and level > 3
            and level != ARTICLE_LEVEL
            and stack
            and stack[-1][0] == ARTICLE_LEVEL
        ):
            level = None  # items (一)(二)… inside an article belong to the article
        if level is None and _is_title_line(line, nxt):
            pending_titles.append(line)
            continue
        # Unnumbered title lines (e.g. a speaker's heading and name) start a new top section.
        if pending_titles:
            stack = [(0, " ".join(t.lstrip("—－-– ") for t in pending_titles))]
            pending_titles = []
        if level is not None:
            stack = [(lv, t) for lv, t in stack if lv < level]
            stack.append((level, _heading_text(line)))
            body = "" if _is_bare_heading(line) and level != ARTICLE_LEVEL else line
            if body:
                blocks.append(_Block(tuple(t for _, t in stack), body))
            continue
        blocks.append(_Block(tuple(t for _, t in stack), line))
    if pending_titles:
        blocks.append(_Block(tuple(t for _, t in stack), " ".join(pending_titles)))
    return blocks


def _pack(sentences: list[str]) -> list[str]:
    """Group consecutive sentences into pieces of about TARGET_CHARS, never over MAX_CHARS unless one sentence is."""
    pieces: list[str] = []
    current = ""
    for sentence in sentences:
        if current and (len(current) >= TARGET_CHARS or len(current) + len(sentence) > MAX_CHARS):
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        if (
            pieces
            and len(current) < MIN_TAIL_CHARS
            and len(pieces[-1]) + len(current) <= MAX_CHARS + MIN_TAIL_CHARS
        ):
            pieces[-1] += current
        else:
            pieces.append(current)
    return pieces


def chunk_document(doc: Document) -> list[Chunk]:
    """Split a cleaned document into citable chunks, each with its title and section path."""
    pieces: list[tuple[tuple[str, ...], str]] = []
    for block in _blocks(doc):
        for piece in _pack(split_sentences(block.text)):
            prev = pieces[-1] if pieces else None
            # Short paragraphs of the same section join while the result stays small.
            if (
                prev
                and prev[0] == block.path
                and len(prev[1]) < MIN_TAIL_CHARS * 2
                and len(prev[1] + piece) <= MAX_CHARS
            ):
                pieces[-1] = (prev[0], prev[1] + "\n" + piece)
            else:
                pieces.append((block.path, piece))
    chunks = []
    for ordinal, (path, text) in enumerate(pieces):
        section = " > ".join(path)
        chunks.append(
            Chunk(chunk_id(doc.doc_id, ordinal, text), doc.doc_id, doc.title, section, text.strip(), ordinal)
        )
    return chunks
