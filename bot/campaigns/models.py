"""Campaign tables: the call for opinions and one delivery row per broadcast recipient."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime, utcnow


class Campaign(Base):
    """A call for opinions (征集活动) with its theme, audience and dates."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[dict] = mapped_column(
        JSON, default=dict
    )  # {"kind": "members"|"sectors"|"public", "sectors": [...]}
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20), default="draft")  # draft / open / closed
    created_by: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CampaignDelivery(Base):
    """One recipient of a campaign's broadcast and what happened to their message."""

    __tablename__ = "campaign_deliveries"
    __table_args__ = (
        UniqueConstraint("campaign_id", "chat_id"),
        Index("ix_campaign_deliveries_state", "campaign_id", "state", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    chat_id: Mapped[str] = mapped_column(String(100))
    identity_id: Mapped[int | None] = mapped_column(ForeignKey("chat_identities.id"))
    # pending → sending → sent | failed | blocked | unknown (crashed mid-send: not resent, see broadcast.py)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    message_id: Mapped[str] = mapped_column(String(50), default="")
    error: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
