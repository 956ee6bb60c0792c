"""Regulations for staff: the exact text of matching articles and the whole section around one of them."""

from __future__ import annotations

import hashlib

from bot.answering.types import Passage
from bot.knowledge.types import Chunk

MAX_SECTION_CHUNKS = 60


def find(knowledge, query: str, k: int = 5) -> list[Passage]:
    """The best passages for a keyword or question, each with its document's own words."""
    query = query.strip()[:200]
    return knowledge.search(query, k) if query else []


def key_of(chunk_id: str) -> str:
    """A short key for a chunk id that fits in Telegram's 64-byte callback data."""
    return hashlib.sha1(chunk_id.encode()).hexdigest()[:16]


def chunk_by_key(knowledge, key: str) -> Chunk | None:
    """The chunk whose key_of() is key."""
    return next((c for cid, c in knowledge.lexical.chunks.items() if key_of(cid) == key), None)


def section(knowledge, chunk_id: str) -> list[Chunk]:
    """The chunks of the chunk's top-level section (e.g. its 第X章) in document order, else its neighbours."""
    chunk = knowledge.chunk(chunk_id)
    if chunk is None:
        return []
    head = chunk.section.split(" > ")[0] if chunk.section else ""
    if not head:
        return knowledge.neighbours(chunk_id, 2, 2)
    same = sorted(
        (
            c
            for c in knowledge.lexical.chunks.values()
            if c.doc_id == chunk.doc_id and c.section.split(" > ")[0] == head
        ),
        key=lambda c: c.ordinal,
    )
    return same[:MAX_SECTION_CHUNKS]
