"""Official answers of the office (办公室答复): what staff wrote for a question the documents do not answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class OfficialAnswer(Base):
    """An answer written by staff for a question and its variant phrasings.

    kind "quote": `chunk_ids` are the chosen passages of the knowledge base, shown verbatim (the text is read
    from the index when answering; `quotes` keeps what staff saw when they chose). kind "text": the office's
    own words in `text`, with their `source` (e.g. 「2026年11月办公室会议纪要」). `status` is "active" or
    "withdrawn"; only active answers are used.
    """

    __tablename__ = "official_answers"
    __table_args__ = (Index("ix_official_answers_status_id", "status", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    question: Mapped[str] = mapped_column(Text)
    variants: Mapped[list] = mapped_column(JSON, default=list)  # more phrasings of the same question
    kind: Mapped[str] = mapped_column(String(10), default="text")  # quote | text
    text: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(Text, default="")
    chunk_ids: Mapped[list] = mapped_column(JSON, default=list)
    quotes: Mapped[list] = mapped_column(JSON, default=list)  # [{chunk_id, doc, title, section, text}]
    status: Mapped[str] = mapped_column(String(12), default="active")
    from_qa_id: Mapped[int | None] = mapped_column(ForeignKey("qa_log.id", use_alter=True), nullable=True)
    created_by: Mapped[str] = mapped_column(String(64), default="")
    updated_by: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def phrasings(self) -> list[str]:
        """The question and its variants, without blanks or repeats, in order."""
        return list(dict.fromkeys(p.strip() for p in [self.question, *(self.variants or [])] if p.strip()))
