"""Export of all submissions with their fields and status as CSV or XLSX (through bot.exports' writers)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.exports import write_csv, write_xlsx
from bot.storage.models import Member, Submission
from bot.suggestions.types import catalog

BASE_COLUMNS = ["受理编号", "类型", "类别/活动", "标题", "状态", "委员", "界别", "提交时间", "附件数"]


def field_columns() -> list[tuple[str, str, str]]:
    """(type key, field key, header) for every field of every type."""
    return [(t.key, f.key, f"{t.name}·{f.label}") for t in catalog().types for f in t.fields]


def header() -> list[str]:
    """The header row: the base columns, then one column per field of every type."""
    return BASE_COLUMNS + [h for _, _, h in field_columns()]


def rows(session: Session) -> Iterator[list[object]]:
    """One row per submission (values as stored, no formula guard), streamed in id order."""
    cat = catalog()
    fcols = field_columns()
    stmt = (
        select(Submission, Member)
        .outerjoin(Member, Member.id == Submission.member_id)
        .order_by(Submission.id)
    )
    for item, member in session.execute(stmt.execution_options(yield_per=500)):
        base = [
            item.receipt_no,
            cat.get(item.type).name,
            item.category,
            item.title,
            cat.status_label(item.status),
            member.name if member else "",
            member.sector if member else "",
            item.created_at.strftime("%Y-%m-%d %H:%M"),
            len(item.attachments),
        ]
        extra = [item.fields.get(fk, "") if tk == item.type else "" for tk, fk, _ in fcols]
        yield base + extra


def export(session: Session, out: Path, fmt: str) -> int:
    """Write all submissions to `out` as "csv" or "xlsx"; the number of submissions written.

    CSV text that a spreadsheet could run as a formula gets a leading apostrophe; XLSX cells hold the exact text
    as text cells (bot.exports.cells).
    """
    if fmt == "csv":
        return write_csv(rows(session), out, header())
    return write_xlsx(rows(session), out, header(), sheet="提交事项")
