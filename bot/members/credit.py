"""Crediting a guest's earlier items to the member they bind as (issue 10: guests who bind later)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.records.recorder import sync_submission
from bot.storage.models import ChatIdentity, Submission
from bot.suggestions.models import Supporter


def credit_guest_items(session: Session, identity: ChatIdentity) -> list[str]:
    """Give the identity's member what this chat submitted or supported as a guest (member_id still empty).

    Submissions and supports (联名/附议) made in the same chat identity before binding get the member; each item's
    duty record is brought up to date (bot.records.recorder.sync_submission), so /record and the staff pages show
    the member as its author. Items already credited to someone are left alone. Returns the receipt numbers
    credited, oldest first; nothing happens for an unbound identity."""
    if identity.member_id is None:
        return []
    items = list(
        session.scalars(
            select(Submission)
            .where(Submission.identity_id == identity.id, Submission.member_id.is_(None))
            .order_by(Submission.id)
        )
    )
    for item in items:
        item.member_id = identity.member_id
    supports = list(
        session.scalars(
            select(Supporter).where(Supporter.identity_id == identity.id, Supporter.member_id.is_(None))
        )
    )
    for sup in supports:
        sup.member_id = identity.member_id
    session.flush()
    touched = {item.id: item for item in items}
    for sup in supports:
        touched.setdefault(sup.submission_id, session.get(Submission, sup.submission_id))
    for item in touched.values():
        sync_submission(session, item)
    return [item.receipt_no for item in items]
