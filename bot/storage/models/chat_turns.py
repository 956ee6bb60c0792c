"""The last turns of each chat, kept so that follow-up questions can be understood."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class ChatTurn(Base):
    """One question of a chat, the standalone question it was read as, and the answer given."""

    __tablename__ = "chat_turns"
    __table_args__ = (Index("ix_chat_turns_chat", "channel", "chat_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    question: Mapped[str] = mapped_column(Text)
    standalone: Mapped[str] = mapped_column(Text, default="")
    answer: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
