"""/record: a member's duty record and score for this year, line by line, split into readable messages."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.chat.texts import own, say
from bot.chat.types import Reply
from bot.records.engine import format_points
from bot.records.recorder import TIMEZONE
from bot.records.scores import RecordsError, member_report, rule_table
from bot.storage.models import ChatIdentity, Member

MESSAGE_LIMIT = 3000  # characters per message (Telegram allows 4096; leave room for markup)


def record_replies(
    session: Session, ident: ChatIdentity, rules_dir: Path, today: date | None = None
) -> list[Reply]:
    """The member's activities of this year with the points of each rule and the total; unbound users are told how."""
    member = session.get(Member, ident.member_id) if ident.member_id else None
    if member is None:
        return [Reply(say("record_unbound"))]
    year = (today or datetime.now(TIMEZONE).date()).year
    try:
        report = member_report(session, member.id, rule_table(rules_dir, year))
    except RecordsError as exc:
        return [Reply(say("record_no_rules", error=str(exc)))]
    header = say(
        "record_header",
        year=year,
        version=report.version,
        name=f"{member.name}（{member.sector or own('界别未填')}）",
    )
    lines = [
        say(
            "record_line",
            date=line.on.strftime("%m-%d"),
            activity=own(line.activity_name),
            reference=line.reference,
            rule=own(f"{line.rule_id} {line.rule_name}" if line.rule_id else "未计分"),
            points=format_points(line.points),
            note_html=f"（{_esc(own(line.note))}）" if line.note else "",
        )
        for line in report.lines
    ] or [say("record_empty")]
    outside = say("record_outside", count=report.outside_year) if report.outside_year else ""
    lines.append(say("record_total", total=format_points(report.total), outside_html=outside))
    return [Reply(text) for text in _split(header, lines)]


def _esc(text: str) -> str:
    from bot.chat.texts import esc

    return esc(text)


def _split(header: str, lines: list[str]) -> list[str]:
    """Messages of at most MESSAGE_LIMIT characters, never cutting a line; later ones are marked (续)."""
    messages, current = [], header
    for line in lines:
        if len(current) + 1 + len(line) > MESSAGE_LIMIT and current:
            messages.append(current)
            current = say("record_continued")
        current = f"{current}\n{line}"
    messages.append(current)
    return messages
