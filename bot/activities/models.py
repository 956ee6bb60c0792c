"""Activity tables: the activity, one row per invitee (answer, leave, attendance), notices queued, committees."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class Activity(Base):
    """A duty activity (全体会议, 调研, …) with its time, place, invitees and check-in code (migration 0704)."""

    __tablename__ = "activities"

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(50))  # one of the office's list (rules/activity_types.txt)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    attachments: Mapped[list] = mapped_column(JSON, default=list)  # [{"name": "议程.pdf", "path": "…"}]
    # {"kind": "members"|"sectors"|"committees"|"chosen", "sectors": [...], "committees": [...], "members": [ids]}
    audience: Mapped[dict] = mapped_column(JSON, default=dict)
    rsvp_deadline: Mapped[datetime] = mapped_column(UTCDateTime)
    leave_needs_approval: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled")  # scheduled | cancelled
    checkin_code: Mapped[str] = mapped_column(String(40), unique=True)
    version: Mapped[int] = mapped_column(default=1)  # +1 on every change of time or place (one notice each)
    campaign_id: Mapped[int | None] = mapped_column(default=None)  # a call for opinions opened after it
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ActivityInvitee(Base):
    """One invited member: answer (none/attend/leave), leave reason and approval, attendance."""

    __tablename__ = "activity_invitees"
    __table_args__ = (UniqueConstraint("activity_id", "member_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"), index=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    answer: Mapped[str] = mapped_column(String(10), default="none")  # none | attend | leave
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leave_reason: Mapped[str] = mapped_column(Text, default="")
    leave_state: Mapped[str] = mapped_column(String(10), default="")  # "" | pending | approved | returned
    staff_note: Mapped[str] = mapped_column(Text, default="")
    decided_by: Mapped[str] = mapped_column(String(100), default="")
    attended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    attendance_source: Mapped[str] = mapped_column(String(10), default="")  # checkin | staff
    removed: Mapped[bool] = mapped_column(default=False)  # no longer invited after an edit of the invitees


class ActivityNotice(Base):
    """A message about an activity queued once for a member (purpose: notice, change:<version>, cancel, …)."""

    __tablename__ = "activity_notices"
    __table_args__ = (
        UniqueConstraint("activity_id", "member_id", "purpose"),
        Index("ix_activity_notices_activity", "activity_id", "purpose"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    purpose: Mapped[str] = mapped_column(String(40))
    chats: Mapped[int] = mapped_column(default=0)  # chat identities it was queued for
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MemberCommittee(Base):
    """A member's seat on a special committee (专门委员会), kept by the office for invitations."""

    __tablename__ = "member_committees"
    __table_args__ = (UniqueConstraint("member_id", "committee"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    committee: Mapped[str] = mapped_column(String(100))
