"""Lexical index: BM25 over jieba words and Han bigrams, with the chunk store; persists as plain files."""

from __future__ import annotations

import json
import os
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

from bot.knowledge.analysis import analyze_chunk, query_terms
from bot.knowledge.types import Chunk

K1 = 1.2
B = 0.75
FORMAT_VERSION = 1


class LexicalIndex:
    """Chunk store plus BM25 search; lives in one directory (chunks.jsonl, terms.jsonl, postings.npz)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.chunks: dict[str, Chunk] = {}
        self._terms: dict[str, list[str]] | None = {}  # None = on disk, not loaded yet
        self._dirty = False
        self._ids: list[str] = []  # row -> chunk id
        self._vocab: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int32)
        self._weights = np.zeros(0, dtype=np.float32)  # BM25 weight of each posting, without query weight
        self._idf = np.zeros(0, dtype=np.float32)

    # ----- persistence
    @classmethod
    def open(cls, directory: Path) -> LexicalIndex:
        """Load the index from directory (empty when absent); never re-analyses stored chunks."""
        index = cls(directory)
        chunks_path = index.directory / "chunks.jsonl"
        if not chunks_path.exists():
            return index
        with chunks_path.open(encoding="utf-8") as fh:
            for line in fh:
                chunk = Chunk(**json.loads(line))
                index.chunks[chunk.chunk_id] = chunk
        index._terms = None
        postings = index.directory / "postings.npz"
        meta_path = index.directory / "vocab.json"
        if postings.exists() and meta_path.exists():
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
            if meta.get("version") == FORMAT_VERSION and len(meta["ids"]) == len(index.chunks):
                arrays = np.load(postings)
                index._ids, index._vocab = meta["ids"], meta["vocab"]
                index._indptr, index._rows = arrays["indptr"], arrays["rows"]
                index._weights, index._idf = arrays["weights"], arrays["idf"]
                return index
        index._load_terms()
        index._build()
        return index

    def _load_terms(self) -> None:
        if self._terms is not None:
            return
        terms: dict[str, list[str]] = {}
        path = self.directory / "terms.jsonl"
        if path.exists():
            with path.open(encoding="utf-8") as fh:
                for line in fh:
                    cid, toks = json.loads(line)
                    terms[cid] = toks
        for cid, chunk in self.chunks.items():  # any chunk without stored terms is analysed now
            if cid not in terms:
                terms[cid] = analyze_chunk(chunk.title, chunk.section, chunk.text)
        self._terms = {cid: terms[cid] for cid in self.chunks}

    def save(self) -> None:
        """Persist to disk (atomically per file); a no-op when nothing changed."""
        if not self._dirty:
            return
        self._build()
        self.directory.mkdir(parents=True, exist_ok=True)
        assert self._terms is not None
        _write_lines(
            self.directory / "chunks.jsonl",
            (json.dumps(asdict(c), ensure_ascii=False) for c in self.chunks.values()),
        )
        _write_lines(
            self.directory / "terms.jsonl",
            (json.dumps([cid, self._terms[cid]], ensure_ascii=False) for cid in self.chunks),
        )
        tmp = self.directory / "postings.tmp.npz"
        np.savez(tmp, indptr=self._indptr, rows=self._rows, weights=self._weights, idf=self._idf)
        os.replace(tmp, self.directory / "postings.npz")
        meta = {"version": FORMAT_VERSION, "ids": self._ids, "vocab": self._vocab}
        _write_lines(self.directory / "vocab.json", [json.dumps(meta, ensure_ascii=False)])
        self._dirty = False

    # ----- updates
    def add(self, chunks: list[Chunk]) -> None:
        """Add chunks (replacing any with the same id)."""
        if not chunks:
            return
        self._load_terms()
        assert self._terms is not None
        for chunk in chunks:
            self.chunks[chunk.chunk_id] = chunk
            self._terms[chunk.chunk_id] = analyze_chunk(chunk.title, chunk.section, chunk.text)
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
        """Rebuild the postings (term -> rows with BM25 weights) from the stored terms."""
        assert self._terms is not None
        self._ids = list(self.chunks)
        vocab: dict[str, int] = {}
        term_ids: list[int] = []
        row_ids: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(self._ids), dtype=np.float32)
        for row, cid in enumerate(self._ids):
            toks = self._terms[cid]
            lengths[row] = len(toks)
            for term, count in Counter(toks).items():
                term_ids.append(vocab.setdefault(term, len(vocab)))
                row_ids.append(row)
                counts.append(count)
        t = np.asarray(term_ids, dtype=np.int64)
        order = np.argsort(t, kind="stable")
        tf = np.asarray(counts, dtype=np.float32)[order]
        rows = np.asarray(row_ids, dtype=np.int32)[order]
        df = np.bincount(t, minlength=len(vocab)).astype(np.float32)
        n = max(len(self._ids), 1)
        idf = np.log(1.0 + (n - df + 0.5) / (df + 0.5)).astype(np.float32)
        avgdl = float(lengths.mean()) if len(lengths) else 1.0
        norm = K1 * (1 - B + B * lengths[rows] / max(avgdl, 1.0))
        self._weights = (idf[t[order]] * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
        self._rows = rows
        self._indptr = np.concatenate([[0], np.cumsum(df.astype(np.int64))])
        self._idf = idf
        self._vocab = vocab

    # ----- queries
    def get(self, chunk_id: str) -> Chunk | None:
        """The chunk with this id."""
        return self.chunks.get(chunk_id)

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term (0 when unknown)."""
        tid = self._vocab.get(term)
        return float(self._idf[tid]) if tid is not None else 0.0

    def search_terms(self, terms: dict[str, float], k: int) -> list[tuple[str, float]]:
        """BM25 over weighted query terms."""
        if self._dirty:
            self._build()
        if not self._ids:
            return []
        scores = np.zeros(len(self._ids), dtype=np.float32)
        for term, weight in terms.items():
            tid = self._vocab.get(term)
            if tid is None or weight == 0:
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
