"""`lvzhi members import FILE` and `lvzhi members invite`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.services import build_services

IMPORT_HELP = """导入委员名单（CSV 或 XLSX）。表头可以在前 20 行中的任意一行（上方有标题行没关系），
需要“姓名”列和“手机”（手机号、手机号码、联系电话、电话）或“编号”列，“界别”列可选。
手机号中的全角数字、空格、连字符和不可见字符会先被清理再校验。

有问题的行逐行列出（行号和姓名）并跳过，其余照常导入。
退出码：0 = 至少导入了一人（可能有跳过的行）；1 = 文件能读但没有一行可以导入；2 = 文件无法读取或找不到表头。"""


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the members command."""
    p = subparsers.add_parser("members", help="委员名单与邀请码")
    sub = p.add_subparsers(dest="members_command", required=True)
    imp = sub.add_parser(
        "import",
        help="导入委员名单（CSV/XLSX：姓名、界别、手机）",
        description=IMPORT_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    imp.add_argument("file", type=Path)
    imp.set_defaults(func=import_cmd)
    inv = sub.add_parser("invite", help="为尚未绑定的委员生成一次性邀请码")
    inv.add_argument("--count", type=int, default=None, help="最多生成多少个")
    inv.add_argument("--days", type=int, default=14, help="有效天数")
    inv.add_argument("--phone", default=None, help="只为这一位委员（手机号）生成")
    inv.set_defaults(func=invite_cmd)


def import_cmd(args: argparse.Namespace) -> int:
    """Import the roster; bad rows are reported on stderr and skipped, the rest imported.

    Exit code (see IMPORT_HELP): 0 when at least one member was imported, 1 when no row could be, 2 when the file
    cannot be read as a roster.
    """
    from bot.members.roster import RosterError, read_roster
    from bot.members.service import import_members

    try:
        good, errors = read_roster(args.file)
    except RosterError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    for line, msg in errors:
        print(f"第{line}行 {msg}，已跳过", file=sys.stderr)
    if not good:
        print("没有可以导入的委员，名单未作任何修改", file=sys.stderr)
        return 1
    services = build_services()
    with services.db.session() as s:
        result = import_members(s, good)
    print(f"导入完成：新增 {result.added} 人，更新 {result.updated} 人，跳过 {len(errors)} 行")
    return 0


def invite_cmd(args: argparse.Namespace) -> int:
    """Create invitation codes and print them with t.me deep links."""
    from bot.members.cleaning import normalize_key, normalize_phone
    from bot.members.roster import MOBILE
    from bot.members.service import create_invitations

    phone = None
    if args.phone is not None:  # typed as the roster had it: "138 0000 0013" finds 13800000013
        phone = normalize_phone(args.phone)
        phone = phone if MOBILE.match(phone) else normalize_key(args.phone)
    services = build_services()
    username = (services.settings.bot_username or "").lstrip("@")
    with services.db.session() as s:
        invites = create_invitations(s, days=args.days, count=args.count, phone=phone)
        lines = [(i.member.name, i.member.sector, i.code, i.expires_at.strftime("%Y-%m-%d")) for i in invites]
    for name, sector, code, until in lines:
        link = f"https://t.me/{username}?start={code}" if username else f"/start {code}"
        print(f"{name}\t{sector}\t{code}\t{link}\t有效至 {until}")
    print(f"共生成 {len(lines)} 个邀请码", file=sys.stderr)
    if phone is not None and not lines:
        print(f"没有找到手机号（编号）为 {phone} 的在册委员", file=sys.stderr)
        return 1
    return 0
