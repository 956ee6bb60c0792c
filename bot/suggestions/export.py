"""Export of all submissions with their fields and status as CSV or XLSX."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.storage.models import Member, Submission
from bot.suggestions.types import catalog

BASE_COLUMNS = ["受理编号", "类型", "类别/活动", "标题", "状态", "委员", "界别", "提交时间", "附件数"]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """Neutralise spreadsheet formulas in text cells."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def field_columns() -> list[tuple[str, str, str]]:
    """(type key, field key, header) for every field of every type."""
    return [(t.key, f.key, f"{t.name}·{f.label}") for t in catalog().types for f in t.fields]


def rows(session: Session) -> Iterator[list[object]]:
    """The header row then one row per submission, streamed in id order."""
    cat = catalog()
    fcols = field_columns()
    yield BASE_COLUMNS + [h for _, _, h in fcols]
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
        yield [_cell(v) for v in base + extra]


def export(session: Session, out: Path, fmt: str) -> int:
    """Write all submissions to `out` as csv or xlsx; the number of submissions written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    count = -1
    if fmt == "csv":
        with out.open("w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            for row in rows(session):
                writer.writerow(row)
                count += 1
        return count
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("提交事项")
    for row in rows(session):
        ws.append(row)
        count += 1
    wb.save(out)
    return count
