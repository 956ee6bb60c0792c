"""Supporters of a submission (联名 for proposals, 附议 otherwise) and merges of duplicates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class Supporter(Base):
    """A user who co-signs or supports another's submission instead of submitting a duplicate."""

    __tablename__ = "supporters"
    __table_args__ = (UniqueConstraint("submission_id", "identity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))  # 联名 (proposal co-signer) | 附议 (support)
    moved_from_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))  # set by a merge
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubmissionMerge(Base):
    """A duplicate merged into another item: both texts are kept, the duplicate is marked merged."""

    __tablename__ = "submission_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    duplicate_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), unique=True)
    into_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
