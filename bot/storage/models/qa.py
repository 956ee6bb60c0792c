"""Questions asked, the answers given, the cited chunks and the member's vote."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class QALog(Base):
    """One question and its answer.

    `decision` is how it was answered: "answer" (quoted from the documents), "decline", or "official" (an
    official answer of the office, `official_id`); the composite indexes serve the questions log's filters and its
    newest-first keyset paging (bot/staff/questions.py)."""

    __tablename__ = "qa_log"
    __table_args__ = (
        Index("ix_qa_log_declined_id", "declined", "id"),
        Index("ix_qa_log_vote_id", "vote", "id"),
        Index("ix_qa_log_channel_id", "channel", "id"),
        Index("ix_qa_log_decision_id", "decision", "id"),
    )

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
    ms: Mapped[float] = mapped_column(default=0.0)  # time taken to answer, milliseconds
    decision: Mapped[str] = mapped_column(
        String(20), default=""
    )  # answer | decline | official ("" before 0702)
    official_id: Mapped[int | None] = mapped_column(ForeignKey("official_answers.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class QASource(Base):
    """One document cited by a logged answer (for the questions log's document filter; indexed by document)."""

    __tablename__ = "qa_sources"
    __table_args__ = (Index("ix_qa_sources_doc_qa", "doc_id", "qa_id"),)

    qa_id: Mapped[int] = mapped_column(ForeignKey("qa_log.id", ondelete="CASCADE"), primary_key=True)
    doc_id: Mapped[str] = mapped_column(String(200), primary_key=True)
