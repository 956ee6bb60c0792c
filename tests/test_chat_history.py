"""The chat's last turns: stored in the caller's transaction, trimmed to the limit, read back oldest first."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.answering.followup import Turn
from bot.storage.chat_history import ANSWER_CHARS, add_turn, recent_turns
from bot.storage.models import ChatTurn


def test_turns_are_trimmed_to_the_limit_per_chat(database):
    with database.session() as s:
        add_turn(s, "web", "other", Turn(question="别的聊天", answer="甲"), 4)
    for i in range(6):
        with database.session() as s:
            standalone = f"问题{i}（完整）" if i == 5 else f"问题{i}"
            add_turn(
                s,
                "web",
                "chat",
                Turn(question=f"问题{i}", answer="答" * (ANSWER_CHARS + i), standalone=standalone),
                4,
            )
    with database.session() as s:
        turns = recent_turns(s, "web", "chat", 4)
        assert [t.question for t in turns] == ["问题2", "问题3", "问题4", "问题5"]
        assert [t.standalone for t in turns] == ["", "", "", "问题5（完整）"]  # stored only when it differs
        assert all(len(t.answer) == ANSWER_CHARS for t in turns)
        assert s.scalar(select(func.count()).select_from(ChatTurn).where(ChatTurn.chat_id == "chat")) == 4
        assert [t.question for t in recent_turns(s, "web", "other", 4)] == ["别的聊天"]
        assert [t.question for t in recent_turns(s, "web", "chat", 2)] == ["问题4", "问题5"]
        assert recent_turns(s, "telegram", "chat", 4) == []
