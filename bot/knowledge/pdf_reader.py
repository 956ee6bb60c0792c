"""PDF files: the text layer read with its page geometry (pdfplumber), scanned pages read by OCR.

Every page becomes lines with their boxes; page_layout removes running headers, footers and page numbers by their
place and joins the lines into paragraphs across page breaks. A page with (almost) no text layer but with an image
on it is rendered at OCR_DPI (pypdfium2) and read by Tesseract; its number goes to meta["ocr_pages"].
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from bot.knowledge.cleaning import is_heading_start, normalize_spaces
from bot.knowledge.ocr import PAGE_TIMEOUT_S, OcrReader
from bot.knowledge.page_layout import (
    PageText,
    TextLine,
    is_page_number,
    paragraphs,
    small_print_at_top,
    strip_furniture,
)
from bot.knowledge.types import Extracted, LoadError

# A page with fewer visible characters than this in its text layer is treated as a scan.
MIN_PAGE_CHARS = 10
# Scans are rendered at 300 dpi for Tesseract, the resolution its documentation recommends.
OCR_DPI = 300
# A gap wider than this share of the font size, without a space character, reads as a space. pdfplumber's
# default (3 pt) put a space between every two characters of a justified Chinese line (spacing 4 pt at 12 pt).
_SPACE_GAP = 0.5
# A page mostly covered by an image and with fewer characters than this is a scan with a stamp or a date on it.
_STAMP_CHARS = 60
# A page drawn with at least this many curves and no text may be text turned into outlines: it is read by OCR too.
_OUTLINED_TEXT_CURVES = 50
_TITLE_MAX = 60
_NOT_TITLE_END = set("。；，、：:;,.")
_MEANINGLESS_TITLE = re.compile(
    r"^(untitled|无标题|microsoft (word|powerpoint|excel)|wps |document\d*$|文档\d*$|new document)"
    r"|\.(docx?|wps|pdf|txt|rtf|xlsx?|pptx?|html?)$",
    re.IGNORECASE,
)


def _open(data: bytes):
    import pdfplumber
    from pdfminer.pdfdocument import PDFPasswordIncorrect
    from pdfplumber.utils.exceptions import PdfminerException

    try:
        return pdfplumber.open(io.BytesIO(data))
    except PdfminerException as exc:
        if any(isinstance(arg, PDFPasswordIncorrect) for arg in exc.args):
            raise LoadError("PDF 文件已加密，无法读取，请提供未加密的版本") from exc
        raise LoadError("无法读取 PDF 文件，文件可能已损坏") from exc
    except Exception as exc:  # pdfminer raises many kinds of errors for damaged files
        raise LoadError("无法读取 PDF 文件，文件可能已损坏") from exc


def _horizontal(char: dict) -> bool:
    """A character on a horizontal baseline (its text matrix not rotated; slanted italics are horizontal)."""
    a, b = char["matrix"][:2]
    return a > 0 and abs(b) <= 0.05 * a


def _text_lines(page) -> list[TextLine]:
    """The lines of a page's text layer. When most of the text is horizontal, slanted or rotated characters
    (diagonal watermarks, stamps) are left out: they would be spliced into the lines they cross."""
    chars = [c for c in page.chars if c["text"].strip()]
    if chars and sum(map(_horizontal, chars)) >= 0.7 * len(chars):
        page = page.filter(lambda obj: obj.get("object_type") != "char" or _horizontal(obj))
    lines = []
    rows = page.dedupe_chars().extract_text_lines(return_chars=True, strip=True, x_tolerance_ratio=_SPACE_GAP)
    for row in rows:
        text = normalize_spaces(row["text"])
        if not text:
            continue
        sizes = sorted(c["size"] for c in row["chars"] if c["text"].strip()) or [row["bottom"] - row["top"]]
        lines.append(TextLine(text, row["x0"], row["x1"], row["top"], row["bottom"], sizes[len(sizes) // 2]))
    return lines


def _image_cover(page) -> float:
    """The share of the page covered by its largest image (0-1)."""
    area = float(page.width * page.height) or 1.0
    return max(
        (
            max(0.0, min(img["x1"], page.width) - max(img["x0"], 0))
            * max(0.0, min(img["bottom"], page.height) - max(img["top"], 0))
            / area
            for img in page.images
        ),
        default=0.0,
    )


def _is_scan(page) -> bool:
    """A page to read by OCR: little or no horizontal text (a diagonal watermark does not count) over an image or
    a drawing, or a page-sized image with a few words on it (a scanner's stamp, a date)."""
    visible = sum(1 for c in page.chars if c["text"].strip() and _horizontal(c))
    if visible < MIN_PAGE_CHARS:
        return bool(page.images) or len(page.curves) >= _OUTLINED_TEXT_CURVES
    return visible < _STAMP_CHARS and _image_cover(page) >= 0.5


def _ocr_page(data: bytes, index: int, reader: OcrReader) -> PageText:
    """Render page `index` (0-based) at OCR_DPI and read it with Tesseract; boxes in pixels."""
    import pypdfium2

    document = pypdfium2.PdfDocument(data)
    try:
        image = document[index].render(scale=OCR_DPI / 72, grayscale=True).to_pil()
    finally:
        document.close()
    lines = tuple(reader.read(image, page=index + 1))
    return PageText(index + 1, image.width, image.height, lines, ocr=True)


def first_line_title(
    paragraphs: list[str], fallback: str, skip: set[str] | frozenset[str] = frozenset()
) -> str:
    """The document's first paragraph not in `skip` (small print above the title) when it reads as a title
    (2-60 characters, not a sentence, heading or page number), else `fallback`. The title is then an exact line
    of the text."""
    first = next((p.strip() for p in paragraphs if p not in skip), "")
    if (
        2 <= len(first) <= _TITLE_MAX
        and first[-1] not in _NOT_TITLE_END
        and not is_heading_start(first)
        and not is_page_number(first)
    ):
        return first
    return fallback


def _meaningful_title(title: str, stem: str) -> str:
    """The PDF's metadata title, or "" when it says nothing: empty, "Untitled", "Microsoft Word - …", a file name."""
    title = normalize_spaces(title)
    if len(title) < 2 or title == stem or _MEANINGLESS_TITLE.search(title):
        return ""
    return title if any(ch.isalpha() for ch in title) else ""


def load_pdf(data: bytes, path: Path, *, ocr_timeout: float = PAGE_TIMEOUT_S) -> Extracted:
    """Read a PDF whole: text layer with headers, footers and page numbers removed, scanned pages by OCR.

    Returns the paragraphs (one per line of Extracted.text), the title (the first body line when it looks like a
    title, else a meaningful metadata title, else the file name) and meta {"ocr_pages": [1-based numbers]} when
    some pages were read by OCR. `ocr_timeout` is in seconds per page. Raises LoadError (Chinese reason) for
    encrypted, damaged or empty files, and for scans when Tesseract is missing or too slow.
    """
    pdf = _open(data)
    pages: list[PageText] = []
    ocr_pages: list[int] = []
    reader: OcrReader | None = None  # made at the first scanned page (it checks that Tesseract is there)
    try:
        if not pdf.pages:
            raise LoadError("PDF 文件没有页面")
        meta_title = str(pdf.metadata.get("Title") or "")
        for index, page in enumerate(pdf.pages):
            try:
                if _is_scan(page):
                    reader = reader or OcrReader(what="扫描件", timeout=ocr_timeout)
                    scanned = _ocr_page(data, index, reader)
                    if scanned.lines:
                        ocr_pages.append(scanned.number)
                    pages.append(scanned)
                else:
                    pages.append(PageText(index + 1, page.width, page.height, tuple(_text_lines(page))))
            finally:
                page.close()
    except LoadError:
        raise
    except Exception as exc:  # a damaged page: pdfminer and pypdfium2 raise many kinds of errors
        raise LoadError("无法读取 PDF 文件，文件可能已损坏") from exc
    finally:
        pdf.close()
    pages = strip_furniture(pages)
    body = paragraphs(pages)
    text = "\n".join(body)
    if sum(ch.isalnum() for ch in text) < 10:
        raise LoadError("PDF 中没有可提取的文字（可能是扫描件，但页面上没有可识别的图像）")
    title = first_line_title(
        body, _meaningful_title(meta_title, path.stem) or path.stem, small_print_at_top(pages)
    )
    return Extracted(text, title, {"ocr_pages": ocr_pages} if ocr_pages else {})
