"""Member-facing activity texts from prompts/activities.toml, and the script a member writes in."""

from __future__ import annotations

import html

from sqlalchemy import select
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
