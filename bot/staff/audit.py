"""The audit log: every staff action and every refused attempt goes through record()."""

from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.staff.models import AuditEntry

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
    log.warning("staff access refused: %s on %s tried %s", who, channel, what[:200])
    return record(session, who, "access_denied", what, None, None, channel)


def latest(session: Session, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    """The newest entries first."""
    stmt = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))
