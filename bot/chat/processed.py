"""Processed update keys: each channel update is handled once; keys are kept only while a redelivery can come.

A key is the channel's own idempotency key: for Telegram ``"<bot id>:<update_id>"`` (the bot id is the part of
the token before the colon), so a new bot token or a restarted id sequence never collides with old keys; for the
web chat the id the page sends with a message. Keys older than ``KEEP`` are pruned and, if still present, treated
as unused: Telegram keeps an undelivered update for at most 24 hours and, after a week without updates, starts the
update_id sequence anew (Bot API, getUpdates/Update docs), so 7 days covers every redelivery.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from bot.periodic import run_every
from bot.storage import Database
from bot.storage.insert_once import insert_once
from bot.storage.models import ProcessedUpdate, utcnow

log = logging.getLogger(__name__)
KEEP = timedelta(days=7)
_SEEN = select(ProcessedUpdate.update_key).where(  # built once: `seen` runs at every message
    ProcessedUpdate.channel == bindparam("channel"),
    ProcessedUpdate.update_key == bindparam("key"),
    ProcessedUpdate.processed_at >= bindparam("cutoff"),
)
PRUNE_INTERVAL_S = 3600.0


def telegram_key(token: str, update_id: int) -> str:
    """The key of a Telegram update: ``"<bot id>:<update_id>"``, the bot id taken from the token ``"<id>:<secret>"``."""
    return f"{token.split(':', 1)[0]}:{update_id}"


def seen(s: Session, channel: str, key: str, keep: timedelta = KEEP) -> bool:
    """True if the key was processed within `keep` (an older key no longer counts)."""
    return s.scalar(_SEEN, {"channel": channel, "key": key, "cutoff": utcnow() - keep}) is not None


def claim(s: Session, channel: str, key: str, keep: timedelta = KEEP) -> bool:
    """Mark the key processed in the session's transaction; False if it was already processed within `keep`.

    An expired key that pruning has not removed yet is taken over (its time refreshed), so a restarted id
    sequence is answered even between two runs of the pruning job. Concurrent claims: one wins (primary key: one
    INSERT … ON CONFLICT DO NOTHING inserts; and the conditional UPDATE matches one row once).
    """
    if insert_once(s, ProcessedUpdate, channel=channel, update_key=key):
        return True
    now = utcnow()
    taken = s.execute(
        update(ProcessedUpdate)
        .where(
            ProcessedUpdate.channel == channel,
            ProcessedUpdate.update_key == key,
            ProcessedUpdate.processed_at < now - keep,
        )
        .values(processed_at=now)
        .execution_options(synchronize_session=False)
    )
    return taken.rowcount == 1


def prune(db: Database, keep: timedelta = KEEP) -> int:
    """Delete keys processed more than `keep` ago (every channel); the number deleted."""
    with db.session() as s:
        result = s.execute(delete(ProcessedUpdate).where(ProcessedUpdate.processed_at < utcnow() - keep))
        return result.rowcount or 0


async def prune_forever(db: Database, interval_s: float = PRUNE_INTERVAL_S, keep: timedelta = KEEP) -> None:
    """Run `prune` every interval until cancelled (a job of `lvzhi serve`); errors are logged, never fatal."""

    def report(removed: int) -> None:
        if removed:
            log.info("pruned %s processed update keys older than %s", removed, keep)

    await run_every(interval_s, lambda: prune(db, keep), report, "pruning processed update keys", db=db)


def was_processed(db: Database, channel: str, key: str, keep: timedelta = KEEP) -> bool:
    """`seen` in a read-only transaction of its own (a channel's early check before any work)."""
    with db.session() as s:
        return seen(s, channel, key, keep)
