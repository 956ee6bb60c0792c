"""Questions asked, the answers given, the cited chunks and the member's vote."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class QALog(Base):
    """One question and its answer."""

    __tablename__ = "qa_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)
    answer: Mapped[str] = mapped_column(Text)
    declined: Mapped[bool] = mapped_column(default=False)
    chunk_ids: Mapped[list] = mapped_column(JSON, default=list)
    citations: Mapped[list] = mapped_column(JSON, default=list)  # [{chunk_id, title, section, text}]
    vote: Mapped[int | None] = mapped_column()  # 1 = 👍, -1 = 👎
    voted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ms: Mapped[float] = mapped_column(default=0.0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
