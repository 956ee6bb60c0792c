"""Export of replies and their ratings (one row per reply) through the streaming writers of bot.exports."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.exports import write_table
from bot.exports.writers import csv_chunks
from bot.staff.models import Assignment, SubmissionReply
from bot.storage.models import Member, Submission
from bot.suggestions.service import TIMEZONE
from bot.suggestions.types import catalog

HEADER = ["受理编号", "类型", "标题", "委员", "界别", "状态", "主办单位", "协办单位", "答复等级", "答复内容",
          "答复时间", "录入人", "委员评价", "评价时间"]  # fmt: skip


def _local(moment: datetime | None) -> datetime | None:
    """Local (Asia/Shanghai) time without a zone: spreadsheets have no time zones."""
    return moment.astimezone(TIMEZONE).replace(tzinfo=None) if moment is not None else None


def rows(session: Session) -> Iterator[list[object]]:
    """One row per reply, in reply order, streamed."""
    cat = catalog()
    stmt = (
        select(SubmissionReply, Submission, Member)
        .join(Submission, Submission.id == SubmissionReply.submission_id)
        .outerjoin(Member, Member.id == Submission.member_id)
        .order_by(SubmissionReply.id)
    )
    for reply, item, member in session.execute(stmt.execution_options(yield_per=500)):
        bodies = session.execute(
            select(Assignment.body, Assignment.role)
            .where(Assignment.submission_id == item.id)
            .order_by(Assignment.id)
        ).all()
        yield [
            item.receipt_no, cat.get(item.type).name, item.title, member.name if member else "",
            member.sector if member else "", cat.status_label(item.status),
            "、".join(b for b, r in bodies if r == "lead"), "、".join(b for b, r in bodies if r == "assist"),
            reply.grade, reply.text, _local(reply.created_at), reply.staff, reply.rating or "", _local(reply.rated_at),
        ]  # fmt: skip


def export(session: Session, out: Path) -> int:
    """Write the replies and ratings to a .csv or .xlsx file; the number of rows."""
    return write_table(rows(session), out, HEADER, sheet="答复与评价")


def csv_stream(session: Session) -> Iterator[bytes]:
    """The CSV bytes for a streamed download."""
    return csv_chunks(rows(session), HEADER)
