"""Web pages: the main content of a saved HTML page, with its title."""

from __future__ import annotations

import re
from pathlib import Path

from bot.knowledge.cleaning import clean_text, guess_title, is_junk_line, normalize_spaces
from bot.knowledge.encoding import decode_text
from bot.knowledge.types import Extracted

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


def load_html(data: bytes, path: Path) -> Extracted:
    """A saved web page: the text of its body without page chrome."""
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
    return Extracted(cleaned, title or guess_title(cleaned, path.stem))
