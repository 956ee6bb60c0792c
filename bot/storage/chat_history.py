"""Repository of chat turns: the last few exchanges per chat, pruned to a limit."""

from __future__ import annotations

from functools import lru_cache

from sqlalchemy import Delete, Select, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from bot.answering.followup import Turn
from bot.storage.db import Database
from bot.storage.models.chat_turns import ChatTurn

ANSWER_CHARS = 500  # enough of an answer to resolve a follow-up; the full answer is in qa_log


# Built once per limit: a statement built at every call costs more CPU than running it (read at every question).
_MINE = (ChatTurn.channel == bindparam("channel"), ChatTurn.chat_id == bindparam("chat"))


_ADD = insert(ChatTurn).values(
    channel=bindparam("channel"), chat_id=bindparam("chat"), question=bindparam("question"),
    standalone=bindparam("standalone"), answer=bindparam("answer"),
)  # fmt: skip


@lru_cache(maxsize=8)
def _recent(limit: int) -> Select:
    columns = (ChatTurn.question, ChatTurn.answer, ChatTurn.standalone)  # plain rows: no ORM objects to build
    return select(*columns).where(*_MINE).order_by(ChatTurn.id.desc()).limit(limit)


@lru_cache(maxsize=8)
def _beyond(limit: int) -> Delete:
    keep = select(ChatTurn.id).where(*_MINE).order_by(ChatTurn.id.desc()).limit(limit)
    return delete(ChatTurn).where(*_MINE, ChatTurn.id.not_in(keep.scalar_subquery()))


def recent_turns(session: Session, channel: str, chat_id: str | int, limit: int) -> list[Turn]:
    """The last `limit` turns of a chat, oldest first."""
    rows = (
        session.connection().execute(_recent(max(1, limit)), {"channel": channel, "chat": str(chat_id)}).all()
    )
    return [Turn(question=r.question, answer=r.answer, standalone=r.standalone) for r in reversed(rows)]


def add_turn(session: Session, channel: str, chat_id: str | int, turn: Turn, limit: int) -> None:
    """Store a turn and drop the chat's turns beyond the limit."""
    standalone = turn.standalone if turn.standalone != turn.question else ""
    values = {"channel": channel, "chat": str(chat_id), "question": turn.question, "standalone": standalone}
    session.connection().execute(_ADD, values | {"answer": turn.answer[:ANSWER_CHARS]})  # Core: no ORM layer
    # Core too: the ORM's DELETE would first look for the doomed rows among the session's objects
    session.connection().execute(_beyond(max(1, limit)), {"channel": channel, "chat": str(chat_id)})


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
