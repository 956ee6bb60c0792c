"""Scores from the database: a member's activities of a year through the rule table of that year."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.records.engine import Activity, ScoreReport, score
from bot.records.models import DutyActivity
from bot.records.rules import RuleFileError, RuleTable, load_rules, rules_path
from bot.storage.models import Member


class RecordsError(ValueError):
    """Bad input for the duty records (unknown member, bad date, missing rule table); message in Chinese."""


def rule_table(rules_dir: Path, year: int) -> RuleTable:
    """The rule table of a year; RecordsError when there is none or it is malformed."""
    path = rules_path(rules_dir, year)
    if not path.is_file():
        raise RecordsError(f"没有 {year} 年的积分规则表（{path}），请工作人员先添加")
    try:
        return load_rules(path)
    except RuleFileError as exc:
        raise RecordsError(f"{year} 年的积分规则表有误：{exc}") from exc


def find_member(session: Session, text: str) -> Member:
    """A member by id (#12 or 12), phone or exact name; RecordsError if none or several match."""
    text = text.strip().lstrip("#")
    conds = [Member.phone == text, Member.name == text]
    if text.isdigit():
        conds.append(Member.id == int(text))
    found = list(session.scalars(select(Member).where(or_(*conds)).order_by(Member.id)))
    if not found:
        raise RecordsError(f"找不到委员「{text}」（可用编号、手机号或姓名）")
    exact_id = [m for m in found if str(m.id) == text]
    if len(found) > 1 and len(exact_id) != 1:
        names = "、".join(f"#{m.id} {m.name}（{m.sector or '界别未填'}）" for m in found)
        raise RecordsError(f"「{text}」对应多位委员：{names}，请用编号指定")
    return exact_id[0] if len(found) > 1 else found[0]


def activities_of(session: Session, member_id: int, year: int) -> list[Activity]:
    """The member's recorded activities dated in the year, as engine inputs."""
    stmt = select(DutyActivity).where(
        DutyActivity.member_id == member_id,
        DutyActivity.on_date >= date(year, 1, 1),
        DutyActivity.on_date <= date(year, 12, 31),
    )
    return [
        Activity(
            kind=row.kind,
            on=row.on_date,
            reference=row.reference or (row.note[:30] if row.note else ""),
            attributes=dict(row.attributes or {}),
            quantity=Decimal(row.quantity).normalize(),  # Numeric(10,2) reads back as 1.00
        )
        for row in session.scalars(stmt.order_by(DutyActivity.id))
    ]


def member_report(session: Session, member_id: int, table: RuleTable) -> ScoreReport:
    """The member's score for the table's year, line by line."""
    return score(activities_of(session, member_id, table.year), table)


def all_reports(session: Session, table: RuleTable) -> Iterator[tuple[str, str, ScoreReport]]:
    """(name, sector, report) for every active member in id order, one member at a time."""
    ids = list(session.scalars(select(Member.id).where(Member.active.is_(True)).order_by(Member.id)))
    for member_id in ids:
        member = session.get(Member, member_id)
        yield member.name, member.sector, member_report(session, member_id, table)
        session.expunge_all()  # keep memory flat over thousands of members
