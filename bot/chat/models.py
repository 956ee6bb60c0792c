"""Questions members asked to have followed up by the office (「联系工作人员」), listed on /staff/followups."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class FollowUp(Base):
    """One question a member asked the office to follow up; done_at/done_by are set when staff mark it handled.

    One row per answered question (qa_id unique): pressing 「联系工作人员」 again does not list it twice."""

    __tablename__ = "followups"

    id: Mapped[int] = mapped_column(primary_key=True)
    qa_id: Mapped[int | None] = mapped_column(ForeignKey("qa_log.id"), unique=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    question: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    done_by: Mapped[str] = mapped_column(String(120), default="")
