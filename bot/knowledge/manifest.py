"""The ingest manifest: one SQLite file in the index directory recording every ingested source file."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge.types import Chunk

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    source TEXT PRIMARY KEY,          -- resolved absolute path
    doc_id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    content_hash TEXT NOT NULL,       -- sha256 of the file bytes
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    chunk_count INTEGER NOT NULL,
    embedding_model TEXT NOT NULL,    -- identity of the model whose vectors are stored
    pipeline TEXT NOT NULL,           -- cleaning/chunking version that produced the chunks
    text_hash TEXT NOT NULL DEFAULT '' -- sha256 of the normalised extracted text (finds duplicate documents)
);
CREATE TABLE IF NOT EXISTS chunks (
    chunk_id TEXT PRIMARY KEY,
    doc_id TEXT NOT NULL,
    ordinal INTEGER NOT NULL,
    data TEXT NOT NULL                -- the Chunk as JSON, so a model change re-embeds without re-chunking
);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks (doc_id, ordinal);
"""


@dataclass(frozen=True)
class FileEntry:
    """What the manifest knows about one ingested file."""

    source: str
    doc_id: str
    title: str
    content_hash: str
    size: int
    mtime_ns: int
    chunk_count: int
    embedding_model: str
    pipeline: str
    text_hash: str = ""


_COLUMNS = [f.name for f in dataclasses.fields(FileEntry)]


class Manifest:
    """Per-file records and stored chunks; changes become durable on commit()."""

    def __init__(self, path: Path, timeout: float = 5.0) -> None:
        """Open (or create) the manifest; `timeout` is how long a write waits for another writer, in seconds."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, timeout=timeout)
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(files)")}
        if "text_hash" not in columns:  # a manifest written before duplicate detection
            self._db.execute("ALTER TABLE files ADD COLUMN text_hash TEXT NOT NULL DEFAULT ''")
        self._db.commit()

    def _one(self, where: str, value: str) -> FileEntry | None:
        row = self._db.execute(
            f"SELECT {', '.join(_COLUMNS)} FROM files WHERE {where} = ?", (value,)
        ).fetchone()
        return FileEntry(*row) if row else None

    def by_source(self, source: str) -> FileEntry | None:
        """The entry of a source path."""
        return self._one("source", source)

    def by_doc_id(self, doc_id: str) -> FileEntry | None:
        """The entry of a document id."""
        return self._one("doc_id", doc_id)

    def by_text_hash(self, text_hash: str) -> FileEntry | None:
        """An entry whose extracted text has this fingerprint (see ingest.text_fingerprint), if any."""
        return self._one("text_hash", text_hash) if text_hash else None

    def entries(self) -> list[FileEntry]:
        """Every entry, by source path."""
        rows = self._db.execute(f"SELECT {', '.join(_COLUMNS)} FROM files ORDER BY source").fetchall()
        return [FileEntry(*row) for row in rows]

    def put(self, entry: FileEntry, chunks: list[Chunk]) -> None:
        """Record a file and replace its document's chunks."""
        self._db.execute("DELETE FROM files WHERE source = ? OR doc_id = ?", (entry.source, entry.doc_id))
        self._db.execute(
            f"INSERT INTO files ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",
            dataclasses.astuple(entry),
        )
        self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (entry.doc_id,))
        self._db.executemany(
            "INSERT OR REPLACE INTO chunks (chunk_id, doc_id, ordinal, data) VALUES (?, ?, ?, ?)",
            [
                (c.chunk_id, c.doc_id, c.ordinal, json.dumps(dataclasses.asdict(c), ensure_ascii=False))
                for c in chunks
            ],
        )

    def update(self, entry_source: str, /, **fields: object) -> None:
        """Change some fields of an entry (e.g. mtime after a touch, or the source after a move)."""
        assignments = ", ".join(f"{name} = ?" for name in fields)
        self._db.execute(f"UPDATE files SET {assignments} WHERE source = ?", (*fields.values(), entry_source))

    def remove(self, doc_ids: Iterable[str]) -> None:
        """Forget documents and their chunks."""
        for doc_id in doc_ids:
            self._db.execute("DELETE FROM files WHERE doc_id = ?", (doc_id,))
            self._db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))

    def chunks(self, doc_id: str) -> list[Chunk]:
        """The stored chunks of a document in order."""
        rows = self._db.execute(
            "SELECT data FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,)
        ).fetchall()
        return [Chunk(**json.loads(data)) for (data,) in rows]

    def mark_embedded(self, doc_id: str, content_hash: str, pipeline: str, model: str) -> bool:
        """Record that a document's vectors for `model` are complete — only if the document is still the version
        (content hash and pipeline) whose chunks were embedded; False when it changed meanwhile."""
        cursor = self._db.execute(
            "UPDATE files SET embedding_model = ? WHERE doc_id = ? AND content_hash = ? AND pipeline = ?",
            (model, doc_id, content_hash, pipeline),
        )
        return cursor.rowcount == 1

    def total_chunks(self) -> int:
        """Number of chunks of all documents."""
        return self._db.execute("SELECT COUNT(*) FROM chunks").fetchone()[0]

    def commit(self) -> None:
        """Make the changes durable."""
        self._db.commit()

    def close(self) -> None:
        """Close the database."""
        self._db.close()
