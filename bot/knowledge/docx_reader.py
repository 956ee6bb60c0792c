"""Word .docx files read whole, as Word shows them: list labels, content controls, text boxes, nested tables.

The body of word/document.xml is walked in reading order (ECMA-376 Part 1, §17):
- paragraphs get the label Word generates from list numbering (bot.knowledge.docx_numbering);
- content controls (w:sdt, block and inline; not while they show their placeholder prompt), hyperlinks,
  w:smartTag, w:customXml, insertions (w:ins, w:moveTo) and the visible result of fields are read; deletions
  (w:del, w:moveFrom), field instructions, hidden text (w:vanish) and ruby annotations are not;
- text boxes (w:txbxContent) follow the paragraph they are anchored in; of an mc:AlternateContent only the first
  mc:Choice is read (its mc:Fallback repeats the same text box for old readers);
- a table row becomes one line "cell | cell"; a row holding a nested table gives its cells' lines one by one,
  each nested row its own line;
- a soft line break (w:br, w:cr) starts a new line; a tab reads as a space;
- a field's instruction ends with its paragraph at the latest (a damaged field never hides the text after it).
Headers, footers, footnotes, comments and embedded documents (w:altChunk) live in other parts and are not read.

python-docx opens the package; its paragraph.text misses content controls and text boxes, hence the walk.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from lxml import etree

from bot.knowledge.cleaning import clean_text, guess_title, normalize_spaces
from bot.knowledge.docx_numbering import Numbering, is_on, w, w_val
from bot.knowledge.types import Extracted, LoadError

_HEADING_STYLES = ("heading", "title", "标题", "subtitle", "副标题")
_MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
_MATH_T = "{http://schemas.openxmlformats.org/officeDocument/2006/math}t"
_ALTERNATE = f"{{{_MC_NS}}}AlternateContent"
_CHOICE = f"{{{_MC_NS}}}Choice"
_FALLBACK = f"{{{_MC_NS}}}Fallback"
# Elements whose content Word does not show in the final document (or that hold no body text).
_SKIP = {
    w(tag)
    for tag in (
        "del",
        "moveFrom",
        "delText",
        "instrText",
        "pPr",
        "rPr",
        "sdtPr",
        "sdtEndPr",
        "tblPr",
        "tblGrid",
        "trPr",
        "tcPr",
        "sectPr",
        "rt",  # ruby annotation above the base text
        "altChunk",
        "footnoteReference",
        "endnoteReference",
        "commentReference",
    )
}
# Core-properties titles that templates and converters leave behind.
_PLACEHOLDER_TITLE = re.compile(
    r"^(microsoft word\s*-.*|(microsoft\s*)?word\s*(document|文档)|文档\s*\d*|新建.*文档.*|document\s*\d*"
    r"|untitled.*|无标题.*|title|标题|doc\d*|\W*)$",
    re.IGNORECASE,
)


class _BodyReader:
    """Walks one document body in reading order; blocks() returns its text lines, first_heading is set on the way."""

    def __init__(self, numbering: Numbering, style_names: dict[str, str]) -> None:
        self.numbering = numbering
        self.style_names = style_names
        self.fields: list[bool] = []  # open fields, innermost last: True once past w:fldChar "separate"
        self.first_heading: str | None = None

    # block level -------------------------------------------------------------------------------------------
    def blocks(self, container: etree._Element) -> list[str]:
        """Lines of the block-level content of a body, table cell, text box or content control."""
        lines: list[str] = []
        for child in container:
            tag = child.tag
            if tag == w("p"):
                lines.extend(self.paragraph(child))
            elif tag == w("tbl"):
                lines.extend(self.table(child))
            elif tag == w("sdt"):
                if not _shows_placeholder(child):
                    lines.extend(self.blocks(_sdt_content(child)))
            elif tag == _ALTERNATE:
                lines.extend(self.blocks(_chosen(child)))
            elif tag in (w("customXml"), w("ins"), w("moveTo"), w("sdtContent")):
                lines.extend(self.blocks(child))
        return lines

    def paragraph(self, p: etree._Element) -> list[str]:
        ppr = p.find(w("pPr"))
        style_id = w_val(ppr, "pStyle")
        parts: list[str] = []
        boxes: list[str] = []
        self.inline(p, parts, boxes)
        # A field instruction does not run past its paragraph: a field still without its "separate" mark here is
        # damaged, and waiting for it would drop the rest of the document.
        self.fields = [past_separate for past_separate in self.fields if past_separate]
        text = "".join(parts)
        mark_deleted = ppr is not None and ppr.find(f"{w('rPr')}/{w('del')}") is not None
        if mark_deleted and not text.strip():
            return boxes  # a paragraph deleted with tracked changes: neither text nor list number
        numbered = self.numbering.paragraph_numbering(ppr, style_id)
        if numbered is not None:
            text = self.numbering.next_label(*numbered) + text
        lines = [line for line in (normalize_spaces(part) for part in text.split("\n")) if line]
        if lines and self.first_heading is None:
            name = self.style_names.get(style_id or "", "").lower()
            if name.startswith(_HEADING_STYLES):
                self.first_heading = lines[0]
        return lines + boxes

    def table(self, tbl: etree._Element) -> list[str]:
        lines: list[str] = []
        for row in _children(tbl, w("tr")):
            if row.find(f"{w('trPr')}/{w('del')}") is not None:
                continue  # a row deleted with tracked changes
            cells = list(_children(row, w("tc")))
            cell_lines = [self.blocks(cell) for cell in cells]
            if any(cell.find(f".//{w('tbl')}") is not None for cell in cells):
                lines.extend(line for group in cell_lines for line in group)
                continue
            texts = [normalize_spaces(" ".join(group)) for group in cell_lines]
            row_text = " | ".join(text for text in texts if text)
            if row_text:
                lines.append(row_text)
        return lines

    # inline level ------------------------------------------------------------------------------------------
    def inline(self, el: etree._Element, parts: list[str], boxes: list[str]) -> None:
        """Append the visible text of a paragraph's content to `parts`; text-box lines go to `boxes`."""
        for child in el:
            tag = child.tag
            if tag in _SKIP or not isinstance(tag, str):
                continue
            if tag == w("r"):
                self.run(child, parts, boxes)
            elif tag == w("sdt"):
                if not _shows_placeholder(child):
                    self.inline(_sdt_content(child), parts, boxes)
            elif tag == _ALTERNATE:
                self.inline(_chosen(child), parts, boxes)
            elif tag == _MATH_T:
                parts.append(child.text or "")
            else:  # hyperlink, smartTag, customXml, ins, moveTo, fldSimple, dir, bdo, math containers …
                self.inline(child, parts, boxes)

    def run(self, r: etree._Element, parts: list[str], boxes: list[str]) -> None:
        hidden = is_on(r.find(f"{w('rPr')}/{w('vanish')}"))
        for child in r:
            tag = child.tag
            if tag == w("fldChar"):
                kind = child.get(w("fldCharType"))
                if kind == "begin":
                    self.fields.append(False)
                elif kind == "separate" and self.fields:
                    self.fields[-1] = True
                elif kind == "end" and self.fields:
                    self.fields.pop()
                continue
            if hidden or not all(self.fields) or tag in _SKIP:
                continue
            if tag == w("t"):
                parts.append(child.text or "")
            elif tag in (w("tab"), w("ptab")):
                parts.append(" ")
            elif tag in (w("br"), w("cr")):
                parts.append("\n")
            elif tag == w("noBreakHyphen"):
                parts.append("-")
            elif tag == w("sym"):
                parts.append(_symbol(child))
            elif tag == w("ruby"):
                base = child.find(w("rubyBase"))
                if base is not None:
                    self.inline(base, parts, boxes)
            elif tag in (w("drawing"), w("pict"), w("object"), _ALTERNATE):
                self.text_boxes(child, boxes)

    def text_boxes(self, el: etree._Element, boxes: list[str]) -> None:
        """Lines of the text boxes inside a drawing, reading one branch of each mc:AlternateContent."""
        if el.tag == _ALTERNATE:
            el = _chosen(el)
        for child in el:
            if child.tag == _ALTERNATE:
                self.text_boxes(_chosen(child), boxes)
            elif child.tag == w("txbxContent"):
                boxes.extend(self.blocks(child))
            elif isinstance(child.tag, str):
                self.text_boxes(child, boxes)


def _children(el: etree._Element, tag: str):
    """Children with `tag`, looking through content controls and custom XML that wrap rows or cells."""
    for child in el:
        if child.tag == tag:
            yield child
        elif child.tag == w("sdt"):
            yield from _children(_sdt_content(child), tag)
        elif child.tag in (w("customXml"), w("ins"), w("moveTo")):
            yield from _children(child, tag)


def _sdt_content(sdt: etree._Element) -> etree._Element:
    content = sdt.find(w("sdtContent"))
    return content if content is not None else etree.Element(w("sdtContent"))


def _shows_placeholder(sdt: etree._Element) -> bool:
    """A content control still showing its prompt ("单击此处输入文字"): the prompt is not document text."""
    return is_on(sdt.find(f"{w('sdtPr')}/{w('showingPlcHdr')}"))


def _chosen(alternate: etree._Element) -> etree._Element:
    branch = alternate.find(_CHOICE)
    if branch is None:
        branch = alternate.find(_FALLBACK)
    return branch if branch is not None else etree.Element(_CHOICE)


def _symbol(sym: etree._Element) -> str:
    """A w:sym character; symbol-font glyphs in the private use area (U+F000…) are not text."""
    try:
        code = int(sym.get(w("char"), ""), 16)
    except ValueError:
        return ""
    return "" if 0xE000 <= code <= 0xF8FF else chr(code)


def _style_names(styles: etree._Element | None) -> dict[str, str]:
    if styles is None:
        return {}
    return {
        style.get(w("styleId")): w_val(style, "name") or ""
        for style in styles.iter(w("style"))
        if style.get(w("styleId"))
    }


def meaningful_title(title: str | None) -> str | None:
    """A core-properties title worth showing, or None for blanks and leftovers of templates and converters
    ("Microsoft Word - x.doc", "文档1", "Word Document" as LibreOffice writes it for a .doc without a title)."""
    title = normalize_spaces(title or "")
    if not title or len(title) > 100 or _PLACEHOLDER_TITLE.match(title):
        return None
    return title


def load_docx(data: bytes, path: Path) -> Extracted:
    """Read a .docx file whole: text lines as Word shows them ("\\n"-separated) and a title.

    The title is the core-properties title when meaningful, else the first paragraph in a Title/Heading style,
    else the first short line (cleaning.guess_title), else the file name. Raises LoadError for a damaged file.
    """
    import docx

    try:
        document = docx.Document(io.BytesIO(data))
        part = document.part
        body = document.element.body
        try:
            numbering_root = part.numbering_part.element
        except (NotImplementedError, KeyError):
            numbering_root = None
        styles_root = part.styles.element
        core_title = document.core_properties.title
    except Exception as exc:  # python-docx raises zip, xml and key errors for damaged files
        raise LoadError("无法打开 Word 文件，文件可能已损坏或不是真正的 .docx") from exc
    reader = _BodyReader(Numbering(numbering_root, styles_root), _style_names(styles_root))
    lines = reader.blocks(body)  # recursion stays shallow: the XML parser refuses nesting deeper than 256
    cleaned = clean_text("\n".join(lines), join_lines=False)
    title = meaningful_title(core_title) or reader.first_heading or guess_title(cleaned, path.stem)
    return Extracted(cleaned, title)
