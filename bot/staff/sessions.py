"""Server-side web sessions for staff: random token in an HttpOnly cookie, its hash in the database."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.staff.identity import Staff
from bot.staff.models import StaffAccount, StaffSession
from bot.storage.models import utcnow


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(session: Session, account: StaffAccount, hours: float) -> tuple[str, str]:
    """A new session for the account: (cookie token, CSRF token)."""
    token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    session.execute(delete(StaffSession).where(StaffSession.expires_at <= utcnow()))  # expired logins go
    session.add(
        StaffSession(
            token_hash=_hash(token), account_id=account.id, csrf=csrf,
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )  # fmt: skip
    return token, csrf


def resolve(session: Session, token: str) -> tuple[Staff, str] | None:
    """The staff member and CSRF token of a live session, or None (expired, ended, inactive account)."""
    if not token or len(token) > 100:
        return None
    row = session.execute(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.account_id)
        .where(StaffSession.token_hash == _hash(token))
    ).first()
    if row is None:
        return None
    sess, account = row
    if sess.expires_at <= utcnow() or not account.active:
        return None
    return Staff(account.username, account.role, account.display_name, "web"), sess.csrf


def end(session: Session, token: str) -> None:
    """Log out: delete the session."""
    session.execute(delete(StaffSession).where(StaffSession.token_hash == _hash(token)))


def end_all(session: Session, account_id: int) -> None:
    """Delete every session of an account (password change, removal)."""
    session.execute(delete(StaffSession).where(StaffSession.account_id == account_id))
