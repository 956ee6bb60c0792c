"""Files a member attaches in the web chat: read from a multipart body with a size and type limit, saved under
data_dir/attachments/web/<chat> and handed to the Assistant as the Telegram channel hands its downloads
(IncomingFile: kind photo | document, file id, file name, local path; the staff item page serves the local file).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

from aiohttp import web

from bot.chat.texts import say
from bot.chat.types import IncomingFile

MAX_BYTES = 10 * 1024 * 1024  # per file; the Bot API's own download limit is 20 MB, a phone photo is 2–6 MB
PHOTO_TYPES = (".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".heif")
DOCUMENT_TYPES = (
    ".pdf",
    ".doc",
    ".docx",
    ".wps",
    ".xls",
    ".xlsx",
    ".et",
    ".ppt",
    ".pptx",
    ".txt",
    ".ofd",
    ".csv",
)
ACCEPT = ",".join((*PHOTO_TYPES, *DOCUMENT_TYPES, "image/*"))  # the file input's accept attribute
READ_CHUNK = 64 * 1024


class UploadRefused(Exception):
    """A file the chat does not take; the message (Chinese) says why and what is allowed; `status` is the HTTP
    status to answer with (413 for a file too large, else 400)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Upload:
    """A multipart upload read from the request: the file (saved) and the form's client key."""

    file: IncomingFile
    key: str
    size: int


def size_label(n: int) -> str:
    """A byte count for people: '850 KB', '12.3 MB'."""
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{max(1, round(n / 1024))} KB"


def kind_of(name: str) -> str:
    """ "photo" or "document" by the file name's extension; raises UploadRefused for any other type."""
    ext = Path(name).suffix.lower()
    if ext in PHOTO_TYPES:
        return "photo"
    if ext in DOCUMENT_TYPES:
        return "document"
    raise UploadRefused(say("web_upload_bad_type", ext=ext or say("web_upload_no_ext")))


def _safe_name(name: str) -> str:
    base = Path(name.replace("\\", "/")).name.replace("..", "_").strip()
    return "".join(ch for ch in base if ch.isprintable() and ch not in '<>:"|?*')[:120] or "file"


async def read_upload(request: web.Request, root: Path, chat_id: str) -> Upload:
    """Stream the multipart fields `id` (the client's key) and `file` into root/web/<chat prefix>/, checking the
    type first and the size while reading (a file over MAX_BYTES is refused and nothing is kept).

    Raises UploadRefused (Chinese reason) for a missing, empty, too large or unsupported file."""
    try:
        reader = await request.multipart()
    except Exception:  # not multipart, broken boundary
        raise UploadRefused(say("web_upload_broken")) from None
    key, saved = "", None
    try:
        while (part := await reader.next()) is not None:
            if part.name == "id":
                key = (await part.text())[:100]
            elif part.name == "file" and saved is None:
                saved = await _save(part, root, chat_id)
    except UploadRefused:
        raise
    except Exception:
        raise UploadRefused(say("web_upload_broken")) from None
    if saved is None:
        raise UploadRefused(say("web_upload_missing"))
    file, size = saved
    return Upload(file, key, size)


async def _save(part, root: Path, chat_id: str) -> tuple[IncomingFile, int]:
    name = _safe_name(part.filename or "")
    kind = kind_of(name)
    folder = root / "web" / chat_id[:16]
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{secrets.token_hex(6)}_{name}"
    digest, size = hashlib.sha256(), 0
    try:
        with target.open("wb") as out:
            while chunk := await part.read_chunk(READ_CHUNK):
                size += len(chunk)
                if size > MAX_BYTES:
                    raise UploadRefused(say("web_upload_too_big", max=size_label(MAX_BYTES)), 413)
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise UploadRefused(say("web_upload_empty"))
    except BaseException:
        target.unlink(missing_ok=True)
        raise
    file_id = f"web:{digest.hexdigest()[:40]}"  # the same file twice is kept once, as Telegram's file ids are
    return IncomingFile(kind=kind, file_id=file_id, file_name=name, local_path=str(target)), size
