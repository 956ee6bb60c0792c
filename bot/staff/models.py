"""Tables of the staff tools: accounts, web sessions, audit log, assignments, replies, reminders, prompts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class StaffAccount(Base):
    """A member of the office staff (工作人员) or an admin, with a web password and an optional Telegram id."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(10), default="staff")  # staff | admin
    password_hash: Mapped[str] = mapped_column(String(300), default="")
    telegram_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffSession(Base):
    """A web login: the token is stored only as its SHA-256; CSRF token per session."""

    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One staff action (or a refused attempt): who, when, what, on what, before and after."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(
        String(120), index=True
    )  # staff username, or e.g. telegram:123 for a refused stranger
    channel: Mapped[str] = mapped_column(String(20), default="")  # telegram | web | cli
    action: Mapped[str] = mapped_column(String(40), index=True)
    target: Mapped[str] = mapped_column(String(200), default="", index=True)
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    repeats: Mapped[int] = mapped_column(
        default=1
    )  # anonymous page views folded: one row per address a minute


class Assignment(Base):
    """A handling body (承办单位) assigned to a proposal: 主办 (lead) or 协办 (assisting)."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    body: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(10))  # lead | assist
    contact: Mapped[str] = mapped_column(String(200), default="")
    staff: Mapped[str] = mapped_column(String(64), default="")  # the staff member who follows it up
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubmissionReply(Base):
    """The handling body's reply (答复) with its grade, and the member's rating of it."""

    __tablename__ = "submission_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    grade: Mapped[str] = mapped_column(String(2), default="")  # A | B | C
    staff: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rating: Mapped[str | None] = mapped_column(String(10))  # 满意 | 基本满意 | 不满意
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Reminder(Base):
    """A reminder sent about an overdue item (to the handling body contact or the staff who follows it)."""

    __tablename__ = "reminders"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(200))
    via: Mapped[str] = mapped_column(String(20))  # telegram | record (contact kept for the office to call)
    staff: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class StaffPrompt(Base):
    """A staff chat waiting for its next message to be a value (e.g. the reason of a decline)."""

    __tablename__ = "staff_prompts"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    user_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(20))
    receipt_no: Mapped[str] = mapped_column(String(30))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
