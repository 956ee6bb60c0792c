"""Delivers the notifications outbox (status changes) to Telegram chats."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram.html import split_html
from bot.storage import Database
from bot.storage.models import ChatIdentity, Notification, utcnow

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5


def pending(db: Database, channel: str = "telegram", limit: int = 50) -> list[tuple[int, str, str]]:
    """(id, chat_id, html) of notifications not yet delivered."""
    with db.session() as s:
        rows = s.scalars(
            select(Notification)
            .where(Notification.channel == channel, Notification.sent_at.is_(None))
            .where(Notification.attempts < MAX_ATTEMPTS)
            .order_by(Notification.id)
            .limit(limit)
        )
        return [(n.id, n.chat_id, n.html) for n in rows]


def mark(db: Database, note_id: int, error: str = "", blocked: bool = False) -> None:
    """Record a delivery (or a failed attempt; a blocked bot marks the identity)."""
    with db.session() as s:
        n = s.get(Notification, note_id)
        n.attempts += 1
        if error:
            n.last_error = error[:500]
            if blocked:
                n.attempts = MAX_ATTEMPTS
                s.get(ChatIdentity, n.identity_id).blocked = True
        else:
            n.sent_at = utcnow()


async def deliver_once(bot: Bot, db: Database) -> int:
    """Send what is pending; the number delivered."""
    sent = 0
    for note_id, chat_id, text in await asyncio.to_thread(pending, db):
        try:
            for piece in split_html(text):
                await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML)
        except Forbidden as exc:
            await asyncio.to_thread(mark, db, note_id, str(exc), True)
        except TelegramError as exc:
            log.warning("notification %s not delivered: %s", note_id, exc)
            await asyncio.to_thread(mark, db, note_id, str(exc))
        else:
            await asyncio.to_thread(mark, db, note_id)
            sent += 1
    return sent


async def deliver_forever(bot: Bot, db: Database, interval_s: float) -> None:
    """Poll the outbox every interval until cancelled."""
    while True:
        try:
            await deliver_once(bot, db)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notification delivery failed")
        await asyncio.sleep(interval_s)
