"""`lvzhi suggestions set-status` and `lvzhi export suggestions`."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from pathlib import Path

from bot.services import build_services


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the suggestions and export commands."""
    sug = subparsers.add_parser("suggestions", help="提交事项（提案、社情民意信息、微建议、征集意见）")
    sub = sug.add_subparsers(dest="suggestions_command", required=True)
    st = sub.add_parser("set-status", help="修改事项状态并通知委员")
    st.add_argument("receipt", help="受理编号，如 TA-2026-0001")
    st.add_argument("status", help="新状态（键或中文，如 reviewing 或 审查）")
    st.add_argument("--reason", default="", help="理由（不予立案、未采用时必填）")
    st.add_argument("--actor", default="staff", help="操作人")
    st.set_defaults(func=set_status_cmd)
    mg = sub.add_parser(
        "merge", help="合并重复事项：保留两份内容，联名/附议人移到保留的事项，通知重复事项的提交人"
    )
    mg.add_argument("duplicate", help="重复的事项受理编号")
    mg.add_argument("into", help="保留的事项受理编号")
    mg.add_argument("--actor", default="staff", help="操作人")
    mg.set_defaults(func=merge_cmd)

    exp = subparsers.add_parser("export", help="导出数据")
    exp.add_argument(
        "what",
        choices=["suggestions", "scores", "campaign-answers", "replies"],
        help="导出什么（scores：委员履职积分；campaign-answers：某个征集活动的意见）",
    )
    exp.add_argument("id", nargs="?", default=None, help="征集活动编号（campaign-answers）")
    exp.add_argument("--year", type=int, default=None, help="积分年度（scores，默认今年）")
    exp.add_argument("--summary", action="store_true", help="每位委员一行合计（scores，默认逐行说明）")
    exp.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    exp.add_argument("--out", type=Path, default=None, help="输出文件（默认 data_dir/exports/…）")
    exp.set_defaults(func=export_cmd)


def set_status_cmd(args: argparse.Namespace) -> int:
    """Move an item along its workflow; the member is notified by the running bot."""
    from bot.suggestions.status import StatusError, set_status
    from bot.suggestions.types import catalog

    services = build_services()
    try:
        with services.db.session() as s:
            change = set_status(s, args.receipt, args.status, args.reason, args.actor)
            label = catalog().status_label(change.to_status)
    except StatusError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"{args.receipt.upper()} 已改为「{label}」，委员将收到通知。")
    return 0


def export_cmd(args: argparse.Namespace) -> int:
    """Write all submissions to a CSV or XLSX file."""
    if args.what == "campaign-answers":
        from bot.campaigns.cli import export_cmd as export_campaign

        if args.id is None:
            print(
                "错误：请指定征集活动编号，如 lvzhi export campaign-answers 3 --format xlsx", file=sys.stderr
            )
            return 2
        return export_campaign(args)
    if args.what == "replies":  # answers of handling bodies and members' ratings (bot/staff)
        from bot.staff.cli import export_replies

        return export_replies(args)
    if args.what == "scores":
        from bot.records.db_cli import export_scores

        return export_scores(args)
    from bot.suggestions.export import export

    services = build_services()
    out = args.out or services.settings.data_dir / "exports" / (
        f"suggestions-{datetime.now():%Y%m%d-%H%M%S}.{args.format}"
    )
    with services.db.session() as s:
        n = export(s, out, args.format)
    print(f"已导出 {n} 条事项到 {out}")
    return 0


def merge_cmd(args: argparse.Namespace) -> int:
    """Merge a duplicate into the item kept; its author is notified by the running bot."""
    from bot.suggestions.merge import merge
    from bot.suggestions.status import StatusError

    services = build_services()
    try:
        with services.db.session() as s:
            merge(s, args.duplicate, args.into, args.actor)
    except StatusError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    print(f"{args.duplicate.upper()} 已并入 {args.into.upper()}，提交人将收到通知。")
    return 0
