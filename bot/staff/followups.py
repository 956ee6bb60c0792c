"""The staff's list of questions to follow up (members who pressed 「联系工作人员」), and marking one done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat.models import FollowUp
from bot.staff import audit
from bot.staff.accounts import Staff, StaffError
from bot.staff.texts import t
from bot.storage.models import ChatIdentity, Member, utcnow


@dataclass(frozen=True)
class FollowUpRow:
    """One question on the list: who asked (member name and sector, or the chat's display name), where and when."""

    id: int
    question: str
    who: str
    sector: str
    channel: str
    asked_at: datetime
    done_at: datetime | None
    done_by: str


def listing(session: Session, done: bool = False, limit: int = 200) -> list[FollowUpRow]:
    """Open questions oldest first (done=False), or the latest done ones newest first (done=True)."""
    stmt = (
        select(FollowUp, Member, ChatIdentity)
        .join(ChatIdentity, ChatIdentity.id == FollowUp.identity_id)
        .outerjoin(Member, Member.id == FollowUp.member_id)
    )
    if done:
        stmt = stmt.where(FollowUp.done_at.is_not(None)).order_by(FollowUp.done_at.desc())
    else:
        stmt = stmt.where(FollowUp.done_at.is_(None)).order_by(FollowUp.id)
    out = []
    for row, member, ident in session.execute(stmt.limit(limit)):
        who = member.name if member else (ident.display_name or t("followup_guest"))
        out.append(
            FollowUpRow(row.id, row.question, who, member.sector if member else "", row.channel, row.created_at,
                        row.done_at, row.done_by)
        )  # fmt: skip
    return out


def mark_done(session: Session, staff: Staff, followup_id: int) -> FollowUp:
    """Mark one question followed up (audited as "followup_done"); StaffError when it is unknown or done."""
    row = session.get(FollowUp, followup_id, with_for_update=True)
    if row is None:
        raise StaffError(t("followup_not_found", id=followup_id))
    if row.done_at is not None:
        raise StaffError(t("followup_already", id=followup_id, by=row.done_by))
    row.done_at, row.done_by = utcnow(), staff.username
    audit.record(
        session, staff.username, "followup_done", f"followup:{row.id}", {"done": False}, {"done": True},
        staff.channel,
    )  # fmt: skip
    return row
