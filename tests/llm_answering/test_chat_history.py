"""Chat history in the database (SQLite and PostgreSQL) and follow-ups answered inside a chat without an LLM."""

from __future__ import annotations

from bot.answering.conversation import answer_in_chat
from bot.answering.followup import Turn
from bot.storage.chat_history import ChatHistory


def test_history_is_kept_per_chat_and_pruned_to_the_limit(database):
    history = ChatHistory(database, limit=3)
    for i in range(5):
        history.add("telegram", 42, Turn(question=f"问题{i}", answer=f"回答{i}", standalone=f"独立问题{i}"))
    history.add("web", 42, Turn(question="网页上的问题"))
    history.add("telegram", 43, Turn(question="另一个聊天"))
    turns = history.recent("telegram", "42")
    assert [t.question for t in turns] == ["问题2", "问题3", "问题4"]
    assert turns[-1].resolved == "独立问题4" and turns[-1].answer == "回答4"
    assert [t.question for t in history.recent("web", 42)] == ["网页上的问题"]
    history.clear("telegram", 42)
    assert history.recent("telegram", 42) == [] and len(history.recent("telegram", 43)) == 1


def test_history_survives_a_new_database_handle(database):
    from bot.storage import Database

    ChatHistory(database, limit=2).add("telegram", 7, Turn(question="什么是政协云？", answer="……"))
    again = ChatHistory(Database(database.url), limit=2)
    assert again.recent("telegram", 7)[0].question == "什么是政协云？"


def test_followup_in_a_chat_uses_the_stored_turn(database, extractive):
    with database.session() as s:
        first = answer_in_chat(extractive, s, "telegram", 9, "委员通过政协云可以提交哪些材料？")
    assert first.meta["rewrite"] == "none"
    with database.session() as s:
        second = answer_in_chat(extractive, s, "telegram", 9, "那社情民意信息呢？")
    alone = extractive.answer("那社情民意信息呢？")
    assert second.question == "那社情民意信息呢？" and second.meta["rewrite"] == "rules"
    assert "社情民意信息" in second.meta["standalone"] and "政协云" in second.meta["standalone"]
    assert second.passages and second.passages != alone.passages
    turns = ChatHistory(database).recent("telegram", 9)
    assert [t.question for t in turns] == ["委员通过政协云可以提交哪些材料？", "那社情民意信息呢？"]
    assert turns[1].standalone == second.meta["standalone"]
