"""The audit log: every staff action and every refused attempt goes through record()."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.logsafe import clean
from bot.staff.models import AuditEntry, StaffAccount
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


# target kinds a bare search value (a receipt number, a campaign number, a username) is tried as
TARGET_KINDS = ("submission", "item", "campaign", "staff", "document", "doc")


@dataclass
class AuditFilter:
    """What the audit page shows: who (exact actor), which action codes, what target, and a time range.

    `target` is either "kind:value" (matched exactly) or a bare value tried as every kind of TARGET_KINDS and as the
    whole target (e.g. "TA2026-0001" finds "submission:TA2026-0001"); `since`/`until` are aware datetimes
    (until exclusive). Empty fields do not filter."""

    actor: str = ""
    actions: tuple[str, ...] = ()
    target: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _targets(value: str) -> list[str]:
    value = value.strip()
    if ":" in value:
        return [value]
    forms = dict.fromkeys((value, value.upper()))
    return [*forms, *(f"{kind}:{v}" for kind in TARGET_KINDS for v in forms)]


def search(session: Session, f: AuditFilter, limit: int = 50, offset: int = 0) -> list[AuditEntry]:
    """The entries matching the filter, newest first (each condition uses an index of audit_log)."""
    stmt = select(AuditEntry)
    if f.actor.strip():
        stmt = stmt.where(AuditEntry.actor == f.actor.strip()[:120])
    if f.actions:
        stmt = stmt.where(AuditEntry.action.in_(f.actions))
    if f.target.strip():
        stmt = stmt.where(or_(*(AuditEntry.target == t[:200] for t in _targets(f.target))))
    if f.since is not None:
        stmt = stmt.where(AuditEntry.at >= f.since)
    if f.until is not None:
        stmt = stmt.where(AuditEntry.at < f.until)
    return list(session.scalars(stmt.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)))


def staff_names(session: Session) -> list[str]:
    """The usernames of the staff accounts (the choices of the audit page's 操作人 field)."""
    return list(session.scalars(select(StaffAccount.username).order_by(StaffAccount.username)))
