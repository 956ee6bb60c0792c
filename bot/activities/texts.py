"""Member-facing activity texts from prompts/activities.toml, and the script a member writes in."""

from __future__ import annotations

import html

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.prompts import render_for
from bot.storage.models import ChatIdentity, ChatTurn, QALog
from bot.textnorm import is_traditional


def say(template: str, /, traditional: bool = False, **variables: object) -> str:
    """Render activities/<template>; variables are HTML-escaped unless their name ends in _html.

    With traditional=True the template's own words are in Traditional (the variables are put in unchanged)."""
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=False)) for k, v in variables.items()
    }
    return render_for(f"activities/{template}", traditional, **safe)


def writes_traditional(session: Session, ident: ChatIdentity) -> bool:
    """Whether this chat's latest question was written in Traditional characters (False when it asked none).

    The chat's last turn (chat_turns) is looked at first, then its question log (qa_log)."""
    last = session.scalar(
        select(ChatTurn.question)
        .where(ChatTurn.channel == ident.channel, ChatTurn.chat_id == ident.chat_id)
        .order_by(ChatTurn.id.desc())
        .limit(1)
    )
    if last is None:
        last = session.scalar(
            select(QALog.question).where(QALog.identity_id == ident.id).order_by(QALog.id.desc()).limit(1)
        )
    return bool(last) and is_traditional(last)


def traditional_chats(session: Session, idents: list[ChatIdentity]) -> set[int]:
    """Ids of the identities whose latest question was in Traditional (writes_traditional for many at once:
    two grouped queries per 500 identities instead of two per identity)."""
    out: set[int] = set()
    for start in range(0, len(idents), 500):
        part = idents[start : start + 500]
        by_chat = {(i.channel, i.chat_id): i.id for i in part}
        latest = (
            select(func.max(ChatTurn.id))
            .where(ChatTurn.chat_id.in_({i.chat_id for i in part}))
            .group_by(ChatTurn.channel, ChatTurn.chat_id)
        )
        seen: set[int] = set()
        for channel, chat_id, question in session.execute(
            select(ChatTurn.channel, ChatTurn.chat_id, ChatTurn.question).where(ChatTurn.id.in_(latest))
        ):
            ident_id = by_chat.get((channel, chat_id))
            if ident_id is not None:
                seen.add(ident_id)
                if question and is_traditional(question):
                    out.add(ident_id)
        rest = [i.id for i in part if i.id not in seen]
        if rest:
            latest_qa = (
                select(func.max(QALog.id)).where(QALog.identity_id.in_(rest)).group_by(QALog.identity_id)
            )
            for ident_id, question in session.execute(
                select(QALog.identity_id, QALog.question).where(QALog.id.in_(latest_qa))
            ):
                if question and is_traditional(question):
                    out.add(ident_id)
    return out
