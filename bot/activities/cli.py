"""`lvzhi activities types|create|list|show|edit|cancel|notify|remind|leave|attend|export|member|committee|
opinions|tick`."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path

from bot.prompts import render
from bot.services import build_services


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the activities command and its sub-commands."""
    p = subparsers.add_parser("activities", help="履职活动：通知、请假审批、签到、出勤统计")
    sub = p.add_subparsers(dest="activities_command", required=True)
    sub.add_parser("types", help="列出活动类型（rules/activity_types.txt）").set_defaults(func=types_cmd)
    c = sub.add_parser("create", help="创建活动并通知受邀委员")
    c.add_argument("--type", required=True, help="活动类型，如 全体会议")
    c.add_argument("--title", required=True)
    c.add_argument("--start", required=True, help="开始时间（北京时间），如 2026-05-01 09:00")
    c.add_argument("--end", required=True, help="结束时间")
    c.add_argument("--place", required=True)
    c.add_argument("--description", default="")
    c.add_argument("--attachment", action="append", default=[], help="附件（议程）文件名，可重复")
    c.add_argument("--audience", default="members", help="members、sectors、committees、chosen")
    c.add_argument(
        "--to", action="append", default=[], help="界别、专门委员会或委员（编号/手机号/姓名），可重复"
    )
    c.add_argument("--deadline", default=None, help="回复截止时间（默认活动开始时）")
    c.add_argument("--no-approval", action="store_true", help="请假无需审批")
    c.add_argument("--by", default="staff")
    c.set_defaults(func=create_cmd)
    sub.add_parser("list", help="列出活动").set_defaults(func=list_cmd)
    for name, func, helptext in (
        ("show", show_cmd, "活动概况：回复与出勤统计"),
        ("notify", notify_cmd, "补发通知给尚未通知的受邀委员"),
        ("remind", remind_cmd, "提醒未回复的委员"),
    ):
        x = sub.add_parser(name, help=helptext)
        x.add_argument("id")
        x.set_defaults(func=func)
    e = sub.add_parser("edit", help="修改活动（时间、地点变更会通知受邀委员）")
    e.add_argument("id")
    e.add_argument("--title")
    e.add_argument("--start")
    e.add_argument("--end")
    e.add_argument("--place")
    e.add_argument("--description")
    e.add_argument("--deadline")
    e.add_argument("--by", default="staff")
    e.set_defaults(func=edit_cmd)
    x = sub.add_parser("cancel", help="取消活动并通知受邀委员")
    x.add_argument("id")
    x.add_argument("--reason", default="")
    x.add_argument("--by", default="staff")
    x.set_defaults(func=cancel_cmd)
    lv = sub.add_parser("leave", help="审批请假：approve 批准，return 退回")
    lv.add_argument("id")
    lv.add_argument("member", help="委员编号、手机号或姓名")
    lv.add_argument("decision", choices=["approve", "return"])
    lv.add_argument("--note", default="")
    lv.add_argument("--by", default="staff")
    lv.set_defaults(func=leave_cmd)
    at = sub.add_parser("attend", help="工作人员补登或撤销出勤（记入审计日志）")
    at.add_argument("id")
    at.add_argument("member")
    at.add_argument("--absent", action="store_true", help="撤销出勤")
    at.add_argument("--by", default="staff")
    at.set_defaults(func=attend_cmd)
    ex = sub.add_parser("export", help="导出受邀委员的回复与出勤（CSV/XLSX）")
    ex.add_argument("id")
    ex.add_argument("--format", choices=["csv", "xlsx"], default="csv")
    ex.add_argument("--out", type=Path, default=None)
    ex.set_defaults(func=export_cmd)
    my = sub.add_parser("member", help="一位委员全年的活动出勤")
    my.add_argument("member")
    my.add_argument("--year", type=int, default=None)
    my.set_defaults(func=member_cmd)
    cm = sub.add_parser("committee", help="登记委员所在的专门委员会（覆盖原有登记）")
    cm.add_argument("member")
    cm.add_argument("committees", nargs="*")
    cm.set_defaults(func=committee_cmd)
    op = sub.add_parser("opinions", help="活动开始后开启会后意见征集（征集活动）并邀请受邀委员")
    op.add_argument("id")
    op.add_argument("--end", required=True, help="截止时间（北京时间）；只写日期表示当天 24:00")
    op.add_argument("--by", default="staff")
    op.set_defaults(func=opinions_cmd)
    sub.add_parser("tick", help="运行一次定时任务：提醒与计入履职档案").set_defaults(func=tick_cmd)


def _say(key: str, **variables: object) -> str:
    return render(f"activities/cli_{key}", **variables)


def friendly(func: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Print an ActivityError (or a RecordsError) in Chinese on stderr with exit code 2."""

    @functools.wraps(func)
    def wrapper(args: argparse.Namespace) -> int:
        from bot.activities.service import ActivityError
        from bot.records.scores import RecordsError

        try:
            return func(args)
        except (ActivityError, RecordsError) as exc:
            print(f"错误：{exc}", file=sys.stderr)
            return 2

    return wrapper


def _services():
    return build_services()


@friendly
def types_cmd(args: argparse.Namespace) -> int:
    """Print the activity types."""
    from bot.activities import service

    path = _services().settings.activity_types_file or service.TYPES_FILE
    print(_say("types", path=path, types="、".join(service.load_types(path))))
    return 0


@friendly
def create_cmd(args: argparse.Namespace) -> int:
    """Create an activity and queue its notices."""
    from bot.activities import notices, service
    from bot.staff import audit

    services = _services()
    with services.db.session() as s:
        names = [n for raw in args.to for n in service.split_names(raw)]
        starts = service.parse_time(args.start)
        a = service.create(
            s, type=args.type, title=args.title, starts_at=starts, ends_at=service.parse_time(args.end),
            place=args.place, audience=service.make_audience(s, args.audience, names),
            rsvp_deadline=service.parse_time(args.deadline) if args.deadline else None,
            leave_needs_approval=not args.no_approval, description=args.description,
            attachments=[{"name": Path(x).name} for x in args.attachment], created_by=args.by,
            types=service.load_types(services.settings.activity_types_file),
        )  # fmt: skip
        queued = notices.send_notices(s, a)
        invited = len(service.invitees(s, a))
        audit.record(
            s, args.by, "activity_create", f"activity:{a.id}", None, {"title": a.title}, channel="cli"
        )
        print(_say("created", id=a.id, title=a.title, invited=invited, queued=queued, code=a.checkin_code))
    return 0


@friendly
def list_cmd(args: argparse.Namespace) -> int:
    """List activities."""
    from bot.activities import service

    with _services().db.session() as s:
        rows = service.list_all(s)
        for a in rows:
            status = "已取消" if a.status == "cancelled" else "正常"
            print(_say("list_line", id=a.id, status=status, type=a.type, title=a.title, when=service.when(a),
                       place=a.place, invited=len(service.invitees(s, a))))  # fmt: skip
        if not rows:
            print(_say("list_empty"))
    return 0


@friendly
def show_cmd(args: argparse.Namespace) -> int:
    """Counts by answer and attendance."""
    from bot.activities import chat, overview, service

    services = _services()
    with services.db.session() as s:
        a = service.get(s, args.id)
        ov = overview.build(s, a)
        links = chat.links(a, services.settings.bot_username, services.settings.public_url)
        print(_say(
            "show", id=a.id, type=a.type, title=a.title, status="已取消" if a.status == "cancelled" else "正常",
            when=service.when(a), place=a.place, deadline=service.local(a.rsvp_deadline),
            approval="需审批" if a.leave_needs_approval else "无需审批", audience=service.audience_of(a).describe(),
            attend=ov.by_answer["attend"], leave=ov.by_answer["leave"], pending=ov.pending_leave,
            none=ov.by_answer["none"], attended=ov.by_outcome["attended"], excused=ov.by_outcome["leave"],
            absent=ov.by_outcome["absent"], not_yet=ov.by_outcome["pending"],
            links="  ".join(links.values()) or f"/start act-{a.checkin_code}",
        ))  # fmt: skip
    return 0


@friendly
def notify_cmd(args: argparse.Namespace) -> int:
    """Queue the notice for invitees not yet told."""
    from bot.activities import notices, service

    with _services().db.session() as s:
        print(_say("notified", count=notices.send_notices(s, service.get(s, args.id))))
    return 0


@friendly
def remind_cmd(args: argparse.Namespace) -> int:
    """Remind those who have not answered."""
    from bot.activities import notices, service
    from bot.storage.models import utcnow

    with _services().db.session() as s:
        a = service.get(s, args.id)
        print(_say("reminded", count=notices.send_reminders(s, a, f"remind:{utcnow():%Y%m%d%H%M}")))
    return 0


@friendly
def edit_cmd(args: argparse.Namespace) -> int:
    """Edit; a move of time or place tells every invitee once."""
    from bot.activities import attendance, notices, service
    from bot.staff import audit

    def when(text):
        return service.parse_time(text) if text else None

    with _services().db.session() as s:
        a, change = service.edit(
            s, args.id, title=args.title, starts_at=when(args.start), ends_at=when(args.end), place=args.place,
            description=args.description, rsvp_deadline=when(args.deadline),
        )  # fmt: skip
        queued = notices.send_change(s, a, change)
        attendance.sync_records(s, a)
        after = {"fields": list(change.fields), "when": service.when(a), "place": a.place}
        before = {"when": change.old_when, "place": change.old_place}
        audit.record(s, args.by, "activity_edit", f"activity:{a.id}", before, after, channel="cli")
        print(_say("edited", id=a.id, fields=change.describe() or "无", queued=queued))
    return 0


@friendly
def cancel_cmd(args: argparse.Namespace) -> int:
    """Cancel and tell invitees."""
    from bot.activities import attendance, notices, service
    from bot.staff import audit

    with _services().db.session() as s:
        a = service.cancel(s, args.id)
        queued = notices.send_cancel(s, a, args.reason)
        attendance.sync_records(s, a)
        audit.record(
            s, args.by, "activity_cancel", f"activity:{a.id}", None, {"reason": args.reason}, channel="cli"
        )
        print(_say("cancelled", id=a.id, title=a.title, queued=queued))
    return 0


@friendly
def leave_cmd(args: argparse.Namespace) -> int:
    """Approve or return a leave request."""
    from bot.activities import attendance, service
    from bot.records.scores import find_member
    from bot.staff import audit

    with _services().db.session() as s:
        a, member = service.get(s, args.id), find_member(s, args.member)
        approve = args.decision == "approve"
        attendance.decide_leave(s, a, member.id, approve, args.by, args.note)
        audit.record(s, args.by, f"activity_leave_{args.decision}", f"activity:{a.id}:member:{member.id}",
                     {"leave_state": "pending"}, {"note": args.note}, channel="cli")  # fmt: skip
        print(_say("decided", decision="批准" if approve else "退回", name=member.name))
    return 0


@friendly
def attend_cmd(args: argparse.Namespace) -> int:
    """Mark attendance by hand (audited)."""
    from bot.activities import attendance, service
    from bot.records.scores import find_member
    from bot.staff import audit

    with _services().db.session() as s:
        a, member = service.get(s, args.id), find_member(s, args.member)
        _, before, after = attendance.mark(s, a, member.id, not args.absent)
        audit.record(
            s, args.by, "activity_attendance", f"activity:{a.id}:member:{member.id}", before, after, "cli"
        )
        print(_say("marked", name=member.name, state="出席" if after["attended"] else "未出席"))
    return 0


@friendly
def export_cmd(args: argparse.Namespace) -> int:
    """Write the invitees' answers and attendance to CSV or XLSX."""
    from bot.activities import overview, service
    from bot.exports.writers import write_csv, write_xlsx

    services = _services()
    with services.db.session() as s:
        a = service.get(s, args.id)
        rows = overview.export_rows(overview.build(s, a))
    out = args.out or services.settings.data_dir / "exports" / f"activity-{a.id}.{args.format}"
    writer = write_csv if args.format == "csv" else write_xlsx
    count = writer(rows, out, overview.EXPORT_HEADER) if args.format == "csv" else writer(
        rows, out, overview.EXPORT_HEADER, sheet="活动出勤")  # fmt: skip
    print(_say("exported", count=count, path=out))
    return 0


@friendly
def member_cmd(args: argparse.Namespace) -> int:
    """A member's activities over a year."""
    from bot.activities import overview
    from bot.records.scores import find_member
    from bot.storage.models import utcnow

    with _services().db.session() as s:
        member = find_member(s, args.member)
        for line in overview.member_year(s, member.id, args.year or utcnow().year):
            print(_say("member_year", date=line.on, id=line.activity_id, type=line.type, title=line.title,
                       answer=line.answer, outcome=line.outcome))  # fmt: skip
    return 0


@friendly
def committee_cmd(args: argparse.Namespace) -> int:
    """Set a member's special committees."""
    from bot.activities import service
    from bot.records.scores import find_member

    with _services().db.session() as s:
        member = find_member(s, args.member)
        kept = service.set_committees(s, member.id, args.committees)
        print(_say("committees", name=member.name, committees="、".join(kept) or "无"))
    return 0


@friendly
def tick_cmd(args: argparse.Namespace) -> int:
    """Run the periodic job once."""
    from bot.activities import jobs

    services = _services()
    print(_say("tick", **jobs.tick(services.db, services.settings.activity_reminder_hours)))
    return 0


@friendly
def opinions_cmd(args: argparse.Namespace) -> int:
    """Open the call for opinions tied to an activity."""
    from bot.activities import service
    from bot.activities.opinions import open_call
    from bot.staff import audit

    with _services().db.session() as s:
        a = service.get(s, args.id)
        campaign, queued = open_call(s, a, service.parse_time(args.end, end_of_day=True), args.by)
        audit.record(
            s, args.by, "activity_opinions", f"activity:{a.id}", None, {"campaign": campaign.id}, "cli"
        )
        print(_say("opinions", campaign=campaign.id, queued=queued))
    return 0
