"""Page geometry of extracted lines (PDF text layers and OCR alike).

Running headers, footers and page numbers are recognised by their place on the page, never by their words alone:
a line in the top or bottom band of the page that recurs at the same height on another page (digits may differ),
or a line in that band that is only a page number. Lines are then joined into paragraphs by where they end and
start: a line that reaches the right edge of the text block continues, an indented line starts a paragraph, and
a sentence cut by a page break goes on at the top of the next page.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, replace
from difflib import SequenceMatcher

from bot.knowledge.cleaning import is_heading_start, normalize_spaces
from bot.textnorm import without_whitespace

# Share of the page height at the top and at the bottom where headers, footers and page numbers sit. Word's
# default header/footer distance is 1.25 cm and GB/T 9704-2012 puts page numbers 7 mm below a 35 mm margin,
# both well inside 12 % of an A4 page (297 mm).
BAND = 0.12
# Two lines are "at the same place" on two pages when their heights differ by at most 2 % of the page height
# (about 6 mm on A4: room for the drift of a scanned sheet).
SAME_PLACE = 0.02
# OCR'd headers are compared with those of the pages up to 2 pages away (odd and even pages may differ), and
# count as the same when their texts are at least 80 % alike (difflib ratio): OCR errors differ between pages.
OCR_WINDOW = 2
OCR_SIMILAR = 0.8

_DASH = r"\-—–―‐－~～·•．.一"
_PAGE_NUMBER = re.compile(
    rf"^(?:[{_DASH}\s]*\d+[{_DASH}\s]*"
    r"|第\s*\d+\s*页(?:\s*[,，/]?\s*共\s*\d+\s*页)?"
    r"|共\s*\d+\s*页\s*[,，/]?\s*第\s*\d+\s*页"
    r"|\d+\s*/\s*\d+"
    r"|page\s*\d+(?:\s*(?:of|/)\s*\d+)?"
    r"|[ivxlc]{1,6})$",
    re.IGNORECASE,
)
_ARTICLE = re.compile(r"^第[一二三四五六七八九十百千零〇两\d]+条")
# A paragraph that ends with one of these is complete.
_FINAL = set("。！？；：…!?;:”’」』）)】》〕")
# A line that starts with one of these goes on from the line before (punctuation pushed over a line break).
_CONTINUING_START = set("，。、；：！？）》」』”’〉】〕,.;:!?)")
_SENTENCE_MARK = re.compile(r"[。！？；，、,;!?]")
_TITLE_LIKE_MAX = 40


@dataclass(frozen=True)
class TextLine:
    """One line of a page: its text and box in the page's own units (PDF points or image pixels).

    top/bottom are measured from the top of the page; size is the font size (text layer) or glyph height (OCR).
    """

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float


@dataclass(frozen=True)
class PageText:
    """The lines of one page in reading order; number is 1-based; width and height in the lines' units."""

    number: int
    width: float
    height: float
    lines: tuple[TextLine, ...]
    ocr: bool = False  # read by OCR: its furniture is matched loosely (see strip_furniture)


def is_page_number(text: str) -> bool:
    """True for a line that is only a page number: 「— 1 —」, 「- 3 -」, 「第 2 页 共 5 页」, 「3/5」, 「Page 4」, 「iv」."""
    return bool(_PAGE_NUMBER.match(text.strip()))


def _band(line: TextLine, page: PageText) -> str | None:
    centre = (line.top + line.bottom) / 2
    if centre <= page.height * BAND:
        return "top"
    if centre >= page.height * (1 - BAND):
        return "bottom"
    return None


def _repeat_key(text: str) -> str:
    """Text compared across pages: without spaces, with digits as '#' (page numbers, dates of issue change);
    a heading (第2章 …) keeps its digits, so that chapters opening two pages are never taken for a header."""
    compact = without_whitespace(text)
    return compact if is_heading_start(compact) else re.sub(r"\d+", "#", compact)


def _is_rule(text: str) -> bool:
    """A line without letters or digits: a rule, a row of dashes (「———」), or a page number OCR could not read
    (「=一一」; 一 reads as a dash there)."""
    return not any(ch.isalnum() and ch != "一" for ch in text)


def _ocr_alike(a: TextLine, page_a: PageText, b: TextLine, page_b: PageText) -> bool:
    """Two OCR'd band lines at the same place that are the same furniture: similar text (OCR errors differ from
    page to page), or both short and centred on the page (a page number read differently each time)."""
    ka, kb = _repeat_key(a.text), _repeat_key(b.text)
    if SequenceMatcher(None, ka, kb).ratio() >= OCR_SIMILAR:
        return True

    def short_centred(line: TextLine, page: PageText) -> bool:
        centre = (line.x0 + line.x1) / 2
        return len(_repeat_key(line.text)) <= 8 and abs(centre - page.width / 2) <= 0.05 * page.width

    return short_centred(a, page_a) and short_centred(b, page_b) and not is_heading_start(a.text)


def strip_furniture(pages: list[PageText]) -> list[PageText]:
    """Drop running headers, footers and page numbers by their place on the page (see the module docstring).

    A line is furniture when it lies in the top or bottom BAND of its page and either is page-number-shaped or
    has no letters or digits, or recurs (same text, digits aside) at the same height (within SAME_PLACE) on at
    least one other page. Between OCR'd pages up to OCR_WINDOW apart, recurring means similar text, or a short
    line centred on both pages (see _ocr_alike). Lines outside the bands are never dropped, whatever their text.
    """
    places: dict[tuple[str, str], list[tuple[int, float]]] = defaultdict(list)
    for page in pages:
        for line in page.lines:
            band = _band(line, page)
            if band:
                places[(band, _repeat_key(line.text))].append((page.number, line.top / page.height))

    def ocr_repeated(line: TextLine, page: PageText, band: str, index: int) -> bool:
        here = line.top / page.height
        for other in pages[max(0, index - OCR_WINDOW) : index + OCR_WINDOW + 1]:
            if other is page or not other.ocr:
                continue
            for candidate in other.lines:
                if (
                    _band(candidate, other) == band
                    and abs(candidate.top / other.height - here) <= SAME_PLACE
                    and _ocr_alike(line, page, candidate, other)
                ):
                    return True
        return False

    def furniture(line: TextLine, page: PageText, index: int) -> bool:
        band = _band(line, page)
        if band is None:
            return False
        if is_page_number(line.text) or _is_rule(line.text):
            return True
        here = line.top / page.height
        if any(
            number != page.number and abs(there - here) <= SAME_PLACE
            for number, there in places[(band, _repeat_key(line.text))]
        ):
            return True
        return page.ocr and ocr_repeated(line, page, band, index)

    return [
        replace(page, lines=tuple(line for line in page.lines if not furniture(line, page, index)))
        for index, page in enumerate(pages)
    ]


@dataclass(frozen=True)
class _Block:
    """The left and right edges of a page's text block."""

    left: float
    right: float


def _edge(values: list[float], sizes: list[float], *, largest: bool) -> float:
    """The outermost edge reached by at least two lines (within half a character), else the outermost value."""
    order = sorted(zip(values, sizes, strict=True), reverse=largest)
    for value, size in order:
        if sum(abs(other - value) <= size / 2 for other, _ in order) >= 2:
            return value
    return order[0][0]


def _block(page: PageText) -> _Block | None:
    if not page.lines:
        return None
    sizes = [line.size for line in page.lines]
    return _Block(
        left=_edge([line.x0 for line in page.lines], sizes, largest=False),
        right=_edge([line.x1 for line in page.lines], sizes, largest=True),
    )


def _indent(line: TextLine, block: _Block) -> float:
    """Indentation in characters."""
    return (line.x0 - block.left) / line.size


def _reaches_right(line: TextLine, block: _Block) -> bool:
    return block.right - line.x1 <= 1.5 * line.size


def _centred(line: TextLine, block: _Block) -> bool:
    left_gap, right_gap = line.x0 - block.left, block.right - line.x1
    return left_gap >= 2 * line.size and abs(left_gap - right_gap) <= 2 * line.size


def _ends_complete(text: str) -> bool:
    return text[-1] in _FINAL


def _title_like(text: str) -> bool:
    return len(text) <= _TITLE_LIKE_MAX and not _SENTENCE_MARK.search(text) and not _ARTICLE.match(text)


@dataclass(frozen=True)
class _Placed:
    line: TextLine
    block: _Block


def _uses_indent(placed: list[_Placed]) -> bool:
    """True when paragraphs start with a first-line indent (1 to 4 characters), as Chinese documents mostly do."""
    indented = sum(0.8 <= _indent(p.line, p.block) <= 4.5 and not _centred(p.line, p.block) for p in placed)
    return indented >= max(2, 0.05 * len(placed))


def _continues(prev: _Placed, cur: _Placed, uses_indent: bool) -> bool:
    """Whether cur goes on from prev (same paragraph); prev may be the last line of the page before."""
    a, b = prev.line, cur.line
    if is_heading_start(b.text):
        return False
    if abs(a.size - b.size) > 0.2 * max(a.size, b.size):
        return False  # a title over a subtitle, a note in small print
    if b.text[0] in _CONTINUING_START:
        return True
    complete = _ends_complete(a.text)
    reaches = _reaches_right(a, prev.block)
    if reaches and not complete:
        return True  # wrapped at the right edge (also into a centred second line of a long title)
    if _indent(b, cur.block) >= 0.8:
        block_width = prev.block.right - prev.block.left
        return (
            not complete
            and _centred(a, prev.block)
            and _centred(b, cur.block)
            and a.x1 - a.x0 >= 0.6 * block_width
        )  # the two lines of a long centred title
    if complete:
        return reaches and uses_indent  # a sentence ended at the edge; the paragraph goes on unindented
    if _centred(a, prev.block):
        return False
    return not _title_like(a.text)  # cut short without a full stop, e.g. at the foot of a page


def paragraphs(pages: list[PageText]) -> list[str]:
    """Join the lines of the pages (furniture already stripped) into paragraphs, in reading order.

    Headings (第X章, 第X条, 一、, （一） …) always start a paragraph. Returns the paragraphs' texts with spaces
    normalised; a space is put between two joined lines only where both sides are Latin letters or digits.
    """
    placed: list[_Placed] = []
    for page in pages:
        block = _block(page)
        if block is not None:
            placed.extend(_Placed(line, block) for line in page.lines if line.text)
    uses_indent = _uses_indent(placed)
    out: list[str] = []
    prev: _Placed | None = None
    for cur in placed:
        if prev is not None and out and _continues(prev, cur, uses_indent):
            text = out[-1]
            first = cur.line.text[0]
            sep = (
                " "
                if text[-1].isascii() and text[-1].isalnum() and first.isascii() and first.isalnum()
                else ""
            )
            out[-1] = text + sep + cur.line.text
        else:
            out.append(cur.line.text)
        prev = cur
    return [normalize_spaces(text) for text in out if text.strip()]


def small_print_at_top(pages: list[PageText]) -> set[str]:
    """Texts of the lines in the top band of the first page with text that are set smaller (below 85 %) than the
    document's median line: a header that one page cannot show to be running; not to be taken for the title."""
    sizes = sorted(line.size for page in pages for line in page.lines)
    first = next((page for page in pages if page.lines), None)
    if first is None:
        return set()
    median = sizes[len(sizes) // 2]
    return {line.text for line in first.lines if _band(line, first) == "top" and line.size < 0.85 * median}
