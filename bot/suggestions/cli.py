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

    exp = subparsers.add_parser("export", help="导出数据")
    exp.add_argument("what", choices=["suggestions"], help="导出什么")
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
    from bot.suggestions.export import export

    services = build_services()
    out = args.out or services.settings.data_dir / "exports" / (
        f"suggestions-{datetime.now():%Y%m%d-%H%M%S}.{args.format}"
    )
    with services.db.session() as s:
        n = export(s, out, args.format)
    print(f"已导出 {n} 条事项到 {out}")
    return 0
