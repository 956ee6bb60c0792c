"""Web-chat sessions: a server-made token in the `lvzhi_web` cookie, its hash here, and the chat it opens."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class WebSession(Base):
    """One browser's session of the web chat (migration 0602).

    `external_id` is the chat's key (ChatRef user and chat id), made by the server and never sent to the browser;
    `member_id` is the member the chat was bound to when the token was issued (a change rotates the token)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)  # sha256 hex of the cookie value
    external_id: Mapped[str] = mapped_column(String(100), index=True)
    member_id: Mapped[int | None] = mapped_column(default=None, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
