"""The review queue: items filtered by type, status, category, sector, campaign and date, paged."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from bot.storage.models import Member, Submission
from bot.suggestions.service import TIMEZONE

WAITING = ("submitted", "reviewing")  # what /queue shows: items waiting for a staff decision


@dataclass
class QueueFilter:
    """The queue's filters; empty values do not filter."""

    type: str = ""
    status: str = ""
    category: str = ""
    sector: str = ""
    campaign: int | None = None
    date_from: date | None = None
    date_to: date | None = None
    waiting_only: bool = False


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, TIMEZONE)


def _apply(stmt: Select, f: QueueFilter) -> Select:
    if f.type:
        stmt = stmt.where(Submission.type == f.type)
    if f.status:
        stmt = stmt.where(Submission.status == f.status)
    elif f.waiting_only:
        stmt = stmt.where(Submission.status.in_(WAITING))
    if f.category:
        stmt = stmt.where(Submission.category == f.category)
    if f.sector:
        stmt = stmt.where(Member.sector == f.sector)
    if f.campaign is not None:
        stmt = stmt.where(Submission.campaign_id == f.campaign)
    if f.date_from:
        stmt = stmt.where(Submission.created_at >= _start(f.date_from))
    if f.date_to:
        stmt = stmt.where(Submission.created_at < _start(f.date_to + timedelta(days=1)))
    return stmt


def queue(
    session: Session, f: QueueFilter, page: int = 1, per_page: int = 20
) -> tuple[list[tuple[Submission, Member | None]], int]:
    """One page of matching items (newest first) with their members, and the number of matches."""
    base = select(Submission, Member).outerjoin(Member, Member.id == Submission.member_id)
    stmt = _apply(base, f).order_by(Submission.id.desc())
    total = session.scalar(
        _apply(select(func.count(Submission.id)).outerjoin(Member, Member.id == Submission.member_id), f)
    )
    page = max(page, 1)
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return [(r[0], r[1]) for r in rows], int(total or 0)


def sectors(session: Session) -> list[str]:
    """The sectors members belong to (for the filter)."""
    return [s for s in session.scalars(select(Member.sector).distinct().order_by(Member.sector)) if s]
