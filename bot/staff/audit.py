"""The audit log: every staff action and every refused attempt goes through record()."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.logsafe import clean
from bot.staff.models import AuditEntry
from bot.storage.models import utcnow

FOLD_WINDOW = timedelta(minutes=1)

log = logging.getLogger("lvzhi.security")


def record(
    session: Session, actor: str, action: str, target: str = "",
    before: dict | None = None, after: dict | None = None, channel: str = "",
) -> AuditEntry:  # fmt: skip
    """Append one row to the audit log in the caller's transaction."""
    entry = AuditEntry(
        actor=actor[:120], channel=channel, action=action, target=target[:200], before=before, after=after
    )
    session.add(entry)
    session.flush()
    return entry


def denied(session: Session, who: str, channel: str, what: str) -> AuditEntry:
    """Record a refused attempt by a non-staff user (and warn in the security log)."""
    log.warning("staff access refused: %s on %s tried %s", clean(who, 120), clean(channel, 20), clean(what))
    return record(session, who, "access_denied", what, None, None, channel)


def fold(session: Session, who: str, channel: str, action: str, what: str) -> AuditEntry:
    """Record an anonymous attempt folded: one row per actor (a client address) and action per minute, whose
    `repeats` counts the attempts (the first attempt's target is kept). Logged once per row, escaped."""
    since = utcnow() - FOLD_WINDOW
    row = session.scalar(
        select(AuditEntry)
        .where(AuditEntry.actor == who[:120], AuditEntry.action == action, AuditEntry.at >= since)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if row is not None:
        row.repeats += 1
        return row
    log.warning("staff %s: %s on %s tried %s", action, clean(who, 120), clean(channel, 20), clean(what))
    return record(session, who, action, what, None, None, channel)


def latest(session: Session, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    """The newest entries first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
