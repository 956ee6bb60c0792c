"""The item as staff see it in a chat: every field, attachments, status history, handling bodies, replies."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.staff import review
from bot.staff.texts import t
from bot.storage.models import Member, Submission
from bot.suggestions.service import TIMEZONE
from bot.suggestions.types import catalog


def when(moment) -> str:
    """A local (Asia/Shanghai) date and time."""
    return moment.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")


def member_label(session: Session, item: Submission) -> str:
    """The member's name and sector, or 公众 for an unbound user."""
    member = session.get(Member, item.member_id) if item.member_id else None
    return f"{member.name}（{member.sector}）" if member else "公众"


def item_html(session: Session, item: Submission) -> str:
    """The whole item in the Telegram-HTML subset."""
    cat = catalog()
    stype = cat.get(item.type)
    parts = [
        t("item_header", receipt=item.receipt_no, type_name=stype.name, status=cat.status_label(item.status),
          title=item.title, member=member_label(session, item), date=when(item.created_at),
          category_label=stype.category_label, category=item.category or "-")
    ]  # fmt: skip
    for f in stype.fields:
        value = item.fields.get(f.key) or ""
        if value:
            parts.append(t("item_field", label=f.label, value=value))
    if item.attachments:
        names = "、".join(a.file_name or a.kind for a in item.attachments)
        parts.append(t("item_attachments", count=len(item.attachments), names=names))
    for a in review.assignments(session, item):
        parts.append(t("item_assignment", role=t(f"role_{a.role}"), body=a.body, contact=a.contact))
    for r in review.replies(session, item):
        grade = t(f"grade_{r.grade}") if r.grade else "-"
        rating = r.rating or t("not_rated")
        parts.append(t("item_reply", grade=grade, date=when(r.created_at), text=r.text, rating=rating))
    parts.append(t("item_history_header"))
    for h in item.history:
        parts.append(
            t("item_history_line", date=when(h.created_at), actor=h.actor,
              to=cat.status_label(h.to_status), reason=f"：{h.reason}" if h.reason else "",
              **{"from": cat.status_label(h.from_status) if h.from_status else "—"})
        )  # fmt: skip
    return "\n".join(parts)
