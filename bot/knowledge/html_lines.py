"""Rendering an HTML tree as text lines, the way a browser lays the page out, with facts about each line.

Blocks (p, div, li, h1–h6, table cells of layout tables, …) and <br> end a line; a data table gives one line per
row, its cells joined with " | ". Each line records how many of its characters are link text and the innermost
block element it comes from, so that callers can judge page chrome by structure (link density, position).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from lxml import etree

from bot.knowledge.cleaning import normalize_spaces

_BLOCKS = (
    "address article aside blockquote body caption center dd details dialog dir div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr li main menu nav ol p pre section summary table tbody thead "
    "tfoot tr td th ul"
)
BLOCK_TAGS = frozenset(_BLOCKS.split())
_CELL_TAGS = ("td", "th")
_STRUCTURE_IN_CELL = ("table", "h1", "h2", "h3", "h4", "h5", "h6", "form", "ul", "ol", "iframe")
# A line break in the source between two CJK characters is not rendered as a space (CSS Text 3, segment breaks).
_CJK = r"[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]"
_CJK_BREAK = re.compile(rf"(?<={_CJK})[ \t\r]*\n\s*(?={_CJK})")
CELL_SEPARATOR = " | "


@dataclass
class Line:
    """One rendered line: its text (spaces normalised), its link characters and the block it comes from."""

    text: str
    link_chars: int
    block: etree._Element

    @property
    def link_density(self) -> float:
        """Share of the line's characters (spaces excluded) that are link text, 0.0–1.0."""
        visible = len(self.text.replace(" ", ""))
        return min(1.0, self.link_chars / visible) if visible else 0.0


def _text(value: str | None) -> str:
    return _CJK_BREAK.sub("", value) if value else ""


def _visible_len(text: str) -> int:
    return len("".join(text.split()))


def is_data_table(table: etree._Element) -> bool:
    """A table of data (rows of cells) rather than a layout grid: no nested tables, headings or lists in its
    cells, no cell holding running text (over 300 characters, or over 100 in three or more lines), and at least
    two rows with two or more non-empty cells."""
    if next(table.iterdescendants(*_STRUCTURE_IN_CELL), None) is not None:
        return False
    for cell in table.iter(*_CELL_TAGS):
        length = _visible_len(cell.text_content())
        breaks = sum(1 for _ in cell.iter("br", "p", "div"))
        if length > 300 or (breaks >= 3 and length > 100):
            return False  # a cell holding running text: the table lays out a page, its cells are blocks
    rows = [row for row in table.iter("tr") if row.getparent() is not None]
    multi = sum(
        1 for row in rows if sum(1 for c in row if c.tag in _CELL_TAGS and c.text_content().strip()) >= 2
    )
    return multi >= 2


class _Renderer:
    def __init__(self, skip: set[etree._Element]) -> None:
        self.skip = skip
        self.lines: list[Line] = []
        self.parts: list[str] = []
        self.link_chars = 0
        self.block: etree._Element | None = None

    def flush(self) -> None:
        text = normalize_spaces("".join(self.parts))
        if text and self.block is not None:
            self.lines.append(Line(text, min(self.link_chars, _visible_len(text)), self.block))
        self.parts, self.link_chars = [], 0

    def add(self, text: str, in_link: bool) -> None:
        if text:
            self.parts.append(text)
            if in_link:
                self.link_chars += _visible_len(text)

    def row_line(self, row: etree._Element, in_link: bool) -> None:
        cells, links = [], 0
        for cell in row:
            if cell.tag not in _CELL_TAGS or cell in self.skip:
                continue
            sub = _Renderer(self.skip)
            sub.block = cell
            sub.text(cell.text, in_link, pre=False)
            sub.walk(cell, in_link, pre=False)
            sub.flush()
            text = " ".join(line.text for line in sub.lines)
            if text:
                cells.append(text)
                links += sum(line.link_chars for line in sub.lines)
        if cells:
            self.lines.append(Line(CELL_SEPARATOR.join(cells), links, row))

    def walk(self, elem: etree._Element, in_link: bool, pre: bool) -> None:
        for child in elem:
            self.node(child, in_link, pre)

    def text(self, value: str | None, in_link: bool, pre: bool) -> None:
        """Add a text node; inside <pre> its line breaks end lines, elsewhere they are spaces."""
        if not value:
            return
        if not pre:
            self.add(_text(value), in_link)
            return
        first, *rest = value.split("\n")
        self.add(first, in_link)
        for piece in rest:
            self.flush()
            self.add(piece, in_link)

    def node(self, elem: etree._Element, in_link: bool, pre: bool) -> None:
        if not isinstance(elem.tag, str) or elem in self.skip:
            self.text(elem.tail, in_link, pre)
            return
        tag = elem.tag
        if tag == "br":
            self.flush()
        elif tag in BLOCK_TAGS:
            self.flush()
            outer = self.block
            self.block = elem
            if tag == "table" and is_data_table(elem):
                for row in elem.iter("tr"):
                    if row not in self.skip:
                        self.row_line(row, in_link)
            else:
                inner_pre = pre or tag == "pre"
                self.text(elem.text, in_link, inner_pre)
                self.walk(elem, in_link, inner_pre)
            self.flush()
            self.block = outer
        else:
            link = in_link or tag == "a"
            self.text(elem.text, link, pre)
            self.walk(elem, link, pre)
        self.text(elem.tail, in_link, pre)


def render_lines(root: etree._Element, skip: set[etree._Element] | None = None) -> list[Line]:
    """Lines of the text under root in reading order; elements in skip (and their contents) are left out."""
    renderer = _Renderer(skip or set())
    renderer.block = root
    renderer.text(root.text, root.tag == "a", root.tag == "pre")
    renderer.walk(root, root.tag == "a", root.tag == "pre")
    renderer.flush()
    return renderer.lines
