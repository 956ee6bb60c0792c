"""Moving a submission along its workflow and telling the member (via the notifications outbox)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat import script
from bot.chat.texts import own, say
from bot.records.recorder import sync_submission
from bot.storage.models import ChatIdentity, Notification, StatusChange, Submission, utcnow
from bot.suggestions.service import get_by_receipt
from bot.suggestions.types import catalog
from bot.suggestions.workflow import REASON_REQUIRED, allowed_moves


class StatusError(ValueError):
    """An illegal status change; the message is in Chinese for staff."""


def resolve_status(name: str) -> str:
    """A status key from a key or its Chinese label."""
    statuses = catalog().statuses
    if name in statuses:
        return name
    for key, label in statuses.items():
        if label == name:
            return key
    raise StatusError(f"未知状态：{name}（可用：{'、'.join(f'{k}/{v}' for k, v in statuses.items())}）")


def set_status(
    session: Session,
    receipt_no: str,
    status: str,
    reason: str = "",
    actor: str = "staff",
    notify: bool = True,
) -> StatusChange:
    """Move the item to the status if the workflow allows it, record it and (notify=True) queue one message to the
    member; a caller that moves an item several steps, or tells the member itself, passes notify=False."""
    cat = catalog()
    item = get_by_receipt(session, receipt_no)
    if item is None:
        raise StatusError(f"找不到受理编号为 {receipt_no} 的事项")
    target = resolve_status(status)
    legal = allowed_moves(item.type, item.status)
    if target not in legal:
        options = "、".join(cat.status_label(s) for s in legal) or "无（已是最终状态）"
        raise StatusError(
            f"{item.receipt_no} 当前状态为「{cat.status_label(item.status)}」，"
            f"不能改为「{cat.status_label(target)}」。可改为：{options}"
        )
    reason = reason.strip()
    if target in REASON_REQUIRED and not reason:
        raise StatusError(f"改为「{cat.status_label(target)}」必须说明理由（--reason）")
    change = StatusChange(
        submission_id=item.id, from_status=item.status, to_status=target, reason=reason, actor=actor
    )
    item.status = target
    item.updated_at = utcnow()
    session.add(change)
    if notify:
        notify_member(session, item, reason)
    session.flush()
    sync_submission(session, item)  # 立案 / 采用 reach the duty record (idempotent)
    return change


def notify_member(session: Session, item: Submission, reason: str = "") -> Notification | None:
    """Queue the one message that tells the member an item of theirs reached its current status (with the reason
    when given), in the member's remembered script; None when the item has no chat to tell."""
    identity = session.get(ChatIdentity, item.identity_id)
    if identity is None:
        return None
    cat = catalog()
    trad = script.traditional_of(identity)
    text = say(
        "status_changed",
        trad,
        receipt=item.receipt_no,
        type_name=own(cat.get(item.type).name, trad),
        title=item.title,
        status=own(cat.status_label(item.status), trad),
        reason_html=say("status_reason", trad, reason=reason) if reason else "",
    )
    note = Notification(
        identity_id=identity.id,
        channel=identity.channel,
        chat_id=identity.chat_id,
        kind="status",
        html=text,
        submission_id=item.id,
    )
    session.add(note)
    return note
