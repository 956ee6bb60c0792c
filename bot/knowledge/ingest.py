"""Incremental ingestion: files → Documents → chunks → Chroma + lexical index, tracked by a manifest."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

from bot.knowledge import chunking, vector_generation
from bot.knowledge.background_vectors import PENDING, VectorLock
from bot.knowledge.chunking import chunk_document
from bot.knowledge.cleaning import CLEANING_VERSION
from bot.knowledge.lexical import LexicalIndex
from bot.knowledge.loaders import READERS_VERSION, check_file, load_document
from bot.knowledge.manifest import FileEntry, Manifest
from bot.knowledge.report import IngestReport
from bot.knowledge.types import Chunk, LoadError
from bot.settings import Settings
from bot.textnorm import normalize, without_whitespace

if TYPE_CHECKING:
    from bot.knowledge.embedding_interface import Embeddings

log = logging.getLogger(__name__)

MANIFEST_FILE = "manifest.sqlite3"
_FLUSH_CHUNKS = 512


def pipeline_version() -> str:
    """Version of reading + cleaning + chunking; a change re-processes every file."""
    return f"read{READERS_VERSION}-clean{CLEANING_VERSION}-chunk{getattr(chunking, 'CHUNKER_VERSION', '0')}"


def file_sha256(path: Path) -> str:
    """sha256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_COPY_MARK = re.compile(r"(\(\d+\)|（\d+）|[-_ ]?副本|[-_ ]?copy|[-_ ]?复制)$", re.IGNORECASE)


def _copy_last(path: Path) -> tuple[bool, str]:
    """Sort key: a file named like a copy (「x(1).md」「x - 副本.docx」) comes after its original."""
    return bool(_COPY_MARK.search(path.stem)), path.as_posix()


def text_fingerprint(text: str) -> str:
    """sha256 of a document's text after normalisation (script, width, whitespace): equal for duplicate files."""
    return hashlib.sha256(without_whitespace(normalize(text)).encode("utf-8")).hexdigest()


_NOTES_FILE = re.compile(r"^(readme|sources|license|licence|changelog)\b", re.IGNORECASE)


def _is_hidden(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return any(p.startswith(".") or p.startswith("~$") for p in parts)


def collect_files(paths: list[Path], report: IngestReport) -> list[tuple[Path, Path]]:
    """(root, file) pairs under the given paths, recursive and sorted; missing paths are reported."""
    seen: set[Path] = set()
    found: list[tuple[Path, Path]] = []
    for raw in paths:
        root = Path(raw).expanduser().resolve()
        if root.is_dir():
            files = sorted(
                (p for p in root.rglob("*") if p.is_file() and not _is_hidden(p, root)), key=_copy_last
            )
            for note in [f for f in files if _NOTES_FILE.match(f.stem)]:
                files.remove(note)
                report.skip(
                    str(note), "文件夹的说明文件（README/SOURCES 等），未导入；如需导入请单独指定该文件"
                )
        elif root.is_file():
            files = [root]
        else:
            report.skip(str(raw), "路径不存在")
            continue
        for file in files:
            if file not in seen:
                seen.add(file)
                found.append((root, file))
    return found


def base_doc_id(root: Path, file: Path) -> str:
    """Document id: the path relative to the parent of the given folder (e.g. knowledge/指南.md), or the file name."""
    if root == file:
        return file.name
    return file.relative_to(root.parent if root.parent != root else root).as_posix()


NO_VECTORS = "-"  # manifest value of embedding_model when the dense index is off


def _quiet_model_loading() -> None:
    """Hide the model-loading progress bars of transformers and the HF hub."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    try:
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()
    except ImportError:  # transformers always comes with sentence-transformers; be safe anyway
        pass


class Ingestor:
    """One ingest run over one index directory."""

    def __init__(
        self,
        settings: Settings,
        embeddings: Embeddings | None = None,
        progress: bool = True,
        defer_vectors: bool = False,
        on_file: Callable[[int, int, str], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_file = on_file  # called after each file with (files done, files in all, file name)
        self.index_dir = settings.resolved_index_dir
        self.index_dir.mkdir(parents=True, exist_ok=True)
        # With dense_index off, no vectors are made; the manifest records NO_VECTORS so that switching the
        # dense index on later embeds every document. With defer_vectors, this run does not touch the vectors:
        # new and changed documents are recorded as PENDING and `lvzhi vectors` (background_vectors.py) makes them.
        self.deferred = settings.dense_index and defer_vectors
        self._vector_lock: VectorLock | None = None
        self.vectors = None
        if settings.dense_index and not self.deferred:
            self._vector_lock = VectorLock(self.index_dir)  # one writer of the collection at a time
            if not self._vector_lock.acquire(wait=False):
                log.warning(
                    "后台向量生成进程（PID %s）正在运行，等它结束后再导入…", self._vector_lock.holder()
                )
                self._vector_lock.acquire(wait=True)
            # Imported here: Chroma and the model libraries take seconds to import, and a run that defers the
            # vectors (or has none) must not pay for them.
            from bot.knowledge.embedding_models import embeddings_for
            from bot.knowledge.vectorstore import VectorStore

            if not progress:
                _quiet_model_loading()
            self.embeddings = embeddings or embeddings_for(settings)
            self.vectors = VectorStore(self.index_dir, self.embeddings)
        self.model = self.vectors.identity if self.vectors else PENDING if self.deferred else NO_VECTORS
        self.lexical = LexicalIndex.open(self.index_dir / "lexical")
        self.manifest = Manifest(self.index_dir / MANIFEST_FILE)
        self.progress = progress
        self.pipeline = pipeline_version()
        self.report = IngestReport()
        self._pending: list[Chunk] = []
        self._lexical_dirty = False
        # the collection changed in this run by a re-embedding (the stamp is bumped after the commit)
        self._vectors_written = False

    def run(self, paths: list[Path], prune: bool = False) -> IngestReport:
        """Ingest files and folders; returns the report."""
        try:
            return self._run(paths, prune)
        finally:
            if self._vector_lock is not None:
                self._vector_lock.release()

    def _run(self, paths: list[Path], prune: bool) -> IngestReport:
        start = time.perf_counter()
        files = collect_files(paths, self.report)
        bar = tqdm(files, desc="导入文档", unit="个", file=sys.stderr, disable=not self.progress, leave=False)
        for done, (root, file) in enumerate(bar, start=1):
            bar.set_postfix_str(file.name[-30:], refresh=False)
            try:
                self._ingest_file(root, file)
            except LoadError as exc:
                self.report.skip(str(file), str(exc))
            except Exception as exc:  # one bad file must not stop the others
                log.exception("导入 %s 失败", file)
                self.report.skip(str(file), f"处理时出错：{type(exc).__name__}: {exc}")
            if self.on_file is not None:
                self.on_file(done, len(files), file.name)
        self._flush()
        if prune:
            self._prune([Path(p).expanduser().resolve() for p in paths])
        self._sync_vectors()
        # documents added, replaced, removed or re-embedded
        changed = self._lexical_dirty or self._vectors_written
        self._sync_lexical()
        self.manifest.commit()
        if changed and self.settings.dense_index:
            vector_generation.bump(self.index_dir)  # committed: readers re-check which documents have vectors
        self.report.chunk_total = self.manifest.total_chunks()
        self.report.doc_total = len(self.manifest.entries())
        self.report.seconds = time.perf_counter() - start
        self.manifest.close()
        return self.report

    def remove(self, doc_ids: set[str]) -> IngestReport:
        """Remove documents (by id) from every index and the manifest; ids not in the index are ignored.

        With deferred vectors the collection keeps their vectors until the next `lvzhi vectors` run removes them
        (retrieval never returns a chunk that the lexical index no longer has)."""
        start = time.perf_counter()
        try:
            known = {d for d in doc_ids if self.manifest.by_doc_id(d) is not None}
            if known:
                self._drop_docs(known)
                self.report.removed.extend(sorted(known))
            self._sync_lexical()
            self.manifest.commit()
            if known and self.settings.dense_index:
                vector_generation.bump(self.index_dir)
            self.report.chunk_total = self.manifest.total_chunks()
            self.report.doc_total = len(self.manifest.entries())
            self.report.seconds = time.perf_counter() - start
            self.manifest.close()
            return self.report
        finally:
            if self._vector_lock is not None:
                self._vector_lock.release()

    def _ingest_file(self, root: Path, file: Path) -> None:
        source = file.as_posix()
        stat = file.stat()
        entry = self.manifest.by_source(source)
        current = entry is not None and entry.pipeline == self.pipeline
        if current and entry.size == stat.st_size and entry.mtime_ns == stat.st_mtime_ns:
            self.report.unchanged.append(entry.doc_id)
            return
        check_file(file, self.settings.max_file_mb)  # refuses huge files before hashing them
        digest = file_sha256(file)
        if current and entry.content_hash == digest:
            self.manifest.update(source, size=stat.st_size, mtime_ns=stat.st_mtime_ns)
            self.report.unchanged.append(entry.doc_id)
            return
        doc_id = entry.doc_id if entry else self._allocate_doc_id(root, file, digest, stat)
        if doc_id is None:
            return  # a known file that moved: nothing to re-index
        doc = load_document(file, doc_id=doc_id, max_file_mb=self.settings.max_file_mb)
        text_hash = text_fingerprint(doc.text)
        if self._is_duplicate(file, entry, doc_id, text_hash):
            return
        chunks = chunk_document(doc)
        if not chunks:
            raise LoadError("清洗后没有可索引的内容")
        self._replace(doc_id, chunks)
        self.manifest.put(
            FileEntry(
                source,
                doc_id,
                doc.title,
                doc.content_hash,
                stat.st_size,
                stat.st_mtime_ns,
                len(chunks),
                self.model,
                self.pipeline,
                text_hash,
            ),
            chunks,
        )
        (self.report.updated if entry else self.report.added).append(doc_id)
        if doc.meta.get("ocr_pages"):
            self.report.ocr.append(doc_id)

    def _is_duplicate(self, file: Path, entry: FileEntry | None, doc_id: str, text_hash: str) -> bool:
        """True (and reported) when another file in the index has the same text; that one stays indexed once.

        A file that was indexed before and now repeats another document's text leaves the index. When the other
        file is gone from disk, this one is not a duplicate: it replaces the vanished one.
        """
        twin = self.manifest.by_text_hash(text_hash)
        if twin is None or twin.doc_id == doc_id:
            return False
        if not Path(twin.source).exists():
            self._drop_docs({twin.doc_id})
            return False
        if entry is not None:
            self._drop_docs({entry.doc_id})
        self.report.duplicates.append((str(file), twin.title))
        return True

    def _drop_docs(self, doc_ids: set[str]) -> None:
        """Remove documents from every index and the manifest."""
        self._flush()
        if self.vectors:
            self.vectors.remove_docs(doc_ids)
        self.lexical.remove_docs(doc_ids)
        self._lexical_dirty = True
        self.manifest.remove(doc_ids)

    def _allocate_doc_id(self, root: Path, file: Path, digest: str, stat) -> str | None:
        """A new document id; a file whose old path is gone takes over its id (a move); None if nothing changed."""
        doc_id = base_doc_id(root, file)
        other = self.manifest.by_doc_id(doc_id)
        if other is None:
            return doc_id
        if Path(other.source).exists():
            return f"{doc_id}~{hashlib.sha1(file.as_posix().encode()).hexdigest()[:8]}"
        if other.content_hash == digest and other.pipeline == self.pipeline:
            self.manifest.update(
                other.source, source=file.as_posix(), size=stat.st_size, mtime_ns=stat.st_mtime_ns
            )
            self.report.unchanged.append(doc_id)
            return None
        return doc_id

    def _replace(self, doc_id: str, chunks: list[Chunk]) -> None:
        self._flush()  # pending chunks of other documents go in first
        if self.vectors:
            self.vectors.remove_docs({doc_id})
        self.lexical.remove_docs({doc_id})
        self.lexical.add(chunks)
        self._lexical_dirty = True
        self._pending.extend(chunks)
        self.report.chunks_written += len(chunks)
        if len(self._pending) >= _FLUSH_CHUNKS:
            self._flush()

    def _flush(self) -> None:
        if self._pending and self.vectors:
            self.vectors.add(self._pending)
        self._pending = []

    def _prune(self, roots: list[Path]) -> None:
        gone = []
        for entry in self.manifest.entries():
            source = Path(entry.source)
            under = any(source == r or r in source.parents for r in roots)
            if under and not source.exists():
                gone.append(entry.doc_id)
        if gone:
            self._drop_docs(set(gone))
            self.report.removed.extend(gone)

    def _sync_vectors(self) -> None:
        """Make the collection of the current model hold exactly the manifest's chunks (model change, repair)."""
        if self.vectors is None:
            return
        entries = self.manifest.entries()
        stale = {e.doc_id for e in entries if e.embedding_model != self.model}
        if not stale and self.vectors.count() == self.manifest.total_chunks():
            self.vectors.drop_other_collections()
            return
        known = {e.doc_id for e in entries}
        present = self.vectors.doc_ids()
        if present - known:
            self.vectors.remove_docs(present - known)
        todo = sorted(stale | (known - present))
        self._vectors_written = self._vectors_written or bool(todo) or bool(present - known)
        bar = tqdm(
            todo, desc="重新生成向量", unit="个", file=sys.stderr, disable=not self.progress, leave=False
        )
        for doc_id in bar:
            chunks = self.manifest.chunks(doc_id)
            self.vectors.remove_docs({doc_id})
            self.vectors.add(chunks)
            self.manifest.update(self.manifest.by_doc_id(doc_id).source, embedding_model=self.model)
            self.report.chunks_written += len(chunks)
            if doc_id in stale:
                self.report.reembedded.append(doc_id)
        if self.vectors.count() == self.manifest.total_chunks():
            self.vectors.drop_other_collections()

    def _sync_lexical(self) -> None:
        """Rebuild the lexical index from the manifest when it lost chunks (e.g. a new index format)."""
        if len(self.lexical) != self.manifest.total_chunks():
            entries = self.manifest.entries()
            self.lexical.remove_docs({e.doc_id for e in entries})
            for entry in entries:
                self.lexical.add(self.manifest.chunks(entry.doc_id))
            self._lexical_dirty = True
        if self._lexical_dirty:
            self.lexical.save()


def ingest_paths(
    paths: list[Path],
    settings: Settings,
    prune: bool = False,
    progress: bool = True,
    embeddings: Embeddings | None = None,
    defer_vectors: bool = False,
    on_file: Callable[[int, int, str], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into the index of settings; unchanged files are skipped quickly.

    With defer_vectors the run returns once the lexical index is ready and leaves the vectors to `lvzhi vectors`.
    `on_file(done, total, name)` is called after each file (for a progress bar).
    """
    ingestor = Ingestor(
        settings, embeddings=embeddings, progress=progress, defer_vectors=defer_vectors, on_file=on_file
    )
    return ingestor.run(list(paths), prune=prune)


def remove_documents(
    settings: Settings, doc_ids: set[str], embeddings: Embeddings | None = None, defer_vectors: bool = False
) -> IngestReport:
    """Remove documents by id from the index of settings; the report's `removed` lists those that were there."""
    ingestor = Ingestor(settings, embeddings=embeddings, progress=False, defer_vectors=defer_vectors)
    return ingestor.remove(set(doc_ids))


def ingest_service(
    paths: list[Path],
    settings: Settings,
    prune: bool = False,
    progress: bool = True,
    on_file: Callable[[int, int, str], None] | None = None,
    embeddings: Embeddings | None = None,
) -> tuple[IngestReport, str]:
    """The one ingest of the command line (`lvzhi ingest`, `ingest.py`) and of the staff documents page.

    Ingests the paths (the vectors deferred to a background `lvzhi vectors` process when settings say so, else made
    now) and, when documents wait for vectors, starts that process. Returns (report, what to tell about the vectors
    in Chinese, or ''). `embeddings`: a model already loaded (the server's), used when vectors are made now.
    Raises what the ingest raises for a broken index (a bad file is a skip in the report).
    """
    from bot.knowledge.background_vectors import start_background_vectors

    background = settings.dense_index and settings.vectors_in_background
    report = ingest_paths(
        list(paths),
        settings,
        prune=prune,
        progress=progress,
        embeddings=embeddings,
        defer_vectors=background,
        on_file=on_file,
    )
    message = start_background_vectors(settings) if background and report.ok else ""
    return report, message
