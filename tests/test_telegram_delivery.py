"""Telegram delivery under faults, end to end: the real Application through the Bot API stand-in, which answers
chosen calls with 5xx, 429, 403, 400, timeouts or dropped connections. Every reply arrives exactly once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update
from tg_harness import SimMember, all_data, sent

from bot.chat.texts import say
from bot.storage.models import ChatIdentity, Notification, ProcessedUpdate, Submission, utcnow
from bot.suggestions.status import set_status

QUESTION = "提案审查要多久？"
ANSWER_MARK = "十五个工作日"  # in the cited answer (第十二条)
MICRO = "建议在地铁站增加无障碍电梯，方便老人出行。"


def delivered(api, chat_id: int, mark: str) -> list:
    """Successful sendMessage calls to the chat whose text contains `mark`."""
    return [c for c in api.to_chat(chat_id, "sendMessage") if mark in c.params["text"]]


def tries(api, chat_id: int, method: str = "sendMessage") -> int:
    """Requests of `method` to the chat, failed ones included."""
    return sum(1 for c in api.requests if c.method == method and str(c.params.get("chat_id")) == str(chat_id))


async def micro_draft(m: SimMember) -> None:
    """A guest's micro-suggestion up to its preview (the next press of f:s submits it)."""
    await m.command("suggest")
    await m.press("f:t:micro")
    await m.press("f:c:0")
    await m.press("f:k")  # no title
    await m.text(MICRO)
    assert "f:s" in all_data(sent(await m.press("f:d"))[0])


@pytest.mark.parametrize(
    "faults", [("500",), ("502", "500"), ("timeout",), ("reset", "timeout"), ("429",)], ids="+".join
)
async def test_an_answer_arrives_once_after_transient_faults(harness, faults):
    api = harness.api
    m = SimMember(harness, 1101)
    api.fail("sendMessage", *faults)
    calls = sent(await m.text(QUESTION))
    assert len(calls) == 1 and ANSWER_MARK in calls[0].params["text"]  # the answer, once, no apology
    assert all_data(calls[0])  # with its buttons (passage, votes)
    assert [f for _, f in api.failed] == list(faults)
    assert tries(api, 1101) == len(faults) + 1
    if "429" in faults:  # flood control: the retry waits the retry_after Telegram gave (1 s)
        failed_at = api.failed[0][0].at
        assert calls[0].at - failed_at >= 1.0
    with harness.services.db.session() as s:
        assert s.scalars(select(Notification)).all() == []  # nothing needed the outbox


async def test_a_receipt_arrives_after_a_5xx_and_the_member_is_not_told_to_retry(harness, database):
    api = harness.api
    m = SimMember(harness, 1102)
    await micro_draft(m)
    api.fail("sendMessage", "500")
    api.fail("answerCallbackQuery", "502")
    calls = await m.press("f:s")
    texts = [c.params["text"] for c in sent(calls)]
    assert len(texts) == 1 and "提交成功" in texts[0] and say("apology") not in texts
    assert [c.method for c in calls] == ["sendMessage", "answerCallbackQuery"]  # the button answered once
    with database.session() as s:
        item = s.scalars(select(Submission)).one()
        assert item.fields["content"] == MICRO and item.receipt_no in texts[0]


async def test_a_permanent_failure_is_recorded_and_not_retried(harness, database):
    api = harness.api
    m = SimMember(harness, 1103)
    await m.command("help")  # the chat's identity exists
    api.fail("sendMessage", "blocked")
    await m.text(QUESTION)
    assert tries(api, 1103) == 2 and delivered(api, 1103, ANSWER_MARK) == []  # /help, then one refused try
    with database.session() as s:
        note = s.scalars(select(Notification).where(Notification.chat_id == "1103")).one()
        assert note.kind == "chat" and ANSWER_MARK in note.html and note.sent_at is None
        assert note.failed_at is not None and "blocked" in note.last_error
        assert s.scalars(select(ChatIdentity).where(ChatIdentity.chat_id == "1103")).one().blocked
    # The outbox never retries it: a later notification (newer, so tried after it) goes out alone.
    other = SimMember(harness, 1104)
    await micro_draft(other)
    receipt = sent(await other.press("f:s"))[0].params["text"].split("<b>")[1].split("</b>")[0]
    with database.session() as s:
        set_status(s, receipt, "reviewing")
    await api.wait_until(lambda: delivered(api, 1104, receipt + "</b>（"))
    assert tries(api, 1103) == 2
    # A refused answer to a button (400) is not retried either, and the member gets no apology.
    qa = SimMember(harness, 1105)
    await qa.command("help")
    api.fail("answerCallbackQuery", "query_too_old")
    before = len(api.requests)
    calls = await qa.press("m:mine")
    assert [c.method for c in api.requests[before:]] == ["sendMessage", "answerCallbackQuery"]
    assert say("apology") not in [c.params.get("text") for c in calls]


async def test_a_reply_that_fails_every_try_is_delivered_later_once(harness, database):
    api = harness.api
    attempts = harness.services.settings.telegram_send_attempts
    m = SimMember(harness, 1106)
    await m.command("help")
    api.fail("sendMessage", *["500"] * attempts)
    assert sent(await m.text(QUESTION)) == []  # every try of the handler failed: kept in the outbox

    def note() -> Notification:
        with database.session() as s:
            return s.scalars(select(Notification).where(Notification.chat_id == "1106")).one()

    await api.wait_until(lambda: note().sent_at is not None)  # delivered by the outbox
    arrived = delivered(api, 1106, ANSWER_MARK)
    assert len(arrived) == 1 and all_data(arrived[0])  # once, with the answer's buttons
    assert note().kind == "chat" and note().failed_at is None
    with database.session() as s:  # a newer message in the outbox: sent only after every older one due
        s.add(
            Notification(
                identity_id=note().identity_id, channel="telegram", chat_id="1106", html="第二条通知"
            )
        )
    await api.wait_until(lambda: delivered(api, 1106, "第二条通知"))
    assert len(delivered(api, 1106, ANSWER_MARK)) == 1


async def test_a_long_notification_interrupted_after_its_first_piece_resumes_without_repeating_it(
    harness, database
):
    api = harness.api
    attempts = harness.services.settings.telegram_send_attempts
    m = SimMember(harness, 1107)
    await micro_draft(m)
    receipt = sent(await m.press("f:s"))[0].params["text"].split("<b>")[1].split("</b>")[0]
    reason = "经审查，" + "该建议所涉事项已由有关部门统一部署办理。" * 300  # > 4096: two pieces
    api.fail("sendMessage", *["502"] * attempts, after=1)  # the first piece goes, the second fails every try
    with database.session() as s:
        set_status(s, receipt, "reviewing", reason=reason)

    def done() -> bool:
        with database.session() as s:
            return (
                s.scalars(select(Notification).where(Notification.chat_id == "1107")).one().sent_at
                is not None
            )

    await api.wait_until(done)
    texts = [c.params["text"] for c in api.to_chat(1107, "sendMessage") if "统一部署" in c.params["text"]]
    assert len(texts) == 2  # each piece once: the first is not repeated when the second is retried
    assert receipt in texts[0] and reason[:40] in texts[0] and reason[-40:] in texts[1]
    assert [f for _, f in api.failed] == ["502"] * attempts
    with database.session() as s:
        note = s.scalars(select(Notification).where(Notification.chat_id == "1107")).one()
        assert note.pieces_sent == 2 and note.attempts == 2 and note.last_error


async def test_a_redelivered_update_makes_no_api_call(harness, database):
    api = harness.api
    m = SimMember(harness, 1108)
    await micro_draft(m)
    first = sent(await m.press("f:s"))
    assert "提交成功" in first[0].params["text"]
    before = len(api.requests)
    assert await m.redeliver_last() == []
    assert len(api.requests) == before  # not even answerCallbackQuery (Telegram would refuse a second one)
    await m.text(QUESTION)
    before = len(api.requests)
    assert await m.redeliver_last() == []
    assert len(api.requests) == before  # not even sendChatAction
    with database.session() as s:
        assert len(s.scalars(select(Submission)).all()) == 1


async def test_a_new_token_and_a_restarted_id_sequence_are_answered(harness, database):
    api = harness.api
    m = SimMember(harness, 1109)
    assert delivered(api, 1109, ANSWER_MARK) == []
    await m.text(QUESTION)
    old_ids = set(range(1, m.last_update["update_id"] + 1))
    # A new bot token (a new bot): its update ids start again and meet ids the old bot used.
    services = harness.services
    services.settings = services.settings.model_copy(update={"telegram_token": "654321:NEWTOKEN"})
    await harness.restart()
    api.restart_sequence()
    calls = sent(await m.text(QUESTION))
    assert m.last_update["update_id"] in old_ids and ANSWER_MARK in calls[0].params["text"]
    # A redelivery is still a duplicate under the new bot …
    assert await m.redeliver_last() == []
    # … but after a week without updates Telegram restarts the sequence: ids from 1 again, all answered.
    with database.session() as s:
        s.execute(update(ProcessedUpdate).values(processed_at=utcnow() - timedelta(days=8)))
    api.restart_sequence()
    calls = sent(await m.text(QUESTION))
    assert m.last_update["update_id"] == 1 and ANSWER_MARK in calls[0].params["text"]


async def test_a_long_flood_wait_hands_the_reply_to_the_outbox_due_after_the_wait(harness, database):
    api = harness.api
    m = SimMember(harness, 1110)
    await m.command("help")
    api.fail("sendMessage", "429_long")  # retry after 61 s: more than a handler should hold an update
    asked = utcnow()
    assert sent(await m.text(QUESTION)) == [] and tries(api, 1110) == 2
    with database.session() as s:
        note = s.scalars(select(Notification).where(Notification.chat_id == "1110")).one()
        assert ANSWER_MARK in note.html and note.sent_at is None and note.failed_at is None
        assert note.next_attempt_at >= asked + timedelta(seconds=60)  # not sent before Telegram allows it
