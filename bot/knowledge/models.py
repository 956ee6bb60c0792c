"""The documents desk's table: one row per document of the knowledge base, for its page, uploader and versions.

The index (manifest, lexical index, vectors) stays the truth about what is searchable; this table gives every document
a stable number for links (/staff/docs/<id>) and remembers who uploaded which version when.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class KbDocument(Base):
    """A document of the knowledge base as staff manage it (uploaded on the page or ingested from the command line)."""

    __tablename__ = "kb_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(400), unique=True)  # the index's document id
    title: Mapped[str] = mapped_column(String(400), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")  # the name it was uploaded with
    uploaded_by: Mapped[str] = mapped_column(String(120), default="")  # staff username; "" = command line
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # first seen
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last new version
    version: Mapped[int] = mapped_column(default=1)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    removed_by: Mapped[str] = mapped_column(String(120), default="")
