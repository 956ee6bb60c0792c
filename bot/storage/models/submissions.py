"""Submissions (提案, 社情民意信息, 微建议, 征集意见), attachments, status history and receipt counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.storage.models.base import Base, UTCDateTime, utcnow


class ReceiptCounter(Base):
    """The last receipt number used per prefix and year."""

    __tablename__ = "receipt_counters"

    prefix: Mapped[str] = mapped_column(String(10), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Submission(Base):
    """One item a member (or a public user) submitted."""

    __tablename__ = "submissions"

    id: Mapped[int] = mapped_column(primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(30), unique=True)
    type: Mapped[str] = mapped_column(String(30), index=True)  # proposal | opinion | micro | campaign
    category: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    fields: Mapped[dict] = mapped_column(JSON, default=dict)  # field key -> text
    status: Mapped[str] = mapped_column(String(30), index=True)
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"), index=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    # the campaign a 征集意见 answers (FK to campaigns.id in migration 0301; the table is bot.campaigns.models)
    campaign_id: Mapped[int | None] = mapped_column(default=None, index=True)
    # privacy (migration 0602): a private item is never offered to others as a similar item; an item without
    # its own title (titled with the start of its text) is private unless its author chose otherwise
    private: Mapped[bool] = mapped_column(default=False)
    offer_hidden: Mapped[bool] = mapped_column(default=False)  # staff: never offer as a similar item
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    attachments: Mapped[list[Attachment]] = relationship(
        back_populates="submission", order_by="Attachment.id"
    )
    history: Mapped[list[StatusChange]] = relationship(
        back_populates="submission", order_by="StatusChange.id"
    )


class Attachment(Base):
    """A photo or document attached to a submission."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # photo | document
    file_id: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(300), default="")
    local_path: Mapped[str] = mapped_column(String(500), default="")

    submission: Mapped[Submission] = relationship(back_populates="attachments")


class StatusChange(Base):
    """One move of a submission along its workflow."""

    __tablename__ = "status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="history")
