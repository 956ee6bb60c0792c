"""Loaders: .txt, .md, .html/.htm, .docx and .pdf files become cleaned Documents."""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable
from pathlib import Path

from bot.knowledge.cleaning import clean_text, guess_title, is_junk_line, normalize_spaces
from bot.knowledge.encoding import decode_text
from bot.knowledge.types import Document, LoadError

log = logging.getLogger(__name__)

_OLD_FORMATS = {
    ".doc": "不支持旧版 Word（.doc）格式，请另存为 .docx 后再导入",
    ".wps": "不支持 WPS（.wps）格式，请另存为 .docx 后再导入",
    ".xls": "不支持表格文件，请将内容另存为 .docx 或 .txt 后再导入",
    ".xlsx": "不支持表格文件，请将内容另存为 .docx 或 .txt 后再导入",
}


def _load_txt(data: bytes, path: Path) -> tuple[str, str]:
    text, _ = decode_text(data)
    cleaned = clean_text(text)
    return cleaned, guess_title(cleaned, path.stem)


_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|`)")
_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$")


def _markdown_to_text(text: str) -> tuple[str, str | None]:
    """Plain text of markdown (headings kept as their own lines) and the first heading."""
    lines, title = [], None
    in_fence = False
    for raw in text.split("\n"):
        if raw.strip().startswith(("```", "~~~")):
            in_fence = not in_fence
            continue
        if in_fence or _MD_TABLE_RULE.match(raw) or raw.strip().startswith("<!--"):
            continue
        line = _MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", raw))
        heading = _MD_HEADING.match(line)
        if heading:
            line = heading.group(2)
            title = title or line
            lines.extend(["", line, ""])  # a blank line marks the heading as its own paragraph
            continue
        line = re.sub(r"^\s*>\s?", "", line)
        if line.strip().startswith("|"):
            line = " | ".join(cell.strip() for cell in line.strip().strip("|").split("|"))
        lines.append(line)
    return "\n".join(lines), title


def _load_md(data: bytes, path: Path) -> tuple[str, str]:
    text, _ = decode_text(data)
    plain, heading = _markdown_to_text(text)
    cleaned = clean_text(plain)
    return cleaned, heading or guess_title(cleaned, path.stem)


_BLOCK_TAGS = [
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "tr",
    "table",
    "section",
    "article",
    "header",
    "footer",
    "blockquote",
    "pre",
    "dd",
    "dt",
    "dl",
    "center",
    "title",
    "hr",
]
_DROP_TAGS = [
    "script",
    "style",
    "noscript",
    "iframe",
    "nav",
    "aside",
    "form",
    "select",
    "button",
    "svg",
    "template",
]
_DECLARED_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s*(?:[-_|–—]|::)\s*")


def _decode_html(data: bytes) -> str:
    declared = _DECLARED_CHARSET.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii").lower()
        name = "gb18030" if name in ("gb2312", "gbk", "gb18030", "x-gbk") else name
        try:
            return data.decode(name)
        except (LookupError, UnicodeDecodeError):
            pass
    return decode_text(data)[0]


def _html_title(soup) -> str | None:
    for tag in soup.find_all(["h1", "h2"], limit=3):
        text = normalize_spaces(tag.get_text(" "))
        if 2 <= len(text) <= 80 and not is_junk_line(text):
            return text
    if soup.title and soup.title.string:
        parts = [p for p in _TITLE_SEPARATORS.split(normalize_spaces(soup.title.string)) if p]
        if parts:
            return max(parts, key=len)  # "正文标题 - 某某网" → the longest part is the document's own title
    return None


def _load_html(data: bytes, path: Path) -> tuple[str, str]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode_html(data), "lxml")
    title = _html_title(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    if soup.title:
        soup.title.decompose()
    for tag in soup.find_all(["td", "th"]):
        tag.append(" ")
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.append("\n")
    body = soup.body or soup
    cleaned = clean_text(body.get_text(), join_lines=False)
    return cleaned, title or guess_title(cleaned, path.stem)


_DOCX_HEADING_STYLES = ("heading", "title", "标题", "subtitle", "副标题")


def _load_docx(data: bytes, path: Path) -> tuple[str, str]:
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
    return cleaned, core_title or first_heading or guess_title(cleaned, path.stem)


def _load_pdf(data: bytes, path: Path) -> tuple[str, str]:
    from pypdf import PdfReader

    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise LoadError("PDF 文件已加密，无法读取，请提供未加密的版本")
        pages = [page.extract_text() or "" for page in reader.pages]
        meta_title = (reader.metadata.title if reader.metadata else None) or ""
    except LoadError:
        raise
    except Exception as exc:  # pypdf raises many kinds of errors for damaged files
        raise LoadError("无法读取 PDF 文件，文件可能已损坏") from exc
    cleaned = clean_text("\n".join(pages))
    if sum(ch.isalnum() for ch in cleaned) < 10:
        raise LoadError("PDF 中没有可提取的文字（可能是扫描件，需要先进行文字识别）")
    meta_title = normalize_spaces(str(meta_title))
    useful_meta = meta_title and not meta_title.lower().startswith(("untitled", "microsoft word", "document"))
    return cleaned, meta_title if useful_meta else guess_title(cleaned, path.stem)


LOADERS: dict[str, Callable[[bytes, Path], tuple[str, str]]] = {
    ".txt": _load_txt,
    ".text": _load_txt,
    ".md": _load_md,
    ".markdown": _load_md,
    ".html": _load_html,
    ".htm": _load_html,
    ".docx": _load_docx,
    ".pdf": _load_pdf,
}
SUPPORTED_EXTENSIONS = frozenset(LOADERS)


def check_file(path: Path, max_file_mb: float) -> int:
    """Reject unsupported, missing, empty or oversized files before reading them; returns the size."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        reason = (
            _OLD_FORMATS.get(suffix)
            or f"不支持的文件类型「{suffix or '无扩展名'}」（支持 .txt .md .html .htm .docx .pdf）"
        )
        raise LoadError(reason)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise LoadError(f"无法读取文件：{exc.strerror or exc}") from exc
    if size == 0:
        raise LoadError("文件是空的")
    if size > max_file_mb * 1024 * 1024:
        raise LoadError(f"文件过大（{size / 1024 / 1024:.1f} MB，上限 {max_file_mb:g} MB）")
    return size


def load_document(path: Path, *, doc_id: str | None = None, max_file_mb: float = 20.0) -> Document:
    """Load and clean one file; raises LoadError with a Chinese reason when it cannot be used."""
    path = Path(path)
    check_file(path, max_file_mb)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"无法读取文件：{exc.strerror or exc}") from exc
    text, title = LOADERS[path.suffix.lower()](data, path)
    if not text.strip():
        raise LoadError("文件中没有可用的文字内容")
    return Document(
        doc_id=doc_id or path.resolve().as_posix(),
        source=str(path),
        title=title,
        text=text,
        content_hash=hashlib.sha256(data).hexdigest(),
        meta={"format": path.suffix.lower().lstrip("."), "size": len(data)},
    )
