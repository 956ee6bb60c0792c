"""Member roster, one-time invitation codes and binding a chat identity to a member."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from bot.members.credit import credit_guest_items
from bot.members.roster import RosterRow
from bot.storage.models import ChatIdentity, Invitation, Member, utcnow

_IDENTITY = select(ChatIdentity).where(  # built once: read at every message
    ChatIdentity.channel == bindparam("channel"), ChatIdentity.external_id == bindparam("external")
)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I


@dataclass
class ImportResult:
    """How many members were added and updated."""

    added: int = 0
    updated: int = 0


def import_members(session: Session, rows: list[RosterRow]) -> ImportResult:
    """Add new members and update name and sector of existing ones (matched by phone)."""
    result = ImportResult()
    existing = {
        m.phone: m for m in session.scalars(select(Member).where(Member.phone.in_([r.phone for r in rows])))
    }
    for r in rows:
        m = existing.get(r.phone)
        if m is None:
            session.add(Member(name=r.name, sector=r.sector, phone=r.phone))
            result.added += 1
        else:
            m.name, m.sector, m.active = r.name, r.sector, True
            result.updated += 1
    session.flush()
    return result


def new_code() -> str:
    """A random 10-character invitation code."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(10))


def create_invitations(
    session: Session, days: int = 14, count: int | None = None, phone: str | None = None
) -> list[Invitation]:
    """Codes for members not yet bound and without a valid unused code (or for one member by phone)."""
    now = utcnow()
    stmt = select(Member).where(Member.active.is_(True)).order_by(Member.id)
    if phone:
        stmt = stmt.where(Member.phone == phone)
    else:
        bound = exists().where(ChatIdentity.member_id == Member.id)
        pending = exists().where(
            Invitation.member_id == Member.id, Invitation.used_at.is_(None), Invitation.expires_at > now
        )
        stmt = stmt.where(~bound, ~pending)
    if count:
        stmt = stmt.limit(count)
    invites = [
        Invitation(code=new_code(), member=m, member_id=m.id, expires_at=now + timedelta(days=days))
        for m in session.scalars(stmt)
    ]
    session.add_all(invites)
    session.flush()
    return invites


def identity_for(
    session: Session, channel: str, external_id: str, chat_id: str, display_name: str = ""
) -> ChatIdentity:
    """The chat identity of a user on a channel, created on first contact."""
    ident = session.scalars(_IDENTITY, {"channel": channel, "external": external_id}).first()
    if ident is None:
        ident = ChatIdentity(
            channel=channel, external_id=external_id, chat_id=chat_id, display_name=display_name
        )
        session.add(ident)
        session.flush()
    elif ident.chat_id != chat_id or ident.blocked:
        ident.chat_id, ident.blocked = chat_id, False
    return ident


def redeem(session: Session, identity: ChatIdentity, code: str) -> tuple[str, Member | None]:
    """Bind the identity with a code: ('ok'|'already'|'invalid'|'used'|'expired', member).

    On 'ok' the chat's earlier guest submissions and supports are credited to the member (bot.members.credit)."""
    inv = session.scalars(select(Invitation).where(Invitation.code == code.strip().upper())).first()
    if inv is None:
        return "invalid", None
    if inv.used_at is not None:
        if inv.used_by_identity_id == identity.id:
            return "already", inv.member
        return "used", None
    if inv.expires_at <= utcnow():
        return "expired", None
    inv.used_at, inv.used_by_identity_id = utcnow(), identity.id
    identity.member_id, identity.bound_at = inv.member_id, utcnow()
    session.flush()
    credit_guest_items(session, identity)  # what this chat submitted as a guest becomes the member's
    return "ok", inv.member
