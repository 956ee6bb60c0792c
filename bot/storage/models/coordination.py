"""Tables that let several `lvzhi serve` replicas share one database: work leases and shared send/flood limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.storage.models.base import Base, UTCDateTime


class WorkLease(Base):
    """A named piece of work held by one replica until `expires_at` (renewed while it works).

    name: e.g. "broadcast:12" (a campaign's invitation run); owner: the replica id (settings.replica_id).
    A lease whose holder died expires and any replica may take it (bot/storage/leases.py).
    """

    __tablename__ = "work_leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    owner: Mapped[str] = mapped_column(String(100))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RateSlot(Base):
    """A shared rate limit (GCRA): `tat` is the theoretical arrival time of the next send, epoch seconds.

    key: "tg:all" (the bot's overall limit) or "tg:chat:<chat id>" (per chat). PostgreSQL only in practice
    (bot/storage/shared_limits.py); on SQLite the limits are in-process.
    """

    __tablename__ = "rate_slots"

    key: Mapped[str] = mapped_column(String(150), primary_key=True)
    tat: Mapped[float] = mapped_column(Float)


class FloodCount(Base):
    """Events of one flood-limit key (a member, a web address) in one fixed window (epoch seconds // window_s)."""

    __tablename__ = "flood_counts"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    count: Mapped[int] = mapped_column(default=0)
