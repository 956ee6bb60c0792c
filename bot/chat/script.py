"""The member's script (Simplified or Traditional), decided from their recent messages and remembered per chat.

A verdict is taken from each text a member sends that has characters of one script only (「幾個問題」: Traditional,
「几个问题」: Simplified; 「提案」 says nothing); the last RECENT verdicts are kept on the chat identity
(chat_identities.script_recent, e.g. "tts") and the member's script is their majority (a tie: the latest).
While the core handles an event, the member's script is the current one (`speaking`), so every text the core
renders with bot.chat.texts.say follows it; notifications written later read it from the identity (`of_identity`).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from sqlalchemy.orm import Session

from bot.storage.models import ChatIdentity
from bot.textnorm import script_counts

RECENT = 5  # verdicts kept per chat
_CURRENT: ContextVar[bool] = ContextVar("lvzhi_member_traditional", default=False)


def verdict(text: str) -> str | None:
    """'t' when the text has more Traditional-only than Simplified-only Han characters, 's' for the reverse,
    None when it has none of either (or as many of each): a message like 「提案」 or 「OK」 decides nothing."""
    traditional_only, simplified_only = script_counts(text)
    if traditional_only > simplified_only:
        return "t"
    if simplified_only > traditional_only:
        return "s"
    return None


def is_traditional_recent(recent: str) -> bool:
    """The majority of the kept verdicts ('t'/'s' characters, oldest first); a tie goes to the latest one."""
    t, s = recent.count("t"), recent.count("s")
    if t != s:
        return t > s
    return recent.endswith("t")


def remember(identity: ChatIdentity, text: str) -> bool:
    """Fold the script of a message the member sent into their identity; their script afterwards (True: Traditional)."""
    found = verdict(text)
    if found is not None:
        identity.script_recent = ((identity.script_recent or "") + found)[-RECENT:]
    return is_traditional_recent(identity.script_recent or "")


def of_question(question: str, remembered: bool) -> bool:
    """The script for the bot's own words about a question: the question's when it shows one (verdict), else
    `remembered` (the member's script)."""
    found = verdict(question)
    return found == "t" if found else remembered


def traditional_of(identity: ChatIdentity | None) -> bool:
    """Whether the member behind this identity writes Traditional (False for no identity or no verdict yet)."""
    return identity is not None and is_traditional_recent(identity.script_recent or "")


def of_identity(session: Session, identity_id: int | None) -> bool:
    """The remembered script of a chat identity by id, for a text written when the member is not typing."""
    return traditional_of(session.get(ChatIdentity, identity_id) if identity_id is not None else None)


def current() -> bool:
    """The script of the member the core is talking to now (False: Simplified, outside any `speaking` block)."""
    return _CURRENT.get()


@contextmanager
def speaking(traditional: bool) -> Iterator[None]:
    """Within the block, texts rendered without an explicit script follow `traditional`."""
    token = _CURRENT.set(traditional)
    try:
        yield
    finally:
        _CURRENT.reset(token)


def of_chat(db, channel: str, chat_id: str) -> bool:
    """The remembered script of a chat, read in its own transaction (for a channel's own notices, e.g. an apology
    after an error; False when the chat is unknown). `db` is a bot.storage.Database."""
    from sqlalchemy import select

    with db.session() as s:
        recent = s.scalar(
            select(ChatIdentity.script_recent)
            .where(ChatIdentity.channel == channel, ChatIdentity.chat_id == str(chat_id))
            .order_by(ChatIdentity.id)
            .limit(1)
        )
    return is_traditional_recent(recent or "")
