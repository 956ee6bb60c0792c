"""A slow answer (an LLM, say) must not hold the database: other chats go on while a question is answered."""

from __future__ import annotations

import threading
import time

import pytest
from waiting import DEADLINE_S

from bot.chat.assistant import Assistant
from bot.chat.types import ChatRef, Event


class SlowAnswerer:
    """The real answerer, held back until the test lets it go (as an LLM call of several seconds would be); with
    `only`, held on that question alone."""

    def __init__(self, inner, only: str | None = None) -> None:
        self.inner = inner
        self.settings = inner.settings
        self.only = only
        self.started = threading.Event()
        self.release = threading.Event()

    def answer(self, question: str):
        if self.only is None or question == self.only:
            self.started.set()
            assert self.release.wait(DEADLINE_S)
        return self.inner.answer(question)


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_other_chats_write_while_a_question_is_being_answered(database, real_answerer):
    slow = SlowAnswerer(real_answerer)
    assistant = Assistant(database, slow)
    results: dict[str, list] = {}
    asker = ChatRef("telegram", "100", "100", "甲")
    worker = threading.Thread(
        target=lambda: results.setdefault(
            "q", assistant.handle(asker, Event("text", "提案审查多久完成？", update_key="1"))
        )
    )
    worker.start()
    assert slow.started.wait(30)
    # While the answer is being made, another member starts a suggestion flow (a write) and is not kept waiting.
    other = ChatRef("telegram", "200", "200", "乙")
    started = time.monotonic()
    replies = assistant.handle(other, Event("command", "suggest", update_key="2"))
    waited = time.monotonic() - started
    slow.release.set()
    worker.join(30)
    assert replies and waited < 5, f"the other chat waited {waited:.1f} s for the database"
    [answer] = results["q"]
    assert "十五个工作日" in answer.html
    # the redelivered question is recognised and not answered again
    assert assistant.handle(asker, Event("text", "提案审查多久完成？", update_key="1")) == []
