"""Delivers the outbox (status changes, staff replies, chat replies that could not be sent at once) to Telegram."""

from __future__ import annotations

import asyncio
import logging

from telegram.error import Forbidden, TelegramError

from bot.channels.telegram.html import split_html
from bot.channels.telegram.sender import Sender, is_transient
from bot.chat import outbox

log = logging.getLogger(__name__)


async def deliver_once(
    sender: Sender, interval_s: float = 2.0, owner: str = outbox.LOCAL_OWNER, lease_s: float = 60.0
) -> int:
    """Send what is due, each message from its first undelivered piece; the number of messages completed.

    Several replicas: each claims its own messages (`outbox.claim`, a lease of `lease_s` seconds for replica
    `owner`, renewed per piece) and marks every piece in flight before sending it, so no message is sent by two
    replicas and one interrupted by a dead replica is reported unknown, never resent.

    A piece is counted as soon as Telegram took it, so a message interrupted half-way resumes after the last
    delivered piece and nothing shows twice. A failed message backs off (interval_s · 2^attempts) or, on a
    permanent error, is given up with its error recorded.
    """
    done = 0
    for note in await asyncio.to_thread(outbox.claim, sender.db, sender.channel, owner, lease_s):
        pieces = split_html(note.html)
        lost = False
        try:
            for i in range(note.pieces_sent, len(pieces)):
                if not await asyncio.to_thread(outbox.start_piece, sender.db, note.id, owner, i, lease_s):
                    log.warning("notification %s taken over by another replica; not sent here", note.id)
                    lost = True
                    break
                markup = note.buttons if i == len(pieces) - 1 else None
                await sender.message(note.chat_id, pieces[i], markup)
                await asyncio.to_thread(outbox.piece_sent, sender.db, note.id, i + 1, i == len(pieces) - 1)
        except TelegramError as exc:
            log.warning("notification %s not delivered: %r", note.id, exc)
            await asyncio.to_thread(
                outbox.attempt_failed, sender.db, note.id, repr(exc), not is_transient(exc),
                isinstance(exc, Forbidden), interval_s,
            )  # fmt: skip
        else:
            if lost:
                continue
            if note.pieces_sent >= len(pieces):  # nothing left (pieces counted before a crash)
                await asyncio.to_thread(outbox.piece_sent, sender.db, note.id, len(pieces), True)
            done += 1
    return done


async def deliver_forever(
    sender: Sender, interval_s: float, owner: str = outbox.LOCAL_OWNER, lease_s: float = 60.0
) -> None:
    """Deliver the outbox every interval until cancelled; errors are logged, never fatal."""
    while True:
        try:
            await deliver_once(sender, interval_s, owner, lease_s)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("notification delivery failed")
        await asyncio.sleep(interval_s)
