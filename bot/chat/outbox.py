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

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import aliased

from bot.chat.types import Button
from bot.storage import Database
from bot.storage.leases import serialise
from bot.storage.models import ChatIdentity, Notification, utcnow

log = logging.getLogger(__name__)
GIVE_UP_AFTER = timedelta(
    hours=48
)  # a message that could not be delivered for two days is given up (recorded)
MAX_BACKOFF_S = 600.0
LOCAL_OWNER = "local"  # the owner of claims made without a replica id (one process)
INTERRUPTED = "发送中断，无法确认是否送达"


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


def claim(db: Database, channel: str, owner: str, lease_s: float = 60.0, limit: int = 50) -> list[Pending]:
    """Claim messages due on the channel for replica `owner` for `lease_s` seconds, oldest first.

    Due: not sent, not given up, back-off over, and not held by another replica's unexpired lease. Several
    replicas claim at once without overlap: the rows are read `FOR UPDATE SKIP LOCKED` (PostgreSQL; SQLite has
    one writer at a time) and claims are serialised per channel by an advisory transaction lock, so a message
    behind an earlier unfinished one of the same chat held by another replica waits for it (order per chat).
    A due row found with a piece in flight was being sent by a replica that died (its lease expired): it is
    given up as unknown (`last_error` 「发送中断，无法确认是否送达」) and never sent again — the at-most-once rule.
    """
    now = utcnow()
    with db.session() as s:
        serialise(s, "outbox:" + channel)
        earlier = aliased(Notification)
        held_before = (
            select(earlier.id)
            .where(
                earlier.channel == Notification.channel,
                earlier.chat_id == Notification.chat_id,
                earlier.id < Notification.id,
                earlier.sent_at.is_(None),
                earlier.failed_at.is_(None),
                earlier.claimed_until >= now,
                earlier.claimed_by != owner,
            )
            .exists()
        )
        rows = s.scalars(
            select(Notification)
            .where(
                Notification.channel == channel,
                Notification.sent_at.is_(None),
                Notification.failed_at.is_(None),
                or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
                or_(
                    Notification.claimed_until.is_(None),
                    Notification.claimed_until < now,
                    Notification.claimed_by == owner,
                ),
                ~held_before,
            )
            .order_by(Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for n in rows:
            if n.in_flight_piece is not None:
                n.failed_at = now
                n.last_error = f"{INTERRUPTED}（第{n.in_flight_piece + 1}段）"
                log.warning(
                    "notification %s interrupted mid-send by %s: unknown, not resent", n.id, n.claimed_by
                )
                continue
            n.claimed_by, n.claimed_until = owner, now + timedelta(seconds=lease_s)
            claimed.append(
                Pending(
                    n.id,
                    n.chat_id,
                    n.html,
                    [[Button(b["label"], b["data"]) for b in row] for row in n.buttons or []],
                    n.pieces_sent or 0,
                )
            )
        return claimed


def pending(db: Database, channel: str, limit: int = 50) -> list[Pending]:
    """Claim due messages for this process alone (one replica; see `claim`)."""
    return claim(db, channel, LOCAL_OWNER, limit=limit)


def start_piece(db: Database, note_id: int, owner: str, piece: int, lease_s: float = 60.0) -> bool:
    """Mark piece `piece` (0-based) in flight before it is sent and renew the lease; False if `owner` lost the
    message (another replica took it over after the lease expired, or it is finished): then do not send."""
    with db.session() as s:
        return (
            s.execute(
                update(Notification)
                .where(
                    Notification.id == note_id,
                    Notification.claimed_by == owner,
                    Notification.sent_at.is_(None),
                    Notification.failed_at.is_(None),
                )
                .values(in_flight_piece=piece, claimed_until=utcnow() + timedelta(seconds=lease_s))
                .execution_options(synchronize_session=False)
            ).rowcount
            == 1
        )


def piece_sent(db: Database, note_id: int, pieces_sent: int, done: bool) -> None:
    """Record that `pieces_sent` pieces are delivered (nothing in flight); `done` marks the message sent."""
    with db.session() as s:
        n = s.get(Notification, note_id)
        n.pieces_sent = pieces_sent
        n.in_flight_piece = None
        if done:
            n.attempts += 1
            n.sent_at = utcnow()
            n.claimed_by = n.claimed_until = None


def unknown_count(db: Database, channel: str) -> int:
    """Messages given up because a replica died while sending them (maybe delivered, never resent)."""
    with db.session() as s:
        return s.scalar(
            select(func.count())
            .select_from(Notification)
            .where(
                Notification.channel == channel,
                Notification.failed_at.is_not(None),
                Notification.in_flight_piece.is_not(None),
            )
        )


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
        n.in_flight_piece = n.claimed_by = n.claimed_until = None  # the piece was not taken: free to retry
        now = utcnow()
        if permanent or now - n.created_at > GIVE_UP_AFTER:
            n.failed_at = now
        else:
            n.next_attempt_at = now + timedelta(seconds=min(base_s * 2 ** (n.attempts - 1), MAX_BACKOFF_S))
        if blocked:
            ident = s.get(ChatIdentity, n.identity_id)
            if ident is not None:
                ident.blocked = True
