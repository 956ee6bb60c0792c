"""PDF files with a text layer."""

from __future__ import annotations

import io
from pathlib import Path

from bot.knowledge.cleaning import clean_text, guess_title, normalize_spaces
from bot.knowledge.types import Extracted, LoadError


def load_pdf(data: bytes, path: Path) -> Extracted:
    """A PDF with a text layer; raises LoadError when it is encrypted, damaged or has no text."""
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
    return Extracted(cleaned, meta_title if useful_meta else guess_title(cleaned, path.stem))
