"""A document's structure (章/节/条 tree) rebuilt from its stored chunks' section paths, with link anchors.

Every label and every text in the outline is the document's own (section path labels and chunk texts as stored), so
the page that shows it quotes the document exactly. Anchors (`section_anchor`): an article is `art-<number>` (第十二条
→ `art-12`, the numeral read by cn2an as everywhere else); any other heading is `s-` + the first 10 hex digits of the
SHA-1 of its whole section path (「第二章 请假程序 > 第一节 一般规定」); a second article with the same number in one
document (an appendix's) gets the hash form. Links: /staff/docs/<number>#art-12.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from bot.knowledge.articles import article_number
from bot.knowledge.types import Chunk

SEPARATOR = " > "


def section_anchor(section: str) -> str:
    """The anchor of a section path on its document's page: `art-12` for an article, else `s-<sha1[:10]>`;
    '' for the text before any heading."""
    if not section:
        return ""
    number = article_number(section)
    if number is not None:
        return f"art-{number}"
    return _hashed(section)


def _hashed(section: str) -> str:
    return "s-" + hashlib.sha1(section.encode("utf-8")).hexdigest()[:10]


@dataclass
class OutlineNode:
    """A heading of the document: its own label, its anchor, depth (1 = top), its chunks and sub-headings."""

    label: str
    path: str  # the whole section path up to this heading
    anchor: str
    level: int
    article: int | None = None  # the article number when the heading is 第X条
    chunks: list[Chunk] = field(default_factory=list)
    children: list[OutlineNode] = field(default_factory=list)


@dataclass
class Outline:
    """The document's text before its first heading (its note, 题注) and its tree of headings."""

    preamble: list[Chunk]
    nodes: list[OutlineNode]

    def walk(self):
        """Every node, depth first in document order."""
        stack = list(reversed(self.nodes))
        while stack:
            node = stack.pop()
            yield node
            stack.extend(reversed(node.children))

    @property
    def articles(self) -> list[OutlineNode]:
        """The article nodes (第X条) in order."""
        return [n for n in self.walk() if n.article is not None]


def outline(chunks: list[Chunk]) -> Outline:
    """The outline of one document's chunks (given in document order)."""
    result = Outline([], [])
    stack: list[OutlineNode] = []
    used: set[str] = set()
    for chunk in sorted(chunks, key=lambda c: c.ordinal):
        labels = chunk.section.split(SEPARATOR) if chunk.section else []
        if not labels:
            stack = []
            result.preamble.append(chunk)
            continue
        keep = 0
        while keep < min(len(stack), len(labels)) and stack[keep].label == labels[keep]:
            keep += 1
        if keep == len(labels) == len(stack) and chunk.section != stack[-1].path:
            keep -= 1  # never happens with consistent paths; kept for safety
        del stack[keep:]
        for depth in range(keep, len(labels)):
            path = SEPARATOR.join(labels[: depth + 1])
            anchor = section_anchor(path)
            if anchor in used:
                anchor = _hashed(path)
                suffix = 2
                while anchor in used:
                    anchor, suffix = f"{_hashed(path)}-{suffix}", suffix + 1
            used.add(anchor)
            node = OutlineNode(labels[depth], path, anchor, depth + 1, article_number(path))
            (stack[-1].children if stack else result.nodes).append(node)
            stack.append(node)
        stack[-1].chunks.append(chunk)
    return result
