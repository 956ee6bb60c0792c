"""The documents desk (channel-neutral): uploads ingested in the background, versions, removal, the document list.

Uploaded originals are kept in `<data_dir>/documents/` under their own (cleaned) file name; that stored file is what the
index ingests, so a second upload of the same name is a new version of that document (updated, or unchanged when the
bytes or the text are the same). Every ingest goes through `ingest_service`, the same function as `lvzhi ingest`; one
worker thread runs the jobs one after another (the index has one writer), and after a change the running knowledge
base is reopened (`reload`), so members are answered from the new index at once. Every change is audited
(actions `doc_upload`, `doc_replace`, `doc_remove`; target `doc:<number>` (the document's page /staff/docs/<number>)
or `file:<name>` for a file that never became a document; fields outcome, file, doc_title, doc_id, reason, document,
chunks, version; their Chinese labels are audit/… keys in prompts/staff.toml).
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.knowledge.background_vectors import MANIFEST_FILE
from bot.knowledge.manifest import FileEntry
from bot.knowledge.models import KbDocument
from bot.knowledge.outline import Outline, outline
from bot.knowledge.types import Chunk, LoadError
from bot.settings import Settings
from bot.storage.models import utcnow

log = logging.getLogger(__name__)

OUTCOMES = ("added", "updated", "unchanged", "duplicate", "skipped")
MAX_NAME = 120  # characters of a stored file name
KEEP_JOBS = 50  # finished upload jobs remembered for their progress page


class LibraryError(Exception):
    """A request the desk refuses; the message is shown to staff (Chinese)."""


def clean_file_name(name: str) -> str:
    """A safe stored name for an uploaded file: its last path part, no control characters, no leading dots,
    at most MAX_NAME characters with the extension kept; raises LibraryError when nothing usable is left."""
    base = re.split(r"[\\/]", name or "")[-1]
    base = "".join(ch for ch in unicodedata.normalize("NFC", base) if unicodedata.category(ch)[0] != "C")
    base = base.strip().lstrip(".").strip()
    if not base:
        raise LibraryError("文件名无效")
    stem, dot, suffix = base.rpartition(".")
    if dot and len(suffix) <= 10:
        return stem[: MAX_NAME - len(suffix) - 1] + "." + suffix
    return base[:MAX_NAME]


@dataclass
class FileOutcome:
    """What became of one uploaded file.

    outcome: waiting | added | updated | unchanged | duplicate | skipped; reason: why it was skipped or is a duplicate
    (Chinese); title: the document's title (for a duplicate, the title of the document it repeats); number: the
    document's row id (its page /staff/docs/<number>)."""

    name: str
    outcome: str = "waiting"
    doc_id: str = ""
    title: str = ""
    reason: str = ""
    number: int | None = None


@dataclass
class UploadJob:
    """An upload being ingested: state queued | running | done | failed, files done of total, per-file outcomes."""

    id: str
    by: str
    files: list[FileOutcome]
    staged: list[Path]
    replace: int | None = None  # the document number a new version is for
    state: str = "queued"
    done: int = 0
    current: str = ""
    error: str = ""
    seconds: float = 0.0
    vectors: str = ""  # what the ingest said about the vectors made in the background
    finished: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def total(self) -> int:
        """Files in the upload."""
        return len(self.files)

    def to_json(self) -> dict:
        """The progress endpoint's body."""
        return {
            "id": self.id,
            "state": self.state,
            "done": self.done,
            "total": self.total,
            "current": self.current,
            "error": self.error,
            "files": [dict(f.__dict__) for f in self.files],
        }


@dataclass
class DocumentInfo:
    """One document of the list: its row, its index entry (None once removed) and its counts."""

    number: int
    doc_id: str
    title: str
    file_name: str
    format: str
    size: int
    articles: int
    chunks: int
    uploaded_by: str  # "" = ingested from the command line
    updated_at: object
    version: int
    source: str = ""
    stored: bool = False  # the original is kept in the documents folder (uploaded on the page)


@dataclass
class DocumentView:
    """A document's page: its info and its outline (章/节/条 tree with the exact chunk texts)."""

    info: DocumentInfo
    outline: Outline
    removed: bool = False
    removed_by: str = ""


def _read_manifest(index_dir: Path) -> list[FileEntry]:
    """The manifest's entries, read-only (never blocks a running ingest's writes)."""
    path = Path(index_dir) / MANIFEST_FILE
    if not path.exists():
        return []
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        columns = ", ".join(FileEntry.__dataclass_fields__)
        rows = db.execute(f"SELECT {columns} FROM files ORDER BY doc_id").fetchall()
    except sqlite3.OperationalError:
        return []
    finally:
        db.close()
    return [FileEntry(*row) for row in rows]


def _chunks(index_dir: Path, doc_id: str) -> list[Chunk]:
    """A document's stored chunks in order, read-only."""
    import json

    path = Path(index_dir) / MANIFEST_FILE
    if not path.exists():
        return []
    db = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        rows = db.execute("SELECT data FROM chunks WHERE doc_id = ? ORDER BY ordinal", (doc_id,)).fetchall()
    finally:
        db.close()
    return [Chunk(**json.loads(data)) for (data,) in rows]


class DocumentLibrary:
    """The documents desk over one index: uploads, versions, removal, listing; one worker thread for changes.

    `db()` gives the Database (for the kb_documents rows and the audit log); `reload()` reopens the running
    knowledge base after a change; `embeddings()` the model already loaded, so vectors made now need no second copy."""

    def __init__(
        self,
        settings: Settings,
        db: Callable[[], object],
        reload: Callable[[], None],
        embeddings: Callable[[], object | None] = lambda: None,
    ) -> None:
        self.settings = settings
        self._embeddings = embeddings  # the running server's embedding model (None: the ingest loads its own)
        self._db = db
        self._reload = reload
        self.folder = Path(settings.data_dir).resolve() / "documents"
        self._incoming = self.folder / ".incoming"
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="documents")
        self._jobs: dict[str, UploadJob] = {}
        self._lock = threading.Lock()

    @property
    def max_bytes(self) -> int:
        """The largest file accepted, in bytes (LVZHI_MAX_FILE_MB)."""
        return int(self.settings.max_file_mb * 1024 * 1024)

    # ----- uploads
    def new_job(self, by: str, replace: int | None = None) -> tuple[UploadJob, Path]:
        """A job to stage files into; returns it and its staging folder (write each file there, then add_file)."""
        job = UploadJob(secrets.token_urlsafe(12), by, [], [], replace)
        folder = self._incoming / job.id
        folder.mkdir(parents=True, exist_ok=True)
        return job, folder

    def stage_path(self, job: UploadJob, name: str) -> Path:
        """Where the channel writes the next file of a job (raises LibraryError for a name with nothing usable)."""
        return self._incoming / job.id / f"{len(job.files):04d}-{clean_file_name(name)}"

    def add_file(self, job: UploadJob, name: str, staged: Path | None, refused: str = "") -> None:
        """Add a staged file to a job; `refused` (Chinese) marks a file the channel already refused (too large)."""
        job.files.append(FileOutcome(name, "skipped" if refused else "waiting", reason=refused))
        job.staged.append(staged if staged is not None and not refused else Path())

    def submit(self, job: UploadJob) -> UploadJob:
        """Queue the job on the worker; its progress is read with job(id)."""
        with self._lock:
            self._jobs[job.id] = job
            finished = [j for j in self._jobs.values() if j.state in ("done", "failed")]
            for old in finished[:-KEEP_JOBS]:
                self._jobs.pop(old.id, None)
        self._worker.submit(self._run_job, job)
        return job

    def job(self, job_id: str) -> UploadJob | None:
        """A job by id (None when unknown or forgotten)."""
        return self._jobs.get(job_id)

    def _run_job(self, job: UploadJob) -> None:
        started = time.perf_counter()
        job.state = "running"
        try:
            self._ingest_job(job)
            job.state = "done"
        except Exception as exc:  # the job fails visibly; the server goes on
            log.exception("文档导入任务失败")
            job.error = f"导入失败：{type(exc).__name__}: {exc}"
            job.state = "failed"
        finally:
            job.seconds = time.perf_counter() - started
            shutil.rmtree(self._incoming / job.id, ignore_errors=True)
            job.finished.set()

    def _target(self, session: Session, job: UploadJob, name: str) -> Path:
        """Where a staged file goes: the replaced document's file (same format), else documents/<name>."""
        if job.replace is None:
            return self.folder / clean_file_name(name)
        row = session.get(KbDocument, job.replace)
        entries = {e.doc_id: e for e in _read_manifest(self.settings.resolved_index_dir)}
        entry = entries.get(row.doc_id) if row is not None and row.removed_at is None else None
        if entry is None:
            raise LoadError("要替换的文档已不在知识库中")
        source = Path(entry.source)
        if self.folder not in source.parents:
            raise LoadError(
                "该文档是在服务器上用命令行从文件夹导入的，请替换服务器上的文件后重新运行 lvzhi ingest"
            )
        if source.suffix.lower() != Path(name).suffix.lower():
            raise LoadError(f"新版本必须与原文件格式相同（{source.suffix}）；格式不同请先移除原文档再上传")
        return source

    def _ingest_job(self, job: UploadJob) -> None:
        # The readers of every format (lxml, Pillow, …) are imported by the first upload, not at every start.
        from bot.knowledge.ingest import ingest_service
        from bot.knowledge.loaders import check_file

        db = self._db()
        self.folder.mkdir(parents=True, exist_ok=True)
        # target -> (outcome, the file it replaced, moved aside until the ingest has read the new one)
        placed: dict[Path, tuple[FileOutcome, Path | None]] = {}
        with db.session() as s:
            for n, (outcome, staged) in enumerate(zip(job.files, job.staged, strict=True)):
                if outcome.outcome == "skipped":
                    continue
                try:
                    check_file(staged, self.settings.max_file_mb)
                    target = self._target(s, job, outcome.name)
                except LoadError as exc:
                    outcome.outcome, outcome.reason = "skipped", str(exc)
                    continue
                backup = None
                if target in placed:  # the same name twice in one upload: the later one is the version kept
                    earlier, backup = placed.pop(target)
                    earlier.outcome, earlier.reason = "skipped", "同一次上传中有同名文件，以后一个为准"
                    target.unlink()
                elif target.exists():
                    backup = self._incoming / job.id / f"previous-{n:04d}"
                    os.replace(target, backup)
                shutil.move(staged, target)
                placed[target] = (outcome, backup)
        refused = sum(f.outcome == "skipped" for f in job.files)
        job.done = refused

        def progress(done: int, total: int, name: str) -> None:
            job.done, job.current = refused + done, name

        report, job.vectors = (
            ingest_service(
                list(placed), self.settings, progress=False, on_file=progress, embeddings=self._embeddings()
            )
            if placed
            else (None, "")
        )
        entries = {e.source: e for e in _read_manifest(self.settings.resolved_index_dir)}
        skipped = {Path(f).resolve(): reason for f, reason in (report.skipped if report else [])}
        duplicates = {Path(f).resolve(): title for f, title in (report.duplicates if report else [])}
        changed = False
        with db.session() as s:
            for target, (outcome, backup) in placed.items():
                entry = entries.get(target.as_posix())
                if target in skipped or target in duplicates or entry is None:
                    if target in duplicates:
                        outcome.outcome, outcome.title = "duplicate", duplicates[target]
                        outcome.reason = f"与《{duplicates[target]}》内容相同，已跳过"
                    else:
                        outcome.outcome = "skipped"
                        outcome.reason = skipped.get(target, "没有可索引的内容")
                    target.unlink(missing_ok=True)
                    if backup is not None and entry is not None:
                        os.replace(backup, target)  # the version still in the index keeps its original file
                    continue
                outcome.doc_id, outcome.title = entry.doc_id, entry.title
                if entry.doc_id in report.added:
                    outcome.outcome = "added"
                elif entry.doc_id in report.updated:
                    outcome.outcome = "updated"
                else:
                    outcome.outcome = "unchanged"
                changed |= outcome.outcome in ("added", "updated")
                row = self._row(s, entry)
                if outcome.outcome != "unchanged" or row.removed_at is not None:
                    if row.removed_at is not None or outcome.outcome == "added":
                        row.version = 1 if row.removed_at is not None else row.version
                    else:
                        row.version += 1
                    row.title, row.file_name, row.uploaded_by = entry.title, outcome.name, job.by
                    row.updated_at, row.removed_at, row.removed_by = utcnow(), None, ""
                outcome.number = row.id
            self._sync(s, list(entries.values()), create=False)
            self._audit_job(s, job)
        if changed or duplicates:
            self._reload()

    def _audit_job(self, session: Session, job: UploadJob) -> None:
        from bot.staff import audit

        for f in job.files:
            after = {"outcome": f.outcome, "file": f.name}
            after |= {"doc_title": f.title} if f.title else {}
            after |= {"doc_id": f.doc_id} if f.doc_id else {}
            after |= {"reason": f.reason} if f.reason else {}
            target = f"doc:{f.number}" if f.number else f"file:{f.name}"
            action = "doc_replace" if job.replace is not None else "doc_upload"
            before = {"document": job.replace} if job.replace is not None else None
            audit.record(session, job.by, action, target, before, after, channel="web")

    # ----- rows
    def _row(self, session: Session, entry: FileEntry) -> KbDocument:
        """The row of an indexed document, made on first sight (a page view and the worker may race: the loser
        of the insert reads the winner's row)."""
        row = session.scalar(select(KbDocument).where(KbDocument.doc_id == entry.doc_id))
        if row is not None:
            return row
        stored = self.folder in Path(entry.source).parents
        row = KbDocument(
            doc_id=entry.doc_id, title=entry.title, file_name=Path(entry.source).name if stored else ""
        )
        try:
            with session.begin_nested():
                session.add(row)
        except IntegrityError:
            row = session.scalar(select(KbDocument).where(KbDocument.doc_id == entry.doc_id))
        return row

    def _sync(self, session: Session, entries: list[FileEntry], create: bool = True) -> dict[str, KbDocument]:
        """Rows for the indexed documents; rows of documents no longer in the index are marked removed.

        With `create`, documents ingested from the command line get a row on first sight; an uploaded document's
        row is made by the worker that ingested it (so a page view never races the worker for it)."""
        rows = {r.doc_id: r for r in session.scalars(select(KbDocument))}
        for entry in entries:
            if entry.doc_id not in rows:
                if not create or self.folder in Path(entry.source).parents:
                    continue
                rows[entry.doc_id] = self._row(session, entry)
            elif rows[entry.doc_id].removed_at is not None:
                rows[entry.doc_id].removed_at = None  # back through the command line
            if rows[entry.doc_id].title != entry.title:
                rows[entry.doc_id].title = entry.title
        present = {e.doc_id for e in entries}
        for doc_id, row in rows.items():
            if doc_id not in present and row.removed_at is None:
                row.removed_at = utcnow()
        return rows

    def _info(
        self, row: KbDocument, entry: FileEntry | None, chunks: list[Chunk] | None = None
    ) -> DocumentInfo:
        from bot.knowledge.articles import article_number

        if chunks is None and entry is not None:
            chunks = _chunks(self.settings.resolved_index_dir, entry.doc_id)
        chunks = chunks or []
        articles = len({c.section for c in chunks if article_number(c.section) is not None})
        source = Path(entry.source) if entry else Path(row.file_name or row.doc_id)
        return DocumentInfo(
            number=row.id,
            doc_id=row.doc_id,
            title=row.title,
            file_name=row.file_name or source.name,
            format=source.suffix.lower().lstrip(".") or "—",
            size=entry.size if entry else 0,
            articles=articles,
            chunks=entry.chunk_count if entry else 0,
            uploaded_by=row.uploaded_by,
            updated_at=row.updated_at,
            version=row.version,
            source=entry.source if entry else "",
            stored=entry is not None and self.folder in Path(entry.source).parents,
        )

    def documents(self, session: Session) -> list[DocumentInfo]:
        """Every document now in the knowledge base, newest change first."""
        entries = _read_manifest(self.settings.resolved_index_dir)
        rows = self._sync(session, entries)
        infos = [self._info(rows[e.doc_id], e) for e in entries if e.doc_id in rows]
        infos.sort(key=lambda i: (i.updated_at, i.number), reverse=True)
        return infos

    def document(self, session: Session, number: int) -> DocumentView | None:
        """A document's page by its number: info and outline (None when there is no such number)."""
        row = session.get(KbDocument, number)
        if row is None:
            return None
        entries = {e.doc_id: e for e in _read_manifest(self.settings.resolved_index_dir)}
        entry = entries.get(row.doc_id)
        chunks = _chunks(self.settings.resolved_index_dir, row.doc_id) if entry else []
        return DocumentView(self._info(row, entry, chunks), outline(chunks), entry is None, row.removed_by)

    def number_of(self, session: Session, doc_id: str) -> int | None:
        """The page number of an index document id (for links from citations), or None."""
        entries = {e.doc_id: e for e in _read_manifest(self.settings.resolved_index_dir)}
        if doc_id in entries:
            return self._row(session, entries[doc_id]).id
        row = session.scalar(select(KbDocument).where(KbDocument.doc_id == doc_id))
        return row.id if row is not None else None

    def original(self, session: Session, number: int) -> Path | None:
        """The stored original file of a document in the index (None when absent)."""
        view = self.document(session, number)
        if view is None or view.removed or not view.info.source:
            return None
        path = Path(view.info.source)
        return path if path.is_file() else None

    # ----- removal
    def remove(self, number: int, by: str) -> Future:
        """Remove a document (on the worker, after any running upload); the future's result is its title.

        Raises (through the future) LibraryError when the document is not in the knowledge base."""
        return self._worker.submit(self._remove, number, by)

    def _remove(self, number: int, by: str) -> str:
        from bot.staff import audit

        db = self._db()
        with db.session() as s:
            row = s.get(KbDocument, number)
            entries = {e.doc_id: e for e in _read_manifest(self.settings.resolved_index_dir)}
            entry = entries.get(row.doc_id) if row is not None else None
            if row is None or entry is None:
                raise LibraryError("该文档已不在知识库中")
            doc_id, title = row.doc_id, row.title
        background = self.settings.dense_index and self.settings.vectors_in_background
        from bot.knowledge.ingest import remove_documents

        remove_documents(self.settings, {doc_id}, embeddings=self._embeddings(), defer_vectors=background)
        source = Path(entry.source)
        if self.folder in source.parents:
            source.unlink(missing_ok=True)
        with db.session() as s:
            row = s.get(KbDocument, number)
            row.removed_at, row.removed_by = utcnow(), by
            audit.record(
                s, by, "doc_remove", f"doc:{number}",
                {"doc_title": title, "doc_id": doc_id, "chunks": entry.chunk_count, "file": source.name,
                 "version": row.version},
                None, channel="web",
            )  # fmt: skip
        self._reload()
        return title


def wait_job(job: UploadJob, timeout: float = 600.0) -> UploadJob:
    """Block until a job has finished (for commands and benchmarks); raises TimeoutError."""
    if not job.finished.wait(timeout):
        raise TimeoutError(job.id)
    return job
