"""`lvzhi records …`: check a rule file, explain a score from an activities file."""

from __future__ import annotations

import argparse
import csv
from datetime import date
from decimal import Decimal
from pathlib import Path

from bot.prompts import render
from bot.records.engine import Activity, score
from bot.records.render import render_report
from bot.records.rules import RuleFileError, load_rules


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `records` sub-commands."""
    parser = subparsers.add_parser("records", help="履职档案与积分规则")
    sub = parser.add_subparsers(dest="records_command", required=True)
    check = sub.add_parser("check", help="检查积分规则表的格式")
    check.add_argument("rules", type=Path)
    check.set_defaults(func=_check)
    explain = sub.add_parser("score", help="按规则表为一份活动清单（CSV）计分并逐行说明")
    explain.add_argument("rules", type=Path)
    explain.add_argument("activities", type=Path, help="CSV：kind,date,reference,quantity 及其余属性列")
    explain.set_defaults(func=_score)
    from bot.records.db_cli import register_db_commands

    register_db_commands(sub)


def _check(args: argparse.Namespace) -> int:
    try:
        table = load_rules(args.rules)
    except RuleFileError as exc:
        print(render("records/rules_invalid", error=str(exc)))
        return 1
    print(
        render(
            "records/rules_ok",
            source=table.source,
            version=table.version,
            year=table.year,
            count=len(table.rules),
        )
    )
    return 0


def read_activities(path: Path) -> list[Activity]:
    """Activities from a CSV with columns kind, date, reference, quantity and attribute columns."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    fixed = {"kind", "date", "reference", "quantity"}
    return [
        Activity(
            kind=row["kind"].strip(),
            on=date.fromisoformat(row["date"].strip()),
            reference=(row.get("reference") or "").strip(),
            attributes={k: v.strip() for k, v in row.items() if k not in fixed and v and v.strip()},
            quantity=Decimal(row.get("quantity") or 1),
        )
        for row in rows
    ]


def _score(args: argparse.Namespace) -> int:
    try:
        table = load_rules(args.rules)
    except RuleFileError as exc:
        print(render("records/rules_invalid", error=str(exc)))
        return 1
    print(render_report(score(read_activities(args.activities), table)))
    return 0
