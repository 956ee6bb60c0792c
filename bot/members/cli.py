"""`lvzhi members import FILE` and `lvzhi members invite`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.services import build_services


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the members command."""
    p = subparsers.add_parser("members", help="委员名单与邀请码")
    sub = p.add_subparsers(dest="members_command", required=True)
    imp = sub.add_parser("import", help="导入委员名单（CSV/XLSX：姓名、界别、手机）")
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=import_cmd)
    inv = sub.add_parser("invite", help="为尚未绑定的委员生成一次性邀请码")
    inv.add_argument("--count", type=int, default=None, help="最多生成多少个")
    inv.add_argument("--days", type=int, default=14, help="有效天数")
    inv.add_argument("--phone", default=None, help="只为这一位委员（手机号）生成")
    inv.set_defaults(func=invite_cmd)


def import_cmd(args: argparse.Namespace) -> int:
    """Import the roster; bad rows are reported and skipped, the rest imported."""
    from bot.members.roster import RosterError, read_roster
    from bot.members.service import import_members

    try:
        good, errors = read_roster(args.file)
    except RosterError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    services = build_services()
    with services.db.session() as s:
        result = import_members(s, good)
    for line, msg in errors:
        print(f"第 {line} 行：{msg}", file=sys.stderr)
    print(f"导入完成：新增 {result.added} 人，更新 {result.updated} 人，有问题 {len(errors)} 行")
    return 1 if errors else 0


def invite_cmd(args: argparse.Namespace) -> int:
    """Create invitation codes and print them with t.me deep links."""
    from bot.members.service import create_invitations

    services = build_services()
    username = (services.settings.bot_username or "").lstrip("@")
    with services.db.session() as s:
        invites = create_invitations(s, days=args.days, count=args.count, phone=args.phone)
        lines = [(i.member.name, i.member.sector, i.code, i.expires_at.strftime("%Y-%m-%d")) for i in invites]
    for name, sector, code, until in lines:
        link = f"https://t.me/{username}?start={code}" if username else f"/start {code}"
        print(f"{name}\t{sector}\t{code}\t{link}\t有效至 {until}")
    print(f"共生成 {len(lines)} 个邀请码", file=sys.stderr)
    return 0
