"""Web-chat sessions: tokens made by the server only, rotated when the chat's binding changes, ended when idle.

The `lvzhi_web` cookie holds a random token; the database keeps its SHA-256 and the chat key (`external_id`) it
opens. A cookie value the server did not issue opens nothing: the browser gets a new token and a new chat.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from bot.channels.web.history import drop_history
from bot.storage.models import ChatIdentity, Notification, WebSession, utcnow

_FIND = (  # built once: read at every request
    select(WebSession, ChatIdentity.member_id)
    .outerjoin(
        ChatIdentity, (ChatIdentity.channel == "web") & (ChatIdentity.external_id == WebSession.external_id)
    )
    .where(WebSession.token_hash == bindparam("hash"))
)
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session


def token_hash(token: str) -> str:
    """SHA-256 hex of a cookie token (what the database stores)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class Opened:
    """The session a request acts in: the chat key, and the token to (re)send in the cookie (None: keep it)."""

    session_id: int
    external_id: str
    token: str | None


def issue(s: Session, external_id: str | None, member_id: int | None) -> tuple[WebSession, str]:
    """A new session (and its cookie token) for the chat `external_id` (a new server-made chat when None)."""
    token = secrets.token_urlsafe(32)
    row = WebSession(
        token_hash=token_hash(token), external_id=external_id or secrets.token_hex(16), member_id=member_id
    )
    s.add(row)
    s.flush()
    return row, token


def _member_of(s: Session, external_id: str) -> int | None:
    return s.scalar(
        select(ChatIdentity.member_id).where(
            ChatIdentity.channel == "web", ChatIdentity.external_id == external_id
        )
    )


def find(s: Session, token: str, idle: timedelta) -> tuple[WebSession, int | None] | None:
    """The live session of a cookie token and the member its chat is bound to now (None: a guest), in one
    statement; None when the token is unknown, malformed or idle longer than `idle`."""
    if not token or len(token) > 100:
        return None
    found = s.execute(_FIND, {"hash": token_hash(token)}).first()
    if found is None or utcnow() - found[0].last_seen_at > idle:
        return None
    return found[0], found[1]


def open_session(s: Session, token: str, idle: timedelta, create: bool = True) -> Opened | None:
    """The session of the cookie; a new one (new chat) when the token is unknown or idle (None if not `create`).

    A session whose chat was bound or unbound since its token was issued gets a new token (the old one ends)."""
    found = find(s, token, idle)
    if found is None:
        if not create:
            return None
        row, new = issue(s, None, None)
        return Opened(row.id, row.external_id, new)
    row, member_id = found
    if member_id != row.member_id:
        return rotate(s, row)
    if utcnow() - row.last_seen_at > TOUCH_EVERY:
        row.last_seen_at = utcnow()
        return Opened(row.id, row.external_id, token)  # re-sent: the cookie's lifetime follows use
    return Opened(row.id, row.external_id, None)


def rotate(s: Session, row: WebSession) -> Opened:
    """A new token for the same chat (the old one stops working), recording the chat's current binding."""
    external_id, member_id = row.external_id, _member_of(s, row.external_id)
    s.delete(row)
    s.flush()
    new_row, new = issue(s, external_id, member_id)
    return Opened(new_row.id, external_id, new)


def refresh(s: Session, session_id: int) -> Opened | None:
    """After an event that may have bound the chat: a rotated session when the binding changed, else None."""
    row = s.get(WebSession, session_id)
    if row is None or _member_of(s, row.external_id) == row.member_id:
        return None
    return rotate(s, row)


def end_all(s: Session, session_id: int) -> int:
    """End every web session of this chat's member (only this chat's when unbound); the number ended.

    Their chats' undelivered notifications and stored conversations go with them; the caller starts a fresh guest
    session."""
    row = s.get(WebSession, session_id)
    if row is None:
        return 0
    member_id = _member_of(s, row.external_id)
    if member_id is None:
        chats = [row.external_id]
    else:
        chats = list(
            s.scalars(
                select(ChatIdentity.external_id).where(
                    ChatIdentity.channel == "web", ChatIdentity.member_id == member_id
                )
            )
        )
    ended = s.execute(delete(WebSession).where(WebSession.external_id.in_(chats))).rowcount or 0
    drop_notifications(s, chats)
    drop_history(s, chats)
    return ended


def drop_notifications(s: Session, chats: list[str]) -> int:
    """Delete the undelivered web notifications of chats that no longer have a session; the number deleted."""
    if not chats:
        return 0
    alive = set(s.scalars(select(WebSession.external_id).where(WebSession.external_id.in_(chats))))
    gone = [c for c in chats if c not in alive]
    if not gone:
        return 0
    stmt = delete(Notification).where(
        Notification.channel == "web", Notification.chat_id.in_(gone), Notification.sent_at.is_(None)
    )
    return s.execute(stmt).rowcount or 0
