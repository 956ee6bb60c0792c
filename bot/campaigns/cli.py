"""`lvzhi campaigns create|list|open|close|links|broadcast|report|export`."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.campaigns.service import CampaignError
from bot.prompts import render
from bot.services import build_services


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the campaigns command and its sub-commands."""
    p = subparsers.add_parser("campaigns", help="征集活动：创建、开放/结束、广播邀请、统计报告、导出")
    sub = p.add_subparsers(dest="campaigns_command", required=True)
    c = sub.add_parser("create", help="创建征集活动")
    c.add_argument("--title", required=True, help="活动主题，如「我为青川发展献一策」")
    c.add_argument("--description", default="", help="活动说明")
    c.add_argument(
        "--audience", default="members", help="members（全体委员，默认）、sectors（部分界别）、public（公开）"
    )
    c.add_argument("--sector", action="append", default=[], help="界别（可重复，或用逗号分隔），用于 sectors")
    c.add_argument(
        "--start", default=None, help="开始时间（北京时间），如 2026-05-01 或 2026-05-01 09:00；默认现在"
    )
    c.add_argument("--end", required=True, help="结束时间（北京时间）；只写日期表示当天 24:00")
    c.add_argument("--by", default="staff", help="创建人")
    c.set_defaults(func=create_cmd)
    sub.add_parser("list", help="列出征集活动").set_defaults(func=list_cmd)
    o = sub.add_parser("open", help="立即开放（开始时间改为现在）")
    o.add_argument("id")
    o.add_argument("--until", default=None, help="新的结束时间（已截止的活动重新开放时必填）")
    o.set_defaults(func=open_cmd)
    x = sub.add_parser("close", help="立即结束（之后的意见会被礼貌拒绝）")
    x.add_argument("id")
    x.set_defaults(func=close_cmd)
    lk = sub.add_parser("links", help="参与链接（Telegram 深度链接和网页链接）")
    lk.add_argument("id")
    lk.set_defaults(func=links_cmd)
    b = sub.add_parser("broadcast", help="向活动对象广播邀请（可中断后续传，不重复发送）")
    b.add_argument("id")
    b.add_argument("--rate", type=float, default=25.0, help="每秒最多发送条数（Telegram 上限约 30）")
    b.add_argument("--resend-unknown", action="store_true", help="补发上次中断时状态不明的对象")
    b.set_defaults(func=broadcast_cmd)
    r = sub.add_parser("report", help="统计报告：按日期、界别、类别和主题")
    r.add_argument("id")
    r.add_argument("--format", choices=["text", "json"], default="text")
    r.add_argument("--answers", type=int, default=20, help="文本报告中列出的意见条数")
    r.add_argument("--no-themes", action="store_true", help="不做主题聚类")
    r.set_defaults(func=report_cmd)
    e = sub.add_parser("export", help="导出活动的全部意见（CSV/XLSX）")
    e.add_argument("id")
    e.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    e.add_argument("--out", type=Path, default=None, help="输出文件（默认 data_dir/exports/…）")
    e.set_defaults(func=export_cmd)


def friendly(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print a CampaignError as a Chinese message on stderr (exit 2) instead of a traceback."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        try:
            return func(args)
        except CampaignError as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2

    return wrapper


def _sectors(values: list[str]) -> list[str]:
    return [
        s.strip() for v in values for s in v.replace("，", ",").replace("、", ",").split(",") if s.strip()
    ]


@friendly
def create_cmd(args: argparse.Namespace) -> int:
    """Create a campaign and print its links."""
    from bot.campaigns import service
    from bot.storage.models import utcnow

    starts = service.parse_time(args.start) if args.start else utcnow()
    ends = service.parse_time(args.end, end_of_day=True)
    services = build_services()
    with services.db.session() as s:
        c = service.create(
            s,
            args.title,
            starts,
            ends,
            description=args.description,
            audience=args.audience.strip().lower(),
            sectors=_sectors(args.sector),
            created_by=args.by,
        )
        info = dict(
            id=c.id,
            title=c.title,
            audience=service.audience_of(c).describe(),
            starts=service.local(c.starts_at),
            ends=service.local(c.ends_at),
            status=service.STATUS_LABELS[c.status],
        )
    print(render("campaigns/created", **info))
    _print_links(services, info["id"])
    return 0


def _print_links(services, campaign_id: int) -> None:
    from bot.campaigns.service import links

    s = services.settings
    for kind, url in links(campaign_id, s.bot_username, f"http://{s.web_host}:{s.web_port}").items():
        print(f"{'Telegram 链接' if kind == 'telegram' else '网页链接'}：{url}")


@friendly
def list_cmd(args: argparse.Namespace) -> int:
    """One line per campaign: id, status, title, audience, dates, answers."""
    from sqlalchemy import func, select

    from bot.campaigns import service
    from bot.storage.models import Submission

    services = build_services()
    with services.db.session() as s:
        counts = dict(
            s.execute(
                select(Submission.campaign_id, func.count())
                .where(Submission.campaign_id.is_not(None))
                .group_by(Submission.campaign_id)
            ).all()
        )
        rows = [
            (c.id, service.STATUS_LABELS[service.status_at(c)], c.title, service.audience_of(c).describe(),
             service.local(c.starts_at), service.local(c.ends_at), counts.get(c.id, 0))
            for c in service.list_all(s)
        ]  # fmt: skip
    if not rows:
        print("还没有征集活动。用 lvzhi campaigns create --title … --end … 创建。")
    for cid, status, title, audience, starts, ends, n in rows:
        print(f"#{cid}\t{status}\t{title}\t{audience}\t{starts} 至 {ends}\t意见 {n} 条")
    return 0


@friendly
def open_cmd(args: argparse.Namespace) -> int:
    """Open a campaign now."""
    from bot.campaigns import service

    until = service.parse_time(args.until, end_of_day=True) if args.until else None
    with build_services().db.session() as s:
        c = service.open_now(s, args.id, until)
        print(f"征集活动 #{c.id}「{c.title}」已开放，截止 {service.local(c.ends_at)}")
    return 0


@friendly
def close_cmd(args: argparse.Namespace) -> int:
    """Close a campaign now."""
    from bot.campaigns import service

    with build_services().db.session() as s:
        c = service.close_now(s, args.id)
        print(f"征集活动 #{c.id}「{c.title}」已结束，之后提交的意见将被礼貌拒绝")
    return 0


@friendly
def links_cmd(args: argparse.Namespace) -> int:
    """Print the links that open a campaign's answer form."""
    from bot.campaigns import service

    services = build_services()
    with services.db.session() as s:
        campaign_id = service.get(s, args.id).id
    _print_links(services, campaign_id)
    return 0


def progress_bar(total: int, out=None, width: int = 30) -> Callable[[dict[str, int]], None]:
    """A progress callback drawing '[####....] done/total 已发送 … 失败 … 已屏蔽 …' on one line."""

    def show(counts: dict[str, int]) -> None:
        stream = out or sys.stderr
        done = sum(n for state, n in counts.items() if state not in ("pending", "sending"))
        filled = width if not total else int(width * done / total)
        stream.write(
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} 已发送 {counts.get('sent', 0)}"
            f" 失败 {counts.get('failed', 0)} 已屏蔽 {counts.get('blocked', 0)}"
        )
        stream.flush()

    return show


@friendly
def broadcast_cmd(args: argparse.Namespace) -> int:
    """Broadcast the invitation with a progress bar; prints the sent/failed/blocked report."""
    from telegram import Bot
    from telegram.error import TelegramError

    from bot.campaigns import invite
    from bot.campaigns.telegram_send import telegram_sender

    services = build_services()
    settings = services.settings
    if not settings.telegram_token:
        raise CampaignError("未设置 LVZHI_TELEGRAM_TOKEN，无法通过 Telegram 发送邀请")
    prepared = invite.prepare(services.db, args.id)
    print(
        f"征集活动 #{prepared.campaign_id}「{prepared.title}」：共 {prepared.total} 位对象（本次新增 {prepared.added}）"
    )

    async def go():
        async with Bot(settings.telegram_token, base_url=settings.telegram_base_url) as bot:
            return await invite.run(
                services.db,
                telegram_sender(bot),
                prepared.campaign_id,
                rate=args.rate,
                progress=progress_bar(prepared.total),
                resend_unknown=args.resend_unknown,
            )

    try:
        _, result = asyncio.run(go())
    except TelegramError as exc:
        raise CampaignError(f"无法连接 Telegram：{exc}") from exc
    print(file=sys.stderr)
    print(
        render(
            "campaigns/broadcast_done",
            total=result.total,
            sent=result.sent,
            failed=result.failed,
            blocked=result.blocked,
            unknown=result.unknown,
            seconds=f"{result.seconds:.1f}",
        )
    )
    if result.unknown:
        print(render("campaigns/broadcast_unknown"))
    return 0 if result.failed == 0 else 1


@friendly
def report_cmd(args: argparse.Namespace) -> int:
    """Print the report as text or JSON."""
    from bot.campaigns import report
    from bot.campaigns.report_text import as_text

    with build_services().db.session() as s:
        rep = report.build(s, args.id, cluster=not args.no_themes)
    if args.format == "json":
        print(json.dumps(rep.as_json(), ensure_ascii=False, indent=2))
    else:
        print(as_text(rep, args.answers))
    return 0


@friendly
def export_cmd(args: argparse.Namespace) -> int:
    """Write a campaign's answers to CSV or XLSX through the streaming writers."""
    from bot.campaigns import report, service
    from bot.exports.writers import write_table

    services = build_services()
    with services.db.session() as s:
        campaign_id = service.get(s, args.id).id
        out = args.out or services.settings.data_dir / "exports" / (
            f"campaign-{campaign_id}-answers-{datetime.now():%Y%m%d-%H%M%S}.{args.format}"
        )
        if out.suffix.lower() != f".{args.format}":
            raise CampaignError(f"输出文件「{out.name}」的扩展名与格式 {args.format} 不一致")
        n = write_table(report.export_rows(s, campaign_id), out, report.EXPORT_HEADER, sheet="征集意见")
    print(f"已导出征集活动 #{campaign_id} 的 {n} 条意见到 {out}")
    return 0
