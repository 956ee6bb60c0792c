"""`lvzhi staff add|list|set-password|remove|audit|overdue|remind`."""

from __future__ import annotations

import argparse
import getpass
import html
import json
import sys

from bot.services import build_services


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the staff commands."""
    p = subparsers.add_parser("staff", help="工作人员账号、审计日志、逾期事项")
    sub = p.add_subparsers(dest="staff_command", required=True)
    add = sub.add_parser("add", help="新增工作人员账号（提示输入密码，或 --password-stdin）")
    add.add_argument("username")
    add.add_argument("--role", choices=["staff", "admin"], default="staff")
    add.add_argument("--name", default="", help="显示名称")
    add.add_argument("--telegram-id", default=None, help="Telegram 用户 ID（在 Telegram 中使用工作人员命令）")
    add.add_argument("--password-stdin", action="store_true", help="从标准输入读取密码")
    add.set_defaults(func=add_cmd)
    sub.add_parser("list", help="列出工作人员账号").set_defaults(func=list_cmd)
    pw = sub.add_parser("set-password", help="修改密码（并注销其网页登录）")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true")
    pw.set_defaults(func=password_cmd)
    rm = sub.add_parser("remove", help="停用账号（保留审计记录）")
    rm.add_argument("username")
    rm.set_defaults(func=remove_cmd)
    au = sub.add_parser("audit", help="查看审计日志")
    au.add_argument("--limit", type=int, default=50)
    au.set_defaults(func=audit_cmd)
    od = sub.add_parser("overdue", help="列出超过答复期限的事项")
    od.set_defaults(func=overdue_cmd)
    rd = sub.add_parser("remind", help="就逾期事项发送催办提醒")
    rd.add_argument("receipt")
    rd.add_argument("--actor", default="cli")
    rd.set_defaults(func=remind_cmd)


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    try:
        first = getpass.getpass("密码：")
        again = getpass.getpass("再次输入密码：")
    except EOFError:  # no terminal (a script, a pipe, stdin closed): nothing to type the password into
        from bot.staff.texts import t

        raise SystemExit(t("cli_no_terminal")) from None
    if again != first:
        raise SystemExit("错误：两次输入的密码不一致")
    return first


def _fail(exc: Exception) -> int:
    print(f"错误：{html.unescape(str(exc))}", file=sys.stderr)
    return 2


def add_cmd(args: argparse.Namespace) -> int:
    """Create a staff account."""
    from bot.staff import accounts

    password = _password(args)
    try:
        with build_services().db.session() as s:
            accounts.add(s, "cli", args.username, password, args.role, args.name, args.telegram_id)
    except accounts.StaffError as exc:
        return _fail(exc)
    print(f"已新增{'管理员' if args.role == 'admin' else '工作人员'}账号 {args.username}")
    return 0


def list_cmd(args: argparse.Namespace) -> int:
    """Print the accounts."""
    from bot.staff import accounts

    with build_services().db.session() as s:
        rows = accounts.list_all(s)
        for a in rows:
            state = "启用" if a.active else "停用"
            print(f"{a.username}\t{a.display_name}\t{a.role}\t{a.telegram_id or '-'}\t{state}")
    if not rows:
        print("还没有工作人员账号：lvzhi staff add 用户名 --role admin")
    return 0


def password_cmd(args: argparse.Namespace) -> int:
    """Change a password."""
    from bot.staff import accounts

    password = _password(args)
    try:
        with build_services().db.session() as s:
            accounts.set_password(s, "cli", args.username, password)
    except accounts.StaffError as exc:
        return _fail(exc)
    print(f"已修改 {args.username} 的密码")
    return 0


def remove_cmd(args: argparse.Namespace) -> int:
    """Deactivate an account."""
    from bot.staff import accounts

    try:
        with build_services().db.session() as s:
            accounts.remove(s, "cli", args.username)
    except accounts.StaffError as exc:
        return _fail(exc)
    print(f"已停用账号 {args.username}")
    return 0


def audit_cmd(args: argparse.Namespace) -> int:
    """Print the newest audit entries."""
    from bot.staff import audit

    with build_services().db.session() as s:
        for e in audit.latest(s, args.limit):
            change = f"{json.dumps(e.before, ensure_ascii=False)} → {json.dumps(e.after, ensure_ascii=False)}"
            print(f"{e.at:%Y-%m-%d %H:%M:%S}\t{e.actor}\t{e.channel}\t{e.action}\t{e.target}\t{change}")
    return 0


def overdue_cmd(args: argparse.Namespace) -> int:
    """Print the overdue items."""
    from bot.staff import overdue

    services = build_services()
    with services.db.session() as s:
        rows = overdue.overdue(s, services.settings.reply_due_days)
        for row in rows:
            print(f"{row.receipt}\t{row.title}\t{row.status}\t逾期 {row.days_over} 天\t{row.lead or '-'}")
    if not rows:
        print("没有逾期事项")
    return 0


def remind_cmd(args: argparse.Namespace) -> int:
    """Send and record a reminder for an overdue item."""
    from bot.staff import overdue
    from bot.staff.accounts import Staff, StaffError

    services = build_services()
    try:
        with services.db.session() as s:
            who = overdue.remind(s, Staff(args.actor, "staff", channel="cli"), args.receipt)
    except StaffError as exc:
        return _fail(exc)
    print(f"已提醒：{'、'.join(who)}")
    return 0


def export_replies(args: argparse.Namespace) -> int:
    """`lvzhi export replies --format csv|xlsx [--out FILE]`."""
    from datetime import datetime

    from bot.staff.export import export

    services = build_services()
    out = (
        args.out
        or services.settings.data_dir / "exports" / f"replies-{datetime.now():%Y%m%d-%H%M%S}.{args.format}"
    )
    with services.db.session() as s:
        n = export(s, out)
    print(f"已导出 {n} 条答复与评价到 {out}")
    return 0
