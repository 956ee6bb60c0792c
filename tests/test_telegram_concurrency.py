"""One Telegram process handles updates of different chats at once and those of one chat in order
(bot/channels/telegram/ordering.py): a slow answer (an LLM, the chat's send rate) holds its own chat only."""

from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager

from test_chat_concurrency import SlowAnswerer
from tg_harness import Harness, SimMember, sent

QUESTION = "提案审查多久完成？"


@asynccontextmanager
async def held_question(bot_services, **settings):
    """A Telegram process (real Application against the stand-in) whose answer to QUESTION waits for
    `held.release`; yields (held answerer, harness). `settings`: overrides of the services' settings. On exit the
    answer is released, the process stopped, and the stand-in must have seen no protocol problem."""
    held = SlowAnswerer(bot_services.answerer, only=QUESTION)
    bot_services.__dict__["answerer"] = held
    if settings:
        bot_services.settings = bot_services.settings.model_copy(update=settings)
    harness = Harness(bot_services)
    await harness.start()
    try:
        yield held, harness
    finally:
        held.release.set()
        await harness.stop()
    assert harness.api.problems == []


async def test_a_held_answer_keeps_its_own_chat_waiting_and_no_other(bot_services) -> None:
    async with held_question(bot_services) as (held, harness):
        asker, other = SimMember(harness, 5101, "甲"), SimMember(harness, 5102, "乙")
        question = asyncio.create_task(asker.text(QUESTION))
        assert await asyncio.to_thread(held.started.wait, 30)
        # another member is answered while the question is being answered (was: after it, one update at a time)
        helped = sent(await asyncio.wait_for(other.command("help"), 30))
        assert len(helped) == 1 and not question.done()
        # the asker's next update waits for the question: one chat's updates are handled in order
        follow = asyncio.create_task(asker.command("help"))
        await asyncio.wait_for(other.command("help"), 30)  # a later update of another chat is done meanwhile…
        assert not follow.done()  # …while the asker's /help still waits behind the question
        assert [c for c in harness.api.to_chat(5101) if c.method == "sendMessage"] == []
        held.release.set()
        await asyncio.wait_for(question, 60)
        await asyncio.wait_for(follow, 60)
        texts = [c.params["text"] for c in harness.api.to_chat(5101, "sendMessage")]
        assert len(texts) == 2 and "十五个工作日" in texts[0]  # the answer first…
        assert texts[1] == helped[0].params["text"]  # …then the /help sent after it


async def test_one_chat_flooding_during_a_slow_answer_holds_one_slot_only(bot_services) -> None:
    async with held_question(bot_services, telegram_concurrent_updates=2) as (held, harness):
        asker, other = SimMember(harness, 5201, "甲"), SimMember(harness, 5202, "乙")
        question = asyncio.create_task(asker.text(QUESTION))
        assert await asyncio.to_thread(held.started.wait, 30)
        waiting = [asyncio.create_task(asker.command("help")) for _ in range(3)]  # more than the free slot
        # the asker's waiting updates take no slot: the other member still gets the second one
        helped = sent(await asyncio.wait_for(other.command("help"), 30))
        assert len(helped) == 1 and not any(t.done() for t in waiting)
        held.release.set()
        await asyncio.wait_for(asyncio.gather(question, *waiting), 60)
        assert len(harness.api.to_chat(5201, "sendMessage")) == 4  # the answer and the three /help, none lost
