"""The outbox of messages to members (`notifications` table): queued, delivered piece by piece, retried, given up.

Channel-neutral bookkeeping; a channel's notifier sends. Status changes, staff replies and reminders are queued by
their services; a chat reply that a channel could not send (after its own retries) is queued here with
`queue_reply` (kind "chat") so it is delivered later, exactly once: each delivered piece is counted
(`pieces_sent`), and a message is marked sent only after its last piece.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select

from bot.chat.types import Button
from bot.storage import Database
from bot.storage.models import ChatIdentity, Notification, utcnow

log = logging.getLogger(__name__)
GIVE_UP_AFTER = timedelta(
    hours=48
)  # a message that could not be delivered for two days is given up (recorded)
MAX_BACKOFF_S = 600.0


@dataclass(frozen=True)
class Pending:
    """A message to deliver: id, chat, its HTML, button rows for its last piece, pieces already delivered."""

    id: int
    chat_id: str
    html: str
    buttons: list[list[Button]]
    pieces_sent: int


def queue_reply(
    db: Database,
    channel: str,
    chat_id: str,
    html: str,
    buttons: list[list[Button]] | None = None,
    pieces_sent: int = 0,
    error: str = "",
    failed: bool = False,
    blocked: bool = False,
    not_before_s: float = 0.0,
) -> int | None:
    """Keep a reply the channel could not send; its notification id (None if the chat has no identity).

    `pieces_sent`: pieces of `html` (as the channel splits it) already delivered. `failed`: record a permanent
    failure (blocked, chat not found, bad request) instead of queueing for delivery; `blocked`: the member
    blocked the bot (the identity is marked, as the notifier does). `not_before_s`: seconds to wait before
    delivery (a 429's retry_after).
    """
    with db.session() as s:
        ident = s.scalars(
            select(ChatIdentity)
            .where(ChatIdentity.channel == channel, ChatIdentity.chat_id == str(chat_id))
            .order_by(ChatIdentity.id)
            .limit(1)
        ).first()
        if ident is None:
            log.error("reply to %s/%s not sent and not kept (no chat identity): %s", channel, chat_id, error)
            return None
        note = Notification(
            identity_id=ident.id,
            channel=channel,
            chat_id=str(chat_id),
            kind="chat",
            html=html,
            buttons=[[{"label": b.label, "data": b.data} for b in row] for row in buttons or []] or None,
            pieces_sent=pieces_sent,
            last_error=error[:500],
            failed_at=utcnow() if failed else None,
            next_attempt_at=utcnow() + timedelta(seconds=not_before_s) if not_before_s > 0 else None,
        )
        s.add(note)
        if blocked:
            ident.blocked = True
        s.flush()
        return note.id


def pending(db: Database, channel: str, limit: int = 50) -> list[Pending]:
    """Messages due for delivery on the channel, oldest first (not sent, not given up, back-off over)."""
    with db.session() as s:
        rows = s.scalars(
            select(Notification)
            .where(
                Notification.channel == channel,
                Notification.sent_at.is_(None),
                Notification.failed_at.is_(None),
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= utcnow()),
            )
            .order_by(Notification.id)
            .limit(limit)
        )
        return [
            Pending(
                n.id,
                n.chat_id,
                n.html,
                [[Button(b["label"], b["data"]) for b in row] for row in n.buttons or []],
                n.pieces_sent or 0,
            )
            for n in rows
        ]


def piece_sent(db: Database, note_id: int, pieces_sent: int, done: bool) -> None:
    """Record that `pieces_sent` pieces are delivered; `done` marks the message sent."""
    with db.session() as s:
        n = s.get(Notification, note_id)
        n.pieces_sent = pieces_sent
        if done:
            n.attempts += 1
            n.sent_at = utcnow()


def attempt_failed(
    db: Database,
    note_id: int,
    error: str,
    permanent: bool = False,
    blocked: bool = False,
    base_s: float = 2.0,
) -> None:
    """Record a failed delivery: a permanent one (or one older than GIVE_UP_AFTER) is given up, else retried
    after an exponential back-off (base_s · 2^attempts, at most MAX_BACKOFF_S). `blocked` marks the identity."""
    with db.session() as s:
        n = s.get(Notification, note_id)
        n.attempts += 1
        n.last_error = error[:500]
        now = utcnow()
        if permanent or now - n.created_at > GIVE_UP_AFTER:
            n.failed_at = now
        else:
            n.next_attempt_at = now + timedelta(seconds=min(base_s * 2 ** (n.attempts - 1), MAX_BACKOFF_S))
        if blocked:
            ident = s.get(ChatIdentity, n.identity_id)
            if ident is not None:
                ident.blocked = True
