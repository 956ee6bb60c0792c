"""Delivers the notifications outbox (status changes) to Telegram chats."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import Forbidden, TelegramError

from bot.channels.telegram.html import split_html
from bot.channels.telegram.render import keyboard
from bot.chat.types import Button
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


def buttons_of(db: Database, ids: list[int]) -> dict[int, list[list[Button]]]:
    """The button rows stored with these notifications (e.g. the rating of a reply), by id."""
    if not ids:
        return {}
    with db.session() as s:
        rows = s.execute(select(Notification.id, Notification.buttons).where(Notification.id.in_(ids)))
        return {
            i: [[Button(b["label"], b["data"]) for b in row] for row in rows_] for i, rows_ in rows if rows_
        }


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
    notes = await asyncio.to_thread(pending, db)
    markups = await asyncio.to_thread(buttons_of, db, [n[0] for n in notes])
    for note_id, chat_id, text in notes:
        try:
            pieces = split_html(text)
            for i, piece in enumerate(pieces):
                markup = keyboard(markups.get(note_id, [])) if i == len(pieces) - 1 else None
                await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=markup)
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
