"""Splitting Telegram-HTML at the message limit without breaking a tag or an entity."""

from __future__ import annotations

import re

from telegram.constants import MessageLimit

TOKEN = re.compile(r"(<[^>]+>)|([^<]+)")
UNIT = re.compile(r"&[#a-zA-Z0-9]+;|.", re.S)  # an entity or one character
LIMIT = MessageLimit.MAX_TEXT_LENGTH


def tg_len(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts (conservatively over the raw HTML)."""
    return len(text.encode("utf-16-le")) // 2


def split_html(text: str, limit: int = LIMIT) -> list[str]:
    """Pieces of at most `limit` units; tags open at a cut are closed and reopened in the next piece."""
    chunks: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag)
    cur = ""

    def closing() -> str:
        return "".join(f"</{name}>" for name, _ in reversed(stack))

    def flush() -> None:
        nonlocal cur
        if re.sub(r"<[^>]+>", "", cur).strip():
            chunks.append(cur + closing())
        cur = "".join(tag for _, tag in stack)

    def add(piece: str, extra: str = "") -> None:
        nonlocal cur
        if tg_len(cur + piece + extra + closing()) > limit:
            flush()
        cur += piece

    for tag, chars in TOKEN.findall(text):
        if tag:
            name = tag.strip("</>").split()[0].lower()
            if tag.startswith("</"):
                cur += tag
                if stack and stack[-1][0] == name:
                    stack.pop()
            else:
                add(tag, f"</{name}>")
                stack.append((name, tag))
            continue
        for line in re.split(r"(?<=\n)", chars):
            if tg_len(line) + tg_len(closing()) * 2 < limit // 2:
                add(line)
            else:
                for unit in UNIT.findall(line):
                    add(unit)
    if re.sub(r"<[^>]+>", "", cur).strip():
        chunks.append(cur + closing())
    return [c.strip("\n") if c.strip() else c for c in chunks] or [text]
