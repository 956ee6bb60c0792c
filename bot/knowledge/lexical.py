"""Lexical index over jieba tokens (placeholder interface; being replaced by the real BM25 index)."""

from __future__ import annotations

import json
from pathlib import Path

from bot.knowledge.types import Chunk


class LexicalIndex:
    """Chunk store plus lexical search; persists in <index_dir>/lexical/."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.chunks: dict[str, Chunk] = {}

    @classmethod
    def open(cls, directory: Path) -> LexicalIndex:
        """Load the index from directory (empty when absent)."""
        index = cls(directory)
        path = index.directory / "chunks.json"
        if path.exists():
            for row in json.loads(path.read_text(encoding="utf-8")):
                chunk = Chunk(**row)
                index.chunks[chunk.chunk_id] = chunk
        return index

    def add(self, chunks: list[Chunk]) -> None:
        """Add chunks (replacing any with the same id)."""
        for chunk in chunks:
            self.chunks[chunk.chunk_id] = chunk

    def remove_docs(self, doc_ids: set[str]) -> None:
        """Remove every chunk of these documents."""
        self.chunks = {k: c for k, c in self.chunks.items() if c.doc_id not in doc_ids}

    def save(self) -> None:
        """Persist to disk."""
        self.directory.mkdir(parents=True, exist_ok=True)
        rows = [c.__dict__ for c in self.chunks.values()]
        (self.directory / "chunks.json").write_text(json.dumps(rows, ensure_ascii=False), encoding="utf-8")

    def get(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id."""
        return self.chunks.get(chunk_id)

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Ranked (chunk_id, score) pairs."""
        hits = [(cid, float(sum(ch in c.text for ch in set(query)))) for cid, c in self.chunks.items()]
        return sorted(hits, key=lambda h: -h[1])[:k]

    def __len__(self) -> int:
        return len(self.chunks)
