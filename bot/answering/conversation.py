"""Answer a question inside a chat: read the chat's last turns, resolve a follow-up, store the new turn."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy.orm import Session

from bot.answering.followup import Turn, rule_rewrite
from bot.answering.types import Answer

DEFAULT_TURNS = 4


def history_limit(answerer: Any) -> int:
    """How many turns of a chat's history the answerer uses."""
    settings = getattr(answerer, "settings", None)
    return int(getattr(settings, "history_turns", DEFAULT_TURNS))


def answer_with_history(answerer: Any, question: str, history: list[Turn]) -> Answer:
    """The answer to a possibly elliptical question: the LLM answerer condenses it, otherwise the rules do."""
    if hasattr(answerer, "condense"):
        return answerer.answer(question, history)
    standalone = rule_rewrite(question, history)
    answer = answerer.answer(standalone)
    answer.question = question
    answer.meta = {
        **answer.meta,
        "standalone": standalone,
        "rewrite": "rules" if standalone != question else "none",
    }
    return answer


def answer_in_chat(
    answerer: Any, session: Session, channel: str, chat_id: str | int, question: str
) -> Answer:
    """Answer with the chat's history (from the database, in the caller's transaction) and record the turn."""
    from bot.storage.chat_history import recent_turns

    limit = history_limit(answerer)
    answer = answer_with_history(answerer, question, recent_turns(session, channel, chat_id, limit))
    return record_answer(answerer, session, channel, chat_id, question, answer)


def record_answer(
    answerer: Any, session: Session, channel: str, chat_id: str | int, question: str, answer: Answer
) -> Answer:
    """Store an answer's turn in the chat's history (in the caller's transaction)."""
    from bot.storage.chat_history import add_turn

    standalone = answer.meta.get("standalone", question)
    turn = Turn(question=question, answer=answer.text, standalone=standalone)
    add_turn(session, channel, chat_id, turn, history_limit(answerer))
    return answer


async def stream_in_chat(
    answerer: Any, db: Any, channel: str, chat_id: str | int, question: str
) -> AsyncIterator[Any]:
    """Stream an LLM answer with the chat's history; the final Answer's turn is recorded (own transaction)."""
    from bot.storage.chat_history import ChatHistory

    history = ChatHistory(db, history_limit(answerer))
    async for item in answerer.stream(question, history.recent(channel, chat_id)):
        if isinstance(item, Answer):
            standalone = item.meta.get("standalone", question)
            history.add(channel, chat_id, Turn(question=question, answer=item.text, standalone=standalone))
        yield item
