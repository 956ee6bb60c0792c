"""Lexical index: BM25 over jieba words and Han bigrams, with the chunk store; persists as plain files.

Versioned (several replicas, issue 12): every save writes a complete new version directory
`<directory>/v<nanoseconds>/` and then flips the small pointer file `<directory>/CURRENT` with os.replace (atomic on
POSIX file systems, local or NFS), so a reader opens either the old or the new version whole, never a half-written
one. `current_version(directory)` is the cheap check (one small file read) with which a running replica notices a
new version (bot/knowledge/base.py `KnowledgeBase.reload_if_changed`). The newest KEEP_VERSIONS versions are kept,
so a replica still loading the previous one finds it. An index saved before versioning (files directly in the
directory) is read as it is and becomes versioned at its next save.

Each chunk's terms are kept as an array of term ids (not strings), so a 100k-chunk index stays small and a rebuild after
an update never re-analyses unchanged chunks.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Iterable
from dataclasses import asdict, replace
from pathlib import Path

import numpy as np

from bot.knowledge.analysis import analyze_chunk, query_terms
from bot.knowledge.types import Chunk
from bot.textnorm import normalize, remember_normalized

CURRENT = "CURRENT"
KEEP_VERSIONS = 3
K1 = 1.2
B = 0.75
FORMAT_VERSION = 2
_EMPTY = np.zeros(0, dtype=np.int32)


class LexicalIndex:
    """Chunk store plus BM25 search; one directory: chunks.jsonl, vocab.json, terms.npz, postings.npz."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.version = ""  # the version directory loaded ("": none, or files directly in `directory`)
        self._source = self.directory  # where the loaded files are (terms are read from there lazily)
        self.chunks: dict[str, Chunk] = {}
        self._vocab: dict[str, int] = {}
        self._terms: dict[str, np.ndarray] | None = {}  # chunk id -> term ids; None = on disk, not loaded
        self._dirty = False
        self._ids: list[str] = []  # row -> chunk id
        self._indptr = np.zeros(1, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)  # BM25 weight of each posting, without query weight
        self._idf = np.zeros(0, dtype=np.float32)
        self._row_of: dict[str, int] = {}  # chunk id -> row, built from _ids when first needed
        self._row_ids: list[str] | None = None  # the _ids list _row_of was built from

    # ----- persistence
    @classmethod
    def open(cls, directory: Path) -> LexicalIndex:
        """Load the index from directory (empty when absent); never re-analyses stored chunks."""
        index = cls(directory)
        index.version = current_version(index.directory) or ""
        index._source = index.directory / index.version if index.version else index.directory
        chunks_path = index._source / "chunks.jsonl"
        if not chunks_path.exists():
            return index
        with chunks_path.open(encoding="utf-8") as fh:
            for line in fh:
                chunk = Chunk(**json.loads(line))
                index.chunks[chunk.chunk_id] = chunk
        remember_normalized((c.text, c.norm) for c in index.chunks.values() if c.norm)
        meta_path, postings = index._source / "vocab.json", index._source / "postings.npz"
        meta = json.loads(meta_path.read_text(encoding="utf-8")) if meta_path.exists() else {}
        if meta.get("version") != FORMAT_VERSION or meta.get("ids") != list(index.chunks):
            index._rebuild_from_chunks()  # an older format or a partial write: analyse again once
            return index
        index._vocab = {term: i for i, term in enumerate(meta["vocab"])}
        index._ids = meta["ids"]
        index._terms = None
        with np.load(postings) as arrays:
            index._indptr, index._rows = arrays["indptr"], arrays["rows"]
            index._weights, index._idf = arrays["weights"], arrays["idf"]
        return index

    def _rebuild_from_chunks(self) -> None:
        self._vocab, self._terms = {}, {}
        for chunk in self.chunks.values():
            self._terms[chunk.chunk_id] = self._term_ids(chunk)
        self._dirty = True
        self._build()

    def _load_terms(self) -> None:
        if self._terms is not None:
            return
        with np.load(self._source / "terms.npz") as arrays:
            flat, offsets = arrays["flat"], arrays["offsets"]
        self._terms = {cid: flat[offsets[i] : offsets[i + 1]] for i, cid in enumerate(self._ids)}

    def save(self) -> None:
        """Persist as a new version and make it current (one os.replace); a no-op when nothing changed."""
        if not self._dirty:
            return
        self._build()  # also loads the stored term ids
        assert self._terms is not None
        version = f"v{time.time_ns()}"
        target = self.directory / version
        target.mkdir(parents=True)
        self._write(target)
        _flip(self.directory, version)
        self.version, self._source = version, target
        _prune_versions(self.directory)
        self._dirty = False

    def _write(self, target: Path) -> None:
        """Write every file of the index into `target` (a version directory nobody reads yet)."""
        _write_lines(
            target / "chunks.jsonl",
            (json.dumps(asdict(c), ensure_ascii=False) for c in self.chunks.values()),
        )
        arrays = [self._terms[cid] for cid in self._ids]
        offsets = np.concatenate([[0], np.cumsum([len(a) for a in arrays], dtype=np.int64)])
        flat = np.concatenate(arrays) if arrays else _EMPTY
        _save_npz(target / "terms.npz", flat=flat, offsets=offsets)
        _save_npz(
            target / "postings.npz",
            indptr=self._indptr,
            rows=self._rows,
            weights=self._weights,
            idf=self._idf,
        )
        vocab = sorted(self._vocab, key=self._vocab.__getitem__)
        meta = {"version": FORMAT_VERSION, "ids": self._ids, "vocab": vocab}
        _write_lines(target / "vocab.json", [json.dumps(meta, ensure_ascii=False)])

    # ----- updates
    def _term_ids(self, chunk: Chunk) -> np.ndarray:
        vocab = self._vocab
        terms = analyze_chunk(chunk.title, chunk.section, chunk.text)
        return np.fromiter((vocab.setdefault(t, len(vocab)) for t in terms), dtype=np.int32, count=len(terms))

    def add(self, chunks: list[Chunk]) -> None:
        """Add chunks (replacing any with the same id)."""
        if not chunks:
            return
        self._load_terms()
        assert self._terms is not None
        for chunk in chunks:
            if not chunk.norm:  # normalised once here, at ingest, and stored with the chunk (issue 9)
                chunk = replace(chunk, norm=normalize(chunk.text))
            self.chunks[chunk.chunk_id] = chunk
            self._terms[chunk.chunk_id] = self._term_ids(chunk)
        remember_normalized((c.text, c.norm) for c in chunks if c.norm)
        self._dirty = True

    def remove_docs(self, doc_ids: set[str]) -> None:
        """Remove every chunk of these documents."""
        gone = [cid for cid, c in self.chunks.items() if c.doc_id in doc_ids]
        if not gone:
            return
        self._load_terms()
        assert self._terms is not None
        for cid in gone:
            del self.chunks[cid]
            self._terms.pop(cid, None)
        self._dirty = True

    def _build(self) -> None:
        """Rebuild the postings (term -> rows with BM25 weights) from the stored term ids."""
        self._load_terms()
        assert self._terms is not None
        self._ids = list(self.chunks)
        n_rows, n_terms = len(self._ids), len(self._vocab)
        arrays = [self._terms[cid] for cid in self._ids]
        lengths = np.array([len(a) for a in arrays], dtype=np.float32)
        flat = np.concatenate(arrays).astype(np.int64) if arrays else _EMPTY.astype(np.int64)
        rows_of_flat = np.repeat(np.arange(n_rows, dtype=np.int64), lengths.astype(np.int64))
        # one key per (term, row); unique gives them sorted by term, then row, with their counts (tf)
        keys, tf = np.unique(flat * max(n_rows, 1) + rows_of_flat, return_counts=True)
        terms, rows = keys // max(n_rows, 1), (keys % max(n_rows, 1)).astype(np.int32)
        df = np.bincount(terms, minlength=n_terms).astype(np.float32)
        n = max(n_rows, 1)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if n_rows else 1.0
        tf = tf.astype(np.float32)
        norm = K1 * (1 - B + B * lengths[rows] / max(avgdl, 1.0))
        self._weights = (idf[terms] * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        self._rows = rows
        self._indptr = np.concatenate([[0], np.cumsum(df.astype(np.int64))])
        self._idf = np.where(df > 0, idf, 0.0).astype(np.float32)

    # ----- queries
    def get(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id."""
        return self.chunks.get(chunk_id)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (0 when no chunk has it)."""
        tid = self._vocab.get(term)
        return float(self._idf[tid]) if tid is not None and tid < len(self._idf) else 0.0

    def present_terms(self, chunk_id: str, terms: Iterable[str]) -> set[str] | None:
        """The terms among `terms` that a chunk's index terms include (its title, section path and text as
        `analyze_chunk` cut them at ingest), read from the postings: no text analysis at question time. None for a
        chunk that is not in the index."""
        if self._dirty:
            self._build()
        if self._row_ids is not self._ids:
            self._row_of, self._row_ids = {cid: i for i, cid in enumerate(self._ids)}, self._ids
        row = self._row_of.get(chunk_id)
        if row is None:
            return None
        present = set()
        for term in terms:
            tid = self._vocab.get(term)
            if tid is None or tid + 1 >= len(self._indptr):
                continue
            lo, hi = int(self._indptr[tid]), int(self._indptr[tid + 1])
            at = lo + int(np.searchsorted(self._rows[lo:hi], row))  # a term's rows are sorted (see _build)
            if at < hi and self._rows[at] == row:
                present.add(term)
        return present

    def search_terms(self, terms: dict[str, float], k: int) -> list[tuple[str, float]]:
        """BM25 over weighted query terms."""
        if self._dirty:
            self._build()
        if not self._ids:
            return []
        scores = np.zeros(len(self._ids), dtype=np.float32)
        for term, weight in terms.items():
            tid = self._vocab.get(term)
            if tid is None or weight == 0 or tid + 1 >= len(self._indptr):
                continue
            lo, hi = self._indptr[tid], self._indptr[tid + 1]
            scores[self._rows[lo:hi]] += weight * self._weights[lo:hi]
        k = min(k, len(scores))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self._ids[i], float(scores[i])) for i in top if scores[i] > 0]

    def search(self, query: str, k: int = 10) -> list[tuple[str, float]]:
        """Ranked (chunk_id, BM25 score) pairs for a query text."""
        return self.search_terms(query_terms(query), k)

    def __len__(self) -> int:
        return len(self.chunks)


def _write_lines(path: Path, lines) -> None:
    """Write lines to path atomically."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    os.replace(tmp, path)


def _save_npz(path: Path, **arrays: np.ndarray) -> None:
    """Write arrays to an .npz file atomically."""
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def current_version(directory: Path) -> str | None:
    """The name of the current version directory of the index in `directory`, or None (unversioned or absent).

    Cheap: one small file read; a replica calls it to notice an ingest made by another process.
    """
    try:
        name = (Path(directory) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return name or None


def _flip(directory: Path, version: str) -> None:
    """Point CURRENT at `version` atomically (the version's files are synced to disk first)."""
    for path in (directory / version).iterdir():
        with path.open("rb") as fh:
            os.fsync(fh.fileno())
    tmp = directory / f"{CURRENT}.{os.getpid()}.tmp"
    with tmp.open("w", encoding="utf-8") as fh:
        fh.write(version + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, directory / CURRENT)


def _prune_versions(directory: Path) -> None:
    """Remove all but the newest KEEP_VERSIONS versions, and the unversioned files of an older layout."""
    versions = sorted(
        (p for p in directory.iterdir() if p.is_dir() and p.name.startswith("v") and p.name[1:].isdigit()),
        key=lambda p: int(p.name[1:]),
    )
    current = current_version(directory)
    for old in versions[:-KEEP_VERSIONS]:
        if old.name != current:
            shutil.rmtree(old, ignore_errors=True)
    for name in ("chunks.jsonl", "vocab.json", "terms.npz", "postings.npz"):
        (directory / name).unlink(missing_ok=True)
