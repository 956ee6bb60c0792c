"""Telegram with an LLM: the answer streams into one message, edited at a bounded rate, ending in the cited answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.answering.llm import LLMAnswerer
from bot.storage.models import ChatTurn, QALog

pytestmark = pytest.mark.slow

INTERVAL = 0.25
STREAMED = "委员可以通过政协云提交网上提案、社情民意信息和微建议，也可以随时随地参加学习培训读书活动[1][7]。"


@pytest.fixture
async def llm_harness(llm_settings, database, tmp_path, knowledge, extractive):
    """The real Application through the Bot API stand-in, with the LLM answerer on the llama.cpp server."""
    from tg_harness import Harness

    from bot.services import build_services

    settings = llm_settings.model_copy(
        update={
            "data_dir": tmp_path / "data",
            "index_dir": llm_settings.resolved_index_dir,
            "database_url": database.url,
            "telegram_token": "123456:TEST",
            "telegram_rate_limit": False,
            "flood_max_events": 1000,
            "bot_username": "lvzhi_test_bot",
            "stream_edit_interval_s": INTERVAL,
            "llm_max_tokens": 200,
        }
    )
    services = build_services(settings)
    services.__dict__["db"] = database
    services.__dict__["answerer"] = LLMAnswerer(
        knowledge,
        settings,
        extractive,
        extra_body={"grammar": f'root ::= "{STREAMED}"'},
        condense_extra_body={"grammar": 'root ::= "社情民意信息的直通车作用怎么发挥？"'},
    )
    assert (
        type(build_services(settings).answerer.inner) is LLMAnswerer
    )  # what services choose with an LLM configured (behind the office's official answers)
    h = Harness(services)
    await h.start()
    yield h
    await h.stop()
    assert h.api.problems == [], h.api.problems


async def test_answer_streams_into_one_message_at_a_bounded_rate(llm_harness, database):
    from tg_harness import SimMember

    member = SimMember(llm_harness, 301)
    calls = await member.text("委员通过政协云可以提交哪些材料？")
    shown = [c for c in calls if c.method in ("sendMessage", "editMessageText")]
    first, edits = shown[0], shown[1:]
    assert first.method == "sendMessage" and first.params["text"].endswith("▌")
    assert edits and all(c.method == "editMessageText" for c in edits)
    assert {c.params["message_id"] for c in edits} == {edits[0].params["message_id"]}  # one message, edited
    gaps = [b.at - a.at for a, b in zip(shown, shown[1:], strict=False)]
    assert min(gaps) >= INTERVAL * 0.95, gaps
    assert all("[" not in c.params["text"] for c in shown[:-1])  # unvalidated markers are never shown
    final = edits[-1].params
    assert final["parse_mode"] == "HTML" and "[1]" in final["text"] and "[7]" not in final["text"]
    assert "出处" in final["text"] and "《政协云使用指南》" in final["text"]
    with database.session() as s:
        row = s.scalars(select(QALog).where(QALog.chat_id == "301")).one()
    assert f"q:v:{row.id}:1" in str(final["reply_markup"])  # the vote buttons sit on the streamed message
    assert row.answer.startswith("委员可以通过政协云提交网上提案") and len(row.chunk_ids) == 1


async def test_followup_in_telegram_is_condensed_and_remembered(llm_harness, database):
    from tg_harness import SimMember

    member = SimMember(llm_harness, 302)
    await member.text("委员通过政协云可以提交哪些材料？")
    await member.text("那社情民意呢？")
    with database.session() as s:
        turns = s.scalars(select(ChatTurn).where(ChatTurn.chat_id == "302").order_by(ChatTurn.id)).all()
        assert [t.question for t in turns] == ["委员通过政协云可以提交哪些材料？", "那社情民意呢？"]
        assert turns[1].standalone == "社情民意信息的直通车作用怎么发挥？"


def _final(params: dict) -> bool:
    return not params.get("text", "").endswith("▌")  # the validated answer, not a partial text


async def test_the_final_edit_is_retried_after_faults(llm_harness):
    from tg_harness import SimMember

    api = llm_harness.api
    api.fail("editMessageText", "500", "timeout", when=_final)
    calls = await SimMember(llm_harness, 303).text("委员通过政协云可以提交哪些材料？")
    finals = [c for c in calls if c.method == "editMessageText" and _final(c.params)]
    assert len(finals) == 1 and "出处" in finals[0].params["text"]  # shown once, in the streamed message
    assert [c for c in calls if c.method == "sendMessage" and "出处" in c.params["text"]] == []
    assert [f for _, f in api.failed] == ["500", "timeout"]


async def test_an_answer_whose_final_edit_fails_every_try_arrives_as_a_message(llm_harness):
    from tg_harness import SimMember

    api = llm_harness.api
    tries = llm_harness.services.settings.telegram_send_attempts
    api.fail("editMessageText", *["502"] * tries, when=_final)
    calls = await SimMember(llm_harness, 304).text("委员通过政协云可以提交哪些材料？")
    answers = [
        c for c in calls if c.method in ("sendMessage", "editMessageText") and "出处" in c.params["text"]
    ]
    assert [c.method for c in answers] == ["sendMessage"]  # the whole answer once, as a message of its own
    assert "q:v:" in str(answers[0].params["reply_markup"])  # with its vote buttons
