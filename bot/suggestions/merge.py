"""Merging a duplicate into another item: both texts kept, supporters moved, the duplicate marked merged."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.chat import script
from bot.chat.texts import own, say
from bot.records.recorder import sync_submission
from bot.storage.models import ChatIdentity, Notification, StatusChange, Submission, utcnow
from bot.suggestions.models import SubmissionMerge, Supporter
from bot.suggestions.service import get_by_receipt
from bot.suggestions.status import StatusError
from bot.suggestions.types import catalog

MERGED = "merged"


def merge(session: Session, duplicate_no: str, into_no: str, actor: str = "staff") -> SubmissionMerge:
    """Merge DUPLICATE into INTO; StatusError (Chinese) when the move makes no sense."""
    dup, into = get_by_receipt(session, duplicate_no), get_by_receipt(session, into_no)
    for receipt, item in ((duplicate_no, dup), (into_no, into)):
        if item is None:
            raise StatusError(f"找不到受理编号为 {receipt} 的事项")
    if dup.id == into.id:
        raise StatusError("不能把一件事项并入它自己")
    if dup.type != into.type:
        cat = catalog()
        raise StatusError(
            f"{dup.receipt_no} 是{cat.get(dup.type).name}，{into.receipt_no} 是{cat.get(into.type).name}，只能合并同类事项"
        )
    if dup.status == MERGED:
        raise StatusError(f"{dup.receipt_no} 已经并案，不能再次合并")
    if into.status == MERGED:
        target = session.scalar(
            select(SubmissionMerge.into_id).where(SubmissionMerge.duplicate_id == into.id)
        )
        hint = f"，请并入 {session.get(Submission, target).receipt_no}" if target else ""
        raise StatusError(f"{into.receipt_no} 本身已并案{hint}")
    _move_supporters(session, dup, into)
    session.add(
        StatusChange(
            submission_id=dup.id,
            from_status=dup.status,
            to_status=MERGED,
            reason=f"并入 {into.receipt_no}《{into.title}》",
            actor=actor,
        )
    )
    dup.status, dup.updated_at = MERGED, utcnow()
    row = SubmissionMerge(duplicate_id=dup.id, into_id=into.id, actor=actor)
    session.add(row)
    _notify(session, dup, into)
    session.flush()
    sync_submission(session, dup)
    sync_submission(session, into)
    return row


def _move_supporters(session: Session, dup: Submission, into: Submission) -> None:
    """Supporters of the duplicate support the kept item (once; never its own author)."""
    for sup in list(session.scalars(select(Supporter).where(Supporter.submission_id == dup.id))):
        same = Supporter.identity_id == sup.identity_id
        if sup.member_id is not None:
            same = or_(same, Supporter.member_id == sup.member_id)
        taken = session.scalar(select(Supporter.id).where(Supporter.submission_id == into.id, same))
        is_author = sup.identity_id == into.identity_id or (
            sup.member_id is not None and sup.member_id == into.member_id
        )
        if taken or is_author:
            session.delete(sup)
        else:
            sup.submission_id, sup.moved_from_id = into.id, dup.id
    session.flush()


def _notify(session: Session, dup: Submission, into: Submission) -> None:
    author = session.get(ChatIdentity, dup.identity_id)
    if author is None:
        return
    trad = script.traditional_of(author)
    html = say(
        "merged_notice",
        trad,
        type_name=own(catalog().get(dup.type).name, trad),
        receipt=dup.receipt_no,
        title=dup.title,
        into_receipt=into.receipt_no,
        into_title=into.title,
    )
    session.add(
        Notification(
            identity_id=author.id,
            channel=author.channel,
            chat_id=author.chat_id,
            kind="status",
            html=html,
            submission_id=dup.id,
        )
    )
