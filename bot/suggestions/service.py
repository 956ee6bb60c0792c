"""Submitting suggestions (receipt numbers) and listing a member's items."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from bot.records.recorder import sync_submission
from bot.storage.models import Attachment, ChatIdentity, ReceiptCounter, StatusChange, Submission
from bot.suggestions.types import catalog
from bot.suggestions.views import is_private
from bot.suggestions.workflow import INITIAL

TIMEZONE = ZoneInfo("Asia/Shanghai")


def next_receipt(session: Session, prefix: str, year: int) -> str:
    """Allocate the next receipt number, e.g. TA-2026-0001 (atomic per prefix and year)."""
    for _ in range(5):
        value = session.execute(
            update(ReceiptCounter)
            .where(ReceiptCounter.prefix == prefix, ReceiptCounter.year == year)
            .values(value=ReceiptCounter.value + 1)
            .returning(ReceiptCounter.value)
        ).scalar_one_or_none()
        if value is not None:
            return f"{prefix}-{year}-{value:04d}"
        try:
            with session.begin_nested():
                session.add(ReceiptCounter(prefix=prefix, year=year, value=0))
        except IntegrityError:
            continue  # another writer created the counter first; retry the update
    raise RuntimeError("could not allocate a receipt number")


def submit(session: Session, identity: ChatIdentity, type_key: str, draft: dict) -> Submission:
    """Store a completed draft as a submission with status 提交 and its attachments."""
    stype = catalog().get(type_key)
    values = {f.key: (draft.get("fields", {}).get(f.key) or "") for f in stype.fields}
    receipt = next_receipt(session, stype.prefix, datetime.now(TIMEZONE).year)
    item = Submission(
        receipt_no=receipt,
        type=type_key,
        category=draft.get("category", ""),
        title=stype.title_of(values)[:300],
        fields=values,
        status=INITIAL,
        member_id=identity.member_id,
        identity_id=identity.id,
        private=is_private(
            {**draft, "fields": values}
        ),  # the author's choice; a text-derived title stays private
    )
    session.add(item)
    session.flush()
    for a in draft.get("attachments", []):
        session.add(
            Attachment(
                submission_id=item.id,
                kind=a.get("kind", "document"),
                file_id=a.get("file_id", ""),
                file_name=a.get("file_name", ""),
                local_path=a.get("local_path", ""),
            )
        )
    session.add(StatusChange(submission_id=item.id, from_status=None, to_status=INITIAL, actor="member"))
    session.flush()
    sync_submission(session, item)  # the duty record counts the submission (idempotent)
    return item


def list_for(session: Session, identity: ChatIdentity, limit: int = 10) -> list[Submission]:
    """The latest submissions of this identity's member (or of the identity when unbound)."""
    cond = Submission.identity_id == identity.id
    if identity.member_id is not None:
        cond = or_(cond, Submission.member_id == identity.member_id)
    stmt = select(Submission).where(cond).order_by(Submission.id.desc()).limit(limit)
    return list(session.scalars(stmt))


def get_by_receipt(session: Session, receipt_no: str) -> Submission | None:
    """The submission with this receipt number, with attachments and history loaded."""
    stmt = (
        select(Submission)
        .where(Submission.receipt_no == receipt_no.strip().upper())
        .options(selectinload(Submission.attachments), selectinload(Submission.history))
    )
    return session.scalars(stmt).first()
