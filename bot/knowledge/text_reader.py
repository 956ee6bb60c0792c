"""Plain-text and Markdown files: decoded, cleaned, with a title."""

from __future__ import annotations

import re
from pathlib import Path

from bot.knowledge.cleaning import clean_text, guess_title
from bot.knowledge.encoding import decode_text
from bot.knowledge.types import Extracted


def load_txt(data: bytes, path: Path) -> Extracted:
    """A .txt file in any detected encoding."""
    text, _ = decode_text(data)
    cleaned = clean_text(text)
    return Extracted(cleaned, guess_title(cleaned, path.stem))


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


def load_md(data: bytes, path: Path) -> Extracted:
    """A Markdown file as plain text; its first heading is the title."""
    text, _ = decode_text(data)
    plain, heading = _markdown_to_text(text)
    cleaned = clean_text(plain)
    return Extracted(cleaned, heading or guess_title(cleaned, path.stem))
