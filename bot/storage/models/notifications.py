"""Outbox of messages to members (status changes, replies whose sending failed), delivered by the running channel."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class Notification(Base):
    """A message waiting to be sent: sent_at is set once delivered, failed_at when given up (last_error says why).

    kind: "status" (a status change), "reply" (an answer, receipt or other reply that could not be sent at once).
    A long message goes out in pieces; pieces_sent counts those already delivered so none is sent twice.
    """

    __tablename__ = "notifications"
    # the web chat polls its own chat's undelivered messages (migration 0602)
    __table_args__ = (Index("ix_notifications_channel_chat_sent", "channel", "chat_id", "sent_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    channel: Mapped[str] = mapped_column(String(20), index=True)
    chat_id: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(30), default="status")
    html: Mapped[str] = mapped_column(Text)  # Telegram-HTML subset, already escaped
    submission_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str] = mapped_column(Text, default="")
    pieces_sent: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # back-off after a failed attempt
    failed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime
    )  # given up (blocked, bad request, too old)
    # button rows [[{"label", "data"}]] sent with the message (e.g. the member's rating of a reply)
    buttons: Mapped[list | None] = mapped_column(JSON, default=None)
    # Several replicas (migration 0707): the replica delivering it and until when (a lease, renewed per piece);
    # in_flight_piece is set before a piece is sent and cleared once Telegram took it. A lease that expired
    # with a piece in flight means its replica died mid-send: the message is given up as "unknown", never resent.
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    in_flight_piece: Mapped[int | None] = mapped_column()
