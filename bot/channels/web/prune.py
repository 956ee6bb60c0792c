"""Removal of what nobody uses any more: idle web sessions, guest web chats without a session, old web update keys.

Run by the web server every LVZHI_PRUNE_INTERVAL_S seconds (`prune_job`) and callable directly (`prune`)."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from sqlalchemy import delete, exists, select, update
from sqlalchemy.orm import Session

from bot.channels.web.history import drop_history
from bot.channels.web.sessions import drop_notifications
from bot.periodic import run_every
from bot.storage.models import Base, ChatIdentity, ChatTurn, FlowState, ProcessedUpdate, WebSession, utcnow

log = logging.getLogger(__name__)
BATCH = 500  # guest chats removed per statement


UNLINKED = {"qa_log"}  # tables whose link to a removed guest is set to NULL; a row elsewhere keeps the guest


def _identity_refs() -> list[tuple[object, bool]]:
    """Every column that points at chat_identities.id (found from the metadata), with whether its rows are
    unlinked (True) or keep the guest (False)."""
    refs = []
    for table in Base.metadata.tables.values():
        for col in table.columns:
            if any(fk.target_fullname == "chat_identities.id" for fk in col.foreign_keys):
                refs.append((col, table.name in UNLINKED))
    return refs


def prune(s: Session, idle: timedelta, after: timedelta) -> dict[str, int]:
    """Delete, in the caller's transaction:

    - web sessions idle longer than `idle` (and the undelivered notifications and stored conversation of chats
      left without a session);
    - web update keys (`processed_updates`, channel web) older than `after`;
    - guest web chats (unbound `chat_identities`) older than `after` with no session and nothing of their own
      (no submission, support, invitation or notification): their draft and chat turns go with them, and the
      question log keeps its rows without the link.
    Returns the counts by kind: sessions, notifications, updates, guests, history (messages)."""
    now = utcnow()
    stale = list(s.scalars(select(WebSession.external_id).where(WebSession.last_seen_at < now - idle)))
    counts = {"sessions": 0, "notifications": 0, "updates": 0, "guests": 0, "history": 0}
    if stale:
        counts["sessions"] = s.execute(
            delete(WebSession).where(WebSession.last_seen_at < now - idle)
        ).rowcount
        counts["notifications"] = drop_notifications(s, stale)
        counts["history"] = drop_history(s, stale)
    counts["updates"] = (
        s.execute(
            delete(ProcessedUpdate).where(
                ProcessedUpdate.channel == "web", ProcessedUpdate.processed_at < now - after
            )
        ).rowcount
        or 0
    )
    refs = [(c, unlink) for c, unlink in _identity_refs() if c.table.name != "flow_states"]
    cond = [
        ChatIdentity.channel == "web",
        ChatIdentity.member_id.is_(None),
        ChatIdentity.created_at < now - after,
        ~exists().where(WebSession.external_id == ChatIdentity.external_id),
    ]
    cond += [~exists().where(c == ChatIdentity.id) for c, unlink in refs if not unlink]
    while True:
        guests = list(s.execute(select(ChatIdentity.id, ChatIdentity.external_id).where(*cond).limit(BATCH)))
        if not guests:
            break
        ids, chats = [g[0] for g in guests], [g[1] for g in guests]
        for col, unlink in refs:
            if unlink:
                s.execute(update(col.table).where(col.in_(ids)).values({col.name: None}))
        s.execute(delete(FlowState).where(FlowState.identity_id.in_(ids)))
        s.execute(delete(ChatTurn).where(ChatTurn.channel == "web", ChatTurn.chat_id.in_(chats)))
        counts["guests"] += s.execute(delete(ChatIdentity).where(ChatIdentity.id.in_(ids))).rowcount or 0
    return counts


def prune_now(db, settings) -> dict[str, int]:
    """One pruning pass in its own transaction with the intervals of the settings."""
    with db.session() as s:
        return prune(
            s, timedelta(hours=settings.web_session_idle_hours), timedelta(hours=settings.prune_after_hours)
        )


async def prune_job(app):
    """aiohttp cleanup context: prune every LVZHI_PRUNE_INTERVAL_S seconds while the server runs."""
    from bot.channels.web.context import SERVICES

    services = app[SERVICES]

    def report(counts: dict[str, int]) -> None:
        if any(counts.values()):
            log.info("pruned %s", counts)

    task = asyncio.create_task(
        run_every(
            services.settings.prune_interval_s,
            lambda: prune_now(services.db, services.settings),
            report,
            "pruning",
            wait_first=True,
            db=services.db,
        )
    )
    yield
    task.cancel()
