"""Structure-aware Chinese chunking (placeholder: one chunk per paragraph; being replaced)."""

from __future__ import annotations

import hashlib

from bot.knowledge.types import Chunk, Document


def chunk_id(doc_id: str, ordinal: int, text: str) -> str:
    """Stable chunk id: same document, position and text give the same id."""
    digest = hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]
    return f"{doc_id}:{ordinal:05d}:{digest}"


def chunk_document(doc: Document) -> list[Chunk]:
    """Split a cleaned document into citable chunks with section paths."""
    chunks = []
    for para in (p.strip() for p in doc.text.split("\n")):
        if para:
            n = len(chunks)
            chunks.append(Chunk(chunk_id(doc.doc_id, n, para), doc.doc_id, doc.title, "", para, n))
    return chunks
