"""Repository of chat turns: the last few exchanges per chat, pruned to a limit."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bot.answering.followup import Turn
from bot.storage.db import Database
from bot.storage.models.chat_turns import ChatTurn

ANSWER_CHARS = 500  # enough of an answer to resolve a follow-up; the full answer is in qa_log


def recent_turns(session: Session, channel: str, chat_id: str | int, limit: int) -> list[Turn]:
    """The last `limit` turns of a chat, oldest first."""
    rows = session.scalars(
        select(ChatTurn)
        .where(ChatTurn.channel == channel, ChatTurn.chat_id == str(chat_id))
        .order_by(ChatTurn.id.desc())
        .limit(max(1, limit))
    ).all()
    return [Turn(question=r.question, answer=r.answer, standalone=r.standalone) for r in reversed(rows)]


def add_turn(session: Session, channel: str, chat_id: str | int, turn: Turn, limit: int) -> None:
    """Store a turn and drop the chat's turns beyond the limit."""
    session.add(
        ChatTurn(
            channel=channel,
            chat_id=str(chat_id),
            question=turn.question,
            standalone=turn.standalone if turn.standalone != turn.question else "",
            answer=turn.answer[:ANSWER_CHARS],
        )
    )
    session.flush()
    mine = (ChatTurn.channel == channel, ChatTurn.chat_id == str(chat_id))
    keep = select(ChatTurn.id).where(*mine).order_by(ChatTurn.id.desc()).limit(max(1, limit))
    session.execute(delete(ChatTurn).where(*mine, ChatTurn.id.not_in(keep.scalar_subquery())))


class ChatHistory:
    """Per-chat history of turns in the database, at most `limit` turns kept per chat (own transactions)."""

    def __init__(self, db: Database, limit: int = 4) -> None:
        self.db = db
        self.limit = max(1, limit)

    def recent(self, channel: str, chat_id: str | int) -> list[Turn]:
        """The last turns of the chat, oldest first."""
        with self.db.session() as s:
            return recent_turns(s, channel, chat_id, self.limit)

    def add(self, channel: str, chat_id: str | int, turn: Turn) -> None:
        """Store a turn and drop the chat's turns beyond the limit."""
        with self.db.session() as s:
            add_turn(s, channel, chat_id, turn, self.limit)

    def clear(self, channel: str, chat_id: str | int) -> None:
        """Forget a chat's turns (e.g. when the member starts over)."""
        with self.db.session() as s:
            s.execute(delete(ChatTurn).where(ChatTurn.channel == channel, ChatTurn.chat_id == str(chat_id)))
