"""`lvzhi records add|show|mark|sync` and `lvzhi export scores`: staff commands over the database."""

from __future__ import annotations

import argparse
import contextlib
import sys
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.prompts import render
from bot.records.conditions import parse_condition
from bot.records.export import HEADER, SUMMARY_HEADER, score_line_rows, score_summary_rows
from bot.records.render import render_report
from bot.records.scores import RecordsError, all_reports, find_member, member_report, rule_table
from bot.records.vocabulary import ACTIVITY_TYPES, ATTRIBUTES
from bot.services import build_services

MARK_NAMES = {
    "key": "key",
    "重点提案": "key",
    "leader_comment": "leader_comment",
    "领导批示": "leader_comment",
}


def register_db_commands(sub: argparse._SubParsersAction) -> None:
    """Add the database-backed records sub-commands to `lvzhi records`."""
    add = sub.add_parser("add", help="手工录入一项履职活动（如出席会议、参加培训）")
    add.add_argument("member", help="委员编号、手机号或姓名")
    add.add_argument("kind", help=f"活动代码：{'、'.join(ACTIVITY_TYPES)}")
    add.add_argument("date", help="日期，如 2026-03-05")
    add.add_argument("--note", default="", help="说明，如会议名称")
    add.add_argument("--attr", action="append", default=[], help="属性，如 attended、meeting_type=全体会议")
    add.add_argument("--quantity", default="1", help="数量（默认 1）")
    add.add_argument("--by", default="staff", help="录入人")
    add.set_defaults(func=_add)
    show = sub.add_parser("show", help="某位委员的履职档案和积分（逐行说明）")
    show.add_argument("member")
    show.add_argument("--year", type=int, default=None)
    show.set_defaults(func=_show)
    mark = sub.add_parser("mark", help="标记事项：重点提案（key）或获领导批示（leader_comment）")
    mark.add_argument("receipt")
    mark.add_argument("what", help="key/重点提案 或 leader_comment/领导批示")
    mark.add_argument("--level", default="", help="批示级别：市级/省级/全国")
    mark.set_defaults(func=_mark)
    sync = sub.add_parser("sync", help="按全部事项重新核对自动记录的履职活动（可重复运行）")
    sync.set_defaults(func=_sync)


def _fail(message: str) -> int:
    print(f"错误：{message}", file=sys.stderr)
    return 2


def parse_attributes(items: list[str]) -> dict[str, object]:
    """'attended' → True, 'meeting_type=全体会议' → text; checked against the condition vocabulary."""
    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition("=")
        name = name.strip()
        if name not in ATTRIBUTES:
            known = "、".join(f"{k}（{v}）" for k, v in ATTRIBUTES.items())
            raise RecordsError(f"未知属性「{name}」，可用：{known}")
        parse_condition(item if sep else name)  # same syntax as the rule table
        out[name] = value.strip() if sep else True
    return out


def _add(args: argparse.Namespace) -> int:
    from bot.records.recorder import add_manual

    try:
        on = date.fromisoformat(args.date.strip())
    except ValueError:
        return _fail(f"日期「{args.date}」格式不对，应写成 2026-03-05")
    kind = args.kind.strip()
    try:
        quantity = Decimal(args.quantity)
    except InvalidOperation:
        return _fail(f"数量「{args.quantity}」不是数字")
    services = build_services()
    try:
        known = set(ACTIVITY_TYPES)
        with contextlib.suppress(RecordsError):  # no table for that year yet: the vocabulary alone decides
            known |= {r.activity for r in rule_table(services.settings.resolved_rules_dir, on.year).rules}
        if kind not in known:
            raise RecordsError(f"未知活动代码「{kind}」，可用：{'、'.join(sorted(known))}")
        attributes = parse_attributes(args.attr)
        with services.db.session() as s:
            member = find_member(s, args.member)
            row = add_manual(s, member.id, kind, on, args.by, args.note, attributes, quantity)
            name, row_id = member.name, row.id
    except RecordsError as exc:
        return _fail(str(exc))
    print(
        render(
            "records/added",
            id=row_id,
            name=name,
            date=on.isoformat(),
            activity=ACTIVITY_TYPES.get(kind, kind),
        )
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    services = build_services()
    year = args.year or datetime.now().year
    try:
        table = rule_table(services.settings.resolved_rules_dir, year)
        with services.db.session() as s:
            member = find_member(s, args.member)
            report = member_report(s, member.id, table)
            title = f"{member.name}（{member.sector or '界别未填'}）"
    except RecordsError as exc:
        return _fail(str(exc))
    print(title)
    print(render_report(report))
    return 0


def _mark(args: argparse.Namespace) -> int:
    from bot.records.recorder import set_mark
    from bot.suggestions.service import get_by_receipt

    what = MARK_NAMES.get(args.what.strip())
    if what is None:
        return _fail(f"不认识「{args.what}」，可用：key（重点提案）、leader_comment（领导批示）")
    services = build_services()
    with services.db.session() as s:
        item = get_by_receipt(s, args.receipt)
        if item is None:
            return _fail(f"找不到受理编号为 {args.receipt} 的事项")
        if what == "key" and item.type != "proposal":
            return _fail(f"{item.receipt_no} 不是提案，不能标记为重点提案")
        count = set_mark(s, item, what)
        if args.level:
            set_mark(s, item, "comment_level", args.level.strip())
    print(render("records/marked", receipt=item.receipt_no, what=args.what, count=count))
    return 0


def _sync(args: argparse.Namespace) -> int:
    from bot.records.recorder import sync_all

    services = build_services()
    with services.db.session() as s:
        count = sync_all(s)
    print(render("records/synced", count=count))
    return 0


def export_scores(args: argparse.Namespace) -> int:
    """`lvzhi export scores --year Y --format csv|xlsx [--summary]`: everyone's lines (or totals), streamed."""
    from bot.exports import write_csv, write_xlsx

    services = build_services()
    year = args.year or datetime.now().year
    out: Path = args.out or services.settings.data_dir / "exports" / (
        f"scores-{year}-{datetime.now():%Y%m%d-%H%M%S}.{args.format}"
    )
    try:
        table = rule_table(services.settings.resolved_rules_dir, year)
    except RecordsError as exc:
        return _fail(str(exc))
    summary = getattr(args, "summary", False)
    rows_of, header = (score_summary_rows, SUMMARY_HEADER) if summary else (score_line_rows, HEADER)
    with services.db.session() as s:
        rows = rows_of(all_reports(s, table))
        if args.format == "csv":
            count = write_csv(rows, out, header)
        else:
            count = write_xlsx(rows, out, header, sheet=f"{year}年履职积分")
    print(render("records/exported", count=count, year=year, out=str(out)))
    return 0
