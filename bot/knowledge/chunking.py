"""Structure-aware Chinese chunking: headings give each chunk a section path; articles and sentences stay whole.

Rules (issue 8): 第X编/章/节/条 and their Traditional forms 第X編/章/節/條 build the path; the （一）/1./(1) items of
an article stay inside it; an article is one chunk up to ARTICLE_MAX_CHARS and, when longer, spans chunks that all
carry its path; the 题注 (adoption note under the title) is the document's note, not a section; a paragraph without
sentence ends is cut at clause marks (，；：) so that no chunk exceeds HARD_MAX_CHARS. Every chunk's text is the
document's own text (its lines joined by "\\n"); section labels are exact substrings of the document's lines.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.knowledge.types import Chunk, Document
from bot.textnorm import without_whitespace

CHUNKER_VERSION = "5"  # bump when chunking changes: ingest then re-chunks every file
TARGET_CHARS = 160  # a speech chunk closes at the first sentence end past this length...
MAX_CHARS = 280  # ...and never grows past this by adding another sentence
MIN_TAIL_CHARS = 50  # a shorter remainder of a paragraph joins the chunk before it
ARTICLE_MAX_CHARS = 600  # an article up to this length is one chunk
HARD_MAX_CHARS = 600  # no chunk is longer (Telegram allows 4,096 characters a message)

NUMERALS = "零〇一二三四五六七八九十百千两兩佰仟\\d"
_NUM = NUMERALS
# (level, pattern); lower level = higher in the hierarchy. Articles (第X条) are their own level.
_HEADINGS: list[tuple[int, re.Pattern[str]]] = [
    (1, re.compile(rf"^第[{_NUM}]+(?:[编編篇]|部分)")),
    (2, re.compile(rf"^第[{_NUM}]+章")),
    (3, re.compile(rf"^第[{_NUM}]+[节節]")),
    (4, re.compile(r"^[零〇一二三四五六七八九十百千两兩]+[、，,．.]")),
    (5, re.compile(r"^[（(][零〇一二三四五六七八九十百千两兩]+[）)]")),
    (6, re.compile(r"^\d{1,2}[、．.](?!\d)")),
    (7, re.compile(r"^[（(]\d{1,2}[）)]|^[①-⑳]")),
]
_ARTICLE = re.compile(rf"^第[{_NUM}]+[条條]")
ARTICLE_LEVEL = 8
STRUCTURE_LEVEL = 3  # 编/章/节: the levels of a regulation's own outline
_SENTENCE_END = "。！？!?；;…"
_CLOSERS = "”’\"'）)】》」』"
_SENTENCE_RE = re.compile(rf"[^{_SENTENCE_END}]*(?:[{_SENTENCE_END}]+[{_CLOSERS}]*|$)")
_CLAUSE_RE = re.compile(rf"[^，,：:、]*(?:[，,：:、]+[{_CLOSERS}]*|$)")
_FIRST_CLAUSE = re.compile(r"^[^，,。！？；;：:]+")
HEADING_MAX = 40  # a heading line (or the heading clause of a line) is at most this long
# The 题注: dates and acts of adoption under a regulation's title (通过, 批准, 修正 ...), or a line in brackets.
_NOTE_ACTS = re.compile(r"(通过|批准|发布|發佈|發布|公布|修正|修订|修訂|施行|印发|印發|决定|決定|审议|審議)")
_DATE = re.compile(r"\d{4}\s*年\s*\d{1,2}\s*月|[〇零一二三四五六七八九]{4}年")


@dataclass
class _Block:
    """A paragraph with the section path in force where it stands."""

    path: tuple[str, ...]
    text: str
    article: bool = False  # the paragraph belongs to an article (第X条)


def chunk_id(doc_id: str, ordinal: int, text: str) -> str:
    """Stable chunk id: same document, position and text give the same id."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}:{ordinal:05d}:{digest}"


def heading_level(line: str) -> int | None:
    """The outline level of a numbered heading line (1 编 … 3 节, 4 一、 … 7 (1), 8 第X条), or None."""
    if _ARTICLE.match(line):
        return ARTICLE_LEVEL
    for level, pattern in _HEADINGS:
        if pattern.match(line):
            return level
    return None


def split_sentences(text: str) -> list[str]:
    """Split Chinese text into sentences, keeping end punctuation and closing quotes."""
    return [s for s in (m.group(0) for m in _SENTENCE_RE.finditer(text)) if s.strip()]


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of text, leading and trailing whitespace excluded."""
    spans = []
    for m in _SENTENCE_RE.finditer(text):
        piece = m.group(0)
        if not piece.strip():
            continue
        start = m.start() + len(piece) - len(piece.lstrip())
        end = m.end() - (len(piece) - len(piece.rstrip()))
        spans.append((start, end))
    return spans


def _split_long(sentence: str, limit: int) -> list[str]:
    """A sentence longer than limit, cut at clause marks (，：、), and hard at limit when a clause is longer."""
    if len(sentence) <= limit:
        return [sentence]
    pieces: list[str] = []
    current = ""
    for clause in (m.group(0) for m in _CLAUSE_RE.finditer(sentence)):
        if not clause:
            continue
        while len(clause) > limit:
            if current:
                pieces.append(current)
                current = ""
            pieces.append(clause[:limit])
            clause = clause[limit:]
        if current and len(current) + len(clause) > limit:
            pieces.append(current)
            current = ""
        current += clause
    if current:
        pieces.append(current)
    return pieces


def article_label(line: str) -> str | None:
    """The 第X条 / 第X條 label that starts a line, or None."""
    m = _ARTICLE.match(line)
    return m.group(0) if m else None


def _heading_text(line: str, level: int) -> str:
    """The label of a heading in the section path: always an exact substring of the line.

    An article is its label (第五条); a bare heading is the line itself (without a final 。；); a numbered line that
    carries sentences is its first clause when short, else its number (一、).
    """
    article = _ARTICLE.match(line)
    if article:
        return article.group(0)
    if _is_bare_heading(line):
        return line.rstrip("。；;")
    first = _FIRST_CLAUSE.match(line)
    if first and len(first.group(0)) <= HEADING_MAX:
        return first.group(0)
    pattern = dict(_HEADINGS)[level]
    return pattern.match(line).group(0)  # type: ignore[union-attr]


def _is_bare_heading(line: str) -> bool:
    """A heading with no text of its own: short, and no sentence punctuation in it or at its end."""
    return len(line) <= HEADING_MAX and not any(p in line for p in "。！？；;!?")


def _is_title_line(line: str, nxt: str | None) -> bool:
    """An unnumbered short line without sentence punctuation that introduces the following text."""
    if nxt is None or len(line) > HEADING_MAX or line.endswith(tuple(_SENTENCE_END + "：:，,")):
        return False
    return not any(p in line for p in "。！？；")


def is_note_line(line: str) -> bool:
    """A line of the 题注: a date with an act of adoption (通过, 批准, 修正 …), or a line wholly in brackets."""
    bare = line.strip()
    if bare.startswith(("（", "(")) and bare.endswith(("）", ")")) and _DATE.search(bare):
        return True
    return bool(_DATE.search(bare[:16]) and _NOTE_ACTS.search(bare))


def _front_matter(lines: list[str], title: str) -> tuple[list[str], list[str], list[str], int]:
    """Split off a regulation's front matter: (title lines, note lines, other lines, index of the first body line).

    Front matter is everything before the first 编/章/节/条 heading, when that comes within the first 40 lines:
    lines like the title are the title, 题注 lines (and lines continuing them) the note, the rest a preamble.
    """
    first = next(
        (
            i
            for i, ln in enumerate(lines[:40])
            if (heading_level(ln) or 99) <= STRUCTURE_LEVEL or _ARTICLE.match(ln)
        ),
        None,
    )
    if first is None:
        return [], [], [], 0
    titles: list[str] = []
    notes: list[str] = []
    others: list[str] = []
    for line in lines[:first]:
        if is_note_line(line) or (notes and not others and not _is_title_line(line, "") and len(line) <= 200):
            notes.append(line)
        elif without_whitespace(line) == without_whitespace(title) or (
            _is_title_line(line, "") and not others
        ):
            titles.append(line)
        else:
            others.append(line)
    return titles, notes, others, first


def document_note(doc: Document) -> str:
    """The 题注 of a document (its adoption and amendment note), or ""."""
    lines = [ln.strip() for ln in doc.text.split("\n") if ln.strip()]
    return "\n".join(_front_matter(lines, doc.title)[1])


def _blocks(doc: Document) -> list[_Block]:
    """Walk the paragraphs, tracking the section path; headings with inline text become blocks too."""
    lines = [ln.strip() for ln in doc.text.split("\n")]
    lines = [ln for ln in lines if ln]
    blocks: list[_Block] = []
    titles, notes, others, start = _front_matter(lines, doc.title)
    if notes:
        blocks.append(_Block((), "\n".join(notes)))
    blocks.extend(_Block((), line) for line in others)
    lines = lines[start:]
    if (
        not titles
        and lines
        and without_whitespace(lines[0]) == without_whitespace(doc.title)
        and heading_level(lines[0]) is None
        and _is_bare_heading(lines[0])
    ):
        lines = lines[1:]  # the title line is metadata, unless it carries text of its own
    regulation = any(_ARTICLE.match(ln) for ln in lines)
    stack: list[tuple[int, str]] = []
    pending_titles: list[str] = []
    for i, line in enumerate(lines):
        nxt = lines[i + 1] if i + 1 < len(lines) else None
        level = heading_level(line)
        in_article = bool(stack) and stack[-1][0] == ARTICLE_LEVEL
        if level is not None and level > STRUCTURE_LEVEL and level != ARTICLE_LEVEL and in_article:
            level = None  # items (一)(二)… inside an article belong to the article
        if level is None and not in_article and not regulation and _is_title_line(line, nxt):
            pending_titles.append(line)
            continue
        # Unnumbered title lines (e.g. a speaker's heading and name) start a new top section.
        if pending_titles:
            stack = [(0, title) for title in pending_titles]  # e.g. a speech's heading, then the speaker
            pending_titles = []
        if level is not None:
            stack = [(lv, t) for lv, t in stack if lv < level]
            stack.append((level, _heading_text(line, level)))
            path = tuple(t for _, t in stack)
            if level == ARTICLE_LEVEL or not _is_bare_heading(line):
                blocks.append(_Block(path, line, level == ARTICLE_LEVEL))
            continue
        in_article = bool(stack) and stack[-1][0] == ARTICLE_LEVEL
        blocks.append(_Block(tuple(t for _, t in stack), line, in_article))
    if pending_titles:
        blocks.append(_Block(tuple(t for _, t in stack), "\n".join(pending_titles)))
    return blocks


def _pack(sentences: list[str], limit: int = MAX_CHARS) -> list[str]:
    """Group consecutive sentences into pieces of about TARGET_CHARS, never over limit (long ones are cut)."""
    parts = [piece for sentence in sentences for piece in _split_long(sentence, limit)]
    pieces: list[str] = []
    current = ""
    for part in parts:
        if current and (len(current) >= TARGET_CHARS or len(current) + len(part) > limit):
            pieces.append(current)
            current = ""
        current += part
    if current:
        if pieces and len(current) < MIN_TAIL_CHARS and len(pieces[-1]) + len(current) <= limit:
            pieces[-1] += current
        else:
            pieces.append(current)
    return pieces


def _article_pieces(texts: list[str]) -> list[str]:
    """An article's paragraphs as one piece, or, when too long, as pieces of whole paragraphs/sentences."""
    whole = "\n".join(texts)
    if len(whole) <= ARTICLE_MAX_CHARS:
        return [whole]
    pieces: list[str] = []
    current = ""
    for text in texts:
        parts = _pack(split_sentences(text), HARD_MAX_CHARS) if len(text) > HARD_MAX_CHARS else [text]
        for n, part in enumerate(parts):
            sep = "\n" if current and n == 0 else ""
            if current and len(current) + len(sep) + len(part) > HARD_MAX_CHARS:
                pieces.append(current)
                current, sep = "", ""
            current += sep + part
    if current:
        pieces.append(current)
    return pieces


def chunk_document(doc: Document) -> list[Chunk]:
    """Split a cleaned document into citable chunks, each with its title and section path."""
    pieces: list[tuple[tuple[str, ...], str]] = []
    blocks = _blocks(doc)
    i = 0
    while i < len(blocks):
        block = blocks[i]
        if block.article:
            group = [block.text]
            while i + 1 < len(blocks) and blocks[i + 1].article and blocks[i + 1].path == block.path:
                i += 1
                group.append(blocks[i].text)
            pieces.extend((block.path, piece) for piece in _article_pieces(group))
            i += 1
            continue
        for piece in _pack(split_sentences(block.text)):
            prev = pieces[-1] if pieces else None
            # Short paragraphs of the same section join while the result stays small.
            if (
                prev
                and prev[0] == block.path
                and block.path
                and len(prev[1]) < MIN_TAIL_CHARS * 2
                and len(prev[1] + piece) <= MAX_CHARS
            ):
                pieces[-1] = (prev[0], prev[1] + "\n" + piece)
            else:
                pieces.append((block.path, piece))
        i += 1
    chunks = []
    for ordinal, (path, text) in enumerate(pieces):
        section = " > ".join(path)
        chunks.append(
            Chunk(
                chunk_id(doc.doc_id, ordinal, text),
                doc.doc_id,
                doc.title,
                section,
                text.strip(),
                ordinal,
                ocr=bool(doc.meta.get("ocr_pages")),
            )
        )
    return chunks
