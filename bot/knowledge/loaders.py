"""Loaders: text, Markdown, web pages, Word (.docx; .doc/.wps through LibreOffice), PDF, OFD and images become Documents."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from pathlib import Path

from bot.knowledge.docx_reader import load_docx
from bot.knowledge.html_reader import load_html
from bot.knowledge.image_reader import IMAGE_EXTENSIONS, load_image
from bot.knowledge.ofd_reader import load_ofd
from bot.knowledge.office_convert import load_old_word
from bot.knowledge.pdf_reader import load_pdf
from bot.knowledge.text_reader import load_md, load_txt
from bot.knowledge.types import Document, Extracted, LoadError

log = logging.getLogger(__name__)

READERS_VERSION = "2"  # bump when a format reader extracts different text: ingest then re-reads every file

_OLD_FORMATS = {
    ".xls": "不支持表格文件，请将内容另存为 .docx 或 .txt 后再导入",
    ".xlsx": "不支持表格文件，请将内容另存为 .docx 或 .txt 后再导入",
}


LOADERS: dict[str, Callable[[bytes, Path], Extracted]] = {
    ".txt": load_txt,
    ".text": load_txt,
    ".md": load_md,
    ".markdown": load_md,
    ".html": load_html,
    ".htm": load_html,
    ".docx": load_docx,
    ".doc": load_old_word,  # converted by LibreOffice
    ".wps": load_old_word,
    ".pdf": load_pdf,
    ".ofd": load_ofd,
    **dict.fromkeys(IMAGE_EXTENSIONS, load_image),
}
SUPPORTED_EXTENSIONS = frozenset(LOADERS)


def check_file(path: Path, max_file_mb: float) -> int:
    """Reject unsupported, missing, empty or oversized files before reading them; returns the size."""
    suffix = path.suffix.lower()
    if suffix not in LOADERS:
        reason = (
            _OLD_FORMATS.get(suffix)
            or f"不支持的文件类型「{suffix or '无扩展名'}」（支持 {' '.join(LOADERS)}）"
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
    extracted = LOADERS[path.suffix.lower()](data, path)
    text, title = extracted.text, extracted.title
    if not text.strip():
        raise LoadError("文件中没有可用的文字内容")
    return Document(
        doc_id=doc_id or path.resolve().as_posix(),
        source=str(path),
        title=title,
        text=text,
        content_hash=hashlib.sha256(data).hexdigest(),
        meta={"format": path.suffix.lower().lstrip("."), "size": len(data), **extracted.meta},
    )
