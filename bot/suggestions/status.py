"""Moving a submission along its workflow and telling the member (via the notifications outbox)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat.texts import say
from bot.records.recorder import sync_submission
from bot.storage.models import ChatIdentity, Notification, StatusChange, utcnow
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
    session: Session, receipt_no: str, status: str, reason: str = "", actor: str = "staff"
) -> StatusChange:
    """Move the item to the status if the workflow allows it, record it and queue a message to the member."""
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
    identity = session.get(ChatIdentity, item.identity_id)
    if identity is not None:
        text = say(
            "status_changed",
            receipt=item.receipt_no,
            type_name=cat.get(item.type).name,
            title=item.title,
            status=cat.status_label(target),
            reason_html=say("status_reason", reason=reason) if reason else "",
        )
        session.add(
            Notification(
                identity_id=identity.id,
                channel=identity.channel,
                chat_id=identity.chat_id,
                kind="status",
                html=text,
                submission_id=item.id,
            )
        )
    session.flush()
    sync_submission(session, item)  # 立案 / 采用 reach the duty record (idempotent)
    return change
