"""Recording duty activities: derived idempotently from submissions, status history and supporters, or by hand."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from bot.records.models import DutyActivity
from bot.storage.models import StatusChange, Submission, utcnow
from bot.suggestions.models import Supporter

TIMEZONE = ZoneInfo("Asia/Shanghai")
# submission type → activity code of the rule table
KIND_OF_TYPE = {"proposal": "proposal", "opinion": "opinion", "micro": "micro", "campaign": "campaign_answer"}
SUPPORT_KIND = "support"  # 附议 of a non-proposal item (no rule in the sample table: listed with 0 points)
# statuses whose reaching sets an attribute on the item's activities
STATUS_FLAGS = {"accepted": "accepted", "adopted": "adopted"}
# attributes staff set by hand on an item (key proposal, leader's comment); shared by all its activities
MARKS = ("key", "leader_comment", "comment_level", "selected", "excellent")
FIRST, COSIGN = "第一提案人", "联名"


def local_date(moment: datetime) -> date:
    """The calendar date in the committee's time zone."""
    return moment.astimezone(TIMEZONE).date()


def activity_key(submission_id: int, member_id: int) -> str:
    """The idempotency key of the activity a member earns through one submission."""
    return f"sub:{submission_id}:m:{member_id}"


def sync_submission(session: Session, item: Submission) -> list[DutyActivity]:
    """Bring the automatic activities of one submission in line with its state; safe to run any number of times."""
    session.flush()
    kind = KIND_OF_TYPE.get(item.type)
    if kind is None:
        return []
    reached = set(
        session.scalars(select(StatusChange.to_status).where(StatusChange.submission_id == item.id))
    )
    flags = {attr: True for status, attr in STATUS_FLAGS.items() if status in reached}
    existing = {
        a.key: a
        for a in session.scalars(
            select(DutyActivity).where(DutyActivity.submission_id == item.id, DutyActivity.source == "auto")
        )
    }
    marks = {k: v for a in existing.values() for k, v in a.attributes.items() if k in MARKS}
    wanted: dict[str, tuple[int, str, date, dict]] = {}
    if item.member_id is not None:
        attrs = {"role": FIRST} if kind == "proposal" else {}
        wanted[activity_key(item.id, item.member_id)] = (
            item.member_id,
            kind,
            local_date(item.created_at),
            {**attrs, **flags, **marks},
        )
    supporters = session.scalars(
        select(Supporter).where(Supporter.submission_id == item.id, Supporter.member_id.is_not(None))
    )
    for sup in supporters:
        key = activity_key(item.id, sup.member_id)
        if key in wanted:
            continue
        if kind == "proposal":
            wanted[key] = (
                sup.member_id,
                kind,
                local_date(sup.created_at),
                {"role": COSIGN, **flags, **marks},
            )
        else:
            wanted[key] = (sup.member_id, SUPPORT_KIND, local_date(sup.created_at), {"of": kind})
    out = []
    for key, (member_id, act_kind, on, attrs) in wanted.items():
        row = existing.pop(key, None)
        if row is None:
            row = DutyActivity(key=key, member_id=member_id, submission_id=item.id, source="auto")
            session.add(row)
        if (row.kind, row.on_date, row.reference, row.attributes) != (act_kind, on, item.receipt_no, attrs):
            row.kind, row.on_date, row.reference, row.attributes = act_kind, on, item.receipt_no, attrs
            flag_modified(row, "attributes")
            row.updated_at = utcnow()
        out.append(row)
    for stale in existing.values():  # e.g. a supporter moved elsewhere by a merge
        session.delete(stale)
    session.flush()
    return out


def set_mark(session: Session, item: Submission, mark: str, value: object = True) -> int:
    """Set a staff mark (e.g. key = 重点提案) on every activity of the item; the number of activities."""
    if mark not in MARKS:
        raise ValueError(mark)
    rows = sync_submission(session, item)
    for row in rows:
        if row.kind == SUPPORT_KIND:
            continue
        row.attributes = {**row.attributes, mark: value}
        flag_modified(row, "attributes")
        row.updated_at = utcnow()
    session.flush()
    return len(rows)


def add_manual(
    session: Session,
    member_id: int,
    kind: str,
    on: date,
    entered_by: str,
    note: str = "",
    attributes: dict | None = None,
    quantity: Decimal = Decimal(1),
) -> DutyActivity:
    """An activity staff enter by hand (a meeting attended, a training)."""
    row = DutyActivity(
        member_id=member_id,
        kind=kind,
        on_date=on,
        reference="",
        attributes=dict(attributes or {}),
        quantity=quantity,
        source="manual",
        entered_by=entered_by,
        note=note,
    )
    session.add(row)
    session.flush()
    return row


def sync_all(session: Session) -> int:
    """Re-derive the automatic activities of every submission (after an import or a repair); the count synced."""
    ids = list(session.scalars(select(Submission.id).order_by(Submission.id)))
    for submission_id in ids:
        sync_submission(session, session.get(Submission, submission_id))
    return len(ids)
