"""The web chat's stored conversation: every message shown in a browser's chat, so a reload shows it again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class WebMessage(Base):
    """One message of a web chat (migration 0705_web_history), in the order shown.

    `chat_id` is the session's chat key (WebSession.external_id). A member's message has role "me" and `seq` 0,
    the replies to it role "bot" and `seq` 1..n, all under the request's client-made `update_key`; the "me" row's
    `answered_at` is set when its replies are stored (a replayed request waits for it and gets the same replies).
    Notifications are stored with role "bot" and no key. `html` is the Telegram-HTML subset (escaped server-side),
    `buttons` the rows as [[{"label", "data"}]], `meta` the reply's extras (e.g. {"qa_id": 3})."""

    __tablename__ = "web_messages"
    __table_args__ = (
        UniqueConstraint("chat_id", "update_key", "seq", name="uq_web_messages_key"),
        Index("ix_web_messages_chat", "chat_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[str] = mapped_column(String(100))
    update_key: Mapped[str | None] = mapped_column(String(64), default=None)
    seq: Mapped[int] = mapped_column(default=0)
    role: Mapped[str] = mapped_column(String(8))  # me | bot
    html: Mapped[str] = mapped_column(Text, default="")
    buttons: Mapped[list | None] = mapped_column(JSON, default=None)
    meta: Mapped[dict | None] = mapped_column(JSON, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
