"""Conversation state: the flow draft per chat and processed update ids (idempotency)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class FlowState(Base):
    """The suggestion flow a chat is in: type, step and the draft typed so far."""

    __tablename__ = "flow_states"
    __table_args__ = (UniqueConstraint("channel", "chat_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[str] = mapped_column(String(20))
    chat_id: Mapped[str] = mapped_column(String(100))
    identity_id: Mapped[int] = mapped_column(ForeignKey("chat_identities.id"), index=True)
    flow: Mapped[str] = mapped_column(String(30))  # suggestion type key
    step: Mapped[str] = mapped_column(String(40))
    draft: Mapped[dict] = mapped_column(JSON, default=dict)
    paused: Mapped[bool] = mapped_column(default=False)  # idle timeout: the draft is kept
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProcessedUpdate(Base):
    """An update already handled; a redelivery with the same key is ignored."""

    __tablename__ = "processed_updates"

    channel: Mapped[str] = mapped_column(String(20), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(100), primary_key=True)
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
