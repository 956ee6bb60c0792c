"""Overdue items (no reply within LVZHI_REPLY_DUE_DAYS) and reminders to whoever handles them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.members.service import identity_for
from bot.staff import audit
from bot.staff.accounts import Staff, StaffError
from bot.staff.models import Assignment, Reminder, StaffAccount
from bot.staff.review import load
from bot.staff.texts import t
from bot.storage.models import Notification, Submission, utcnow
from bot.suggestions.types import catalog

AWAITING_REPLY = ("submitted", "reviewing", "accepted", "assigned", "handling")
REPLIED_TYPES = ("proposal", "micro")  # the types whose workflow ends in a reply (已答复)


@dataclass
class OverdueItem:
    """One overdue item for the list."""

    receipt: str
    title: str
    status: str
    days_over: int
    lead: str
    contact: str
    staff: str
    reminders: int


def overdue(session: Session, due_days: int) -> list[OverdueItem]:
    """Items waiting for a reply longer than due_days since submission, the longest first."""
    now = utcnow()
    stmt = (
        select(Submission)
        .where(Submission.type.in_(REPLIED_TYPES), Submission.status.in_(AWAITING_REPLY))
        .where(Submission.created_at < now - timedelta(days=due_days))
        .order_by(Submission.created_at)
    )
    cat = catalog()
    out = []
    for item in session.scalars(stmt):
        lead = session.scalar(
            select(Assignment).where(Assignment.submission_id == item.id, Assignment.role == "lead")
            .order_by(Assignment.id.desc())
        )  # fmt: skip
        count = len(list(session.scalars(select(Reminder.id).where(Reminder.submission_id == item.id))))
        out.append(
            OverdueItem(
                item.receipt_no, item.title, cat.status_label(item.status),
                (now - item.created_at).days - due_days, lead.body if lead else "",
                lead.contact if lead else "", lead.staff if lead else "", count,
            )
        )  # fmt: skip
    return out


def remind(session: Session, staff: Staff, receipt: str) -> list[str]:
    """Remind the lead body (its contact is recorded for the office) and the staff who follows it (Telegram)."""
    item = load(session, receipt)
    if item.status not in AWAITING_REPLY:
        raise StaffError(t("err_remind_done", receipt=item.receipt_no))
    lead = session.scalar(
        select(Assignment).where(Assignment.submission_id == item.id, Assignment.role == "lead")
        .order_by(Assignment.id.desc())
    )  # fmt: skip
    if lead is None:
        raise StaffError(t("err_remind_unassigned", receipt=item.receipt_no))
    who: list[str] = []
    recipient = lead.body + (f"（{lead.contact}）" if lead.contact else "")
    session.add(Reminder(submission_id=item.id, recipient=recipient, via="record", staff=staff.username))
    who.append(recipient)
    account = session.scalar(select(StaffAccount).where(StaffAccount.username == lead.staff))
    if account is not None and account.telegram_id and account.active:
        ident = identity_for(
            session, "telegram", account.telegram_id, account.telegram_id, account.display_name
        )
        days = (utcnow() - item.created_at).days
        html = t("reminder", receipt=item.receipt_no, title=item.title, body=lead.body, days=days)
        session.add(Notification(identity_id=ident.id, channel="telegram", chat_id=ident.chat_id, kind="reminder",
                                 html=html, submission_id=item.id))  # fmt: skip
        session.add(
            Reminder(submission_id=item.id, recipient=account.username, via="telegram", staff=staff.username)
        )
        who.append(account.display_name or account.username)
    audit.record(
        session, staff.username, "remind", f"submission:{item.receipt_no}", None, {"to": who}, staff.channel
    )
    return who
