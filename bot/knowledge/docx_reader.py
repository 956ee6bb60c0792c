"""Word .docx files: paragraphs and tables in reading order, with a title."""

from __future__ import annotations

import io
from pathlib import Path

from bot.knowledge.cleaning import clean_text, guess_title, normalize_spaces
from bot.knowledge.types import Extracted, LoadError

_DOCX_HEADING_STYLES = ("heading", "title", "标题", "subtitle", "副标题")


def load_docx(data: bytes, path: Path) -> Extracted:
    """A .docx file; raises LoadError for a damaged file."""
    import docx
    from docx.table import Table

    try:
        document = docx.Document(io.BytesIO(data))
        blocks = list(document.iter_inner_content())
    except Exception as exc:  # python-docx raises zip, xml and key errors for damaged files
        raise LoadError("无法打开 Word 文件，文件可能已损坏或不是真正的 .docx") from exc
    lines: list[str] = []
    first_heading = None
    for block in blocks:
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    text = normalize_spaces(cell.text.replace("\n", " "))
                    if text and (not cells or cells[-1] != text):  # merged cells repeat their text
                        cells.append(text)
                if cells:
                    lines.append(" | ".join(cells))
            continue
        text = block.text.strip()
        style = (block.style.name if block.style is not None else "").lower()
        if text and first_heading is None and style.startswith(_DOCX_HEADING_STYLES):
            first_heading = normalize_spaces(text)
        lines.extend(text.split("\n"))
    cleaned = clean_text("\n".join(lines), join_lines=False)
    core_title = (document.core_properties.title or "").strip()
    return Extracted(cleaned, core_title or first_heading or guess_title(cleaned, path.stem))
