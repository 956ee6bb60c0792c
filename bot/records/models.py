"""The duty-record table: one row per activity of a member (recorded automatically or entered by staff)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, Date, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class DutyActivity(Base):
    """An activity in a member's duty record (履职档案); `key` makes automatic recording idempotent."""

    __tablename__ = "duty_activities"
    __table_args__ = (Index("ix_duty_activities_member_date", "member_id", "on_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(40))  # activity code of the rule table (proposal, meeting, …)
    on_date: Mapped[date] = mapped_column(Date)
    reference: Mapped[str] = mapped_column(String(60), default="")  # e.g. a receipt number
    attributes: Mapped[dict] = mapped_column(JSON, default=dict)  # facts the rules test (accepted, role, …)
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2), default=Decimal(1))
    source: Mapped[str] = mapped_column(String(10), default="auto")  # auto | manual
    entered_by: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    key: Mapped[str | None] = mapped_column(String(120), unique=True)  # automatic: sub:<id>:m:<member id>
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
