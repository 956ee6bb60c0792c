"""The member's script everywhere (issue 10): a member who writes Traditional gets every text and button of the bot
in Traditional, in the chat and in notifications sent later, while quotes keep the document's own characters.

Through the real python-telegram-bot Application against the Bot API stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import re

from opencc import OpenCC
from sqlalchemy import func, select
from tg_harness import SimMember, all_data, sent
from waiting import until

from bot.chat import script
from bot.staff import accounts
from bot.staff.models import SubmissionReply
from bot.storage.models import ChatIdentity, Notification, QALog, Submission

S2T = OpenCC("s2t")
QUESTION = "提案審查要在多少個工作日內完成？"
TITLE = "地鐵站無障礙電梯"
CONTENT = "建議在地鐵站增加無障礙電梯，方便老人出行。"
STAFF_REPLY = "经研究，已将地铁站无障碍电梯纳入明年改造计划。"  # staff write Simplified; shown as written


async def settled(harness, database, chat_id: int, start: int) -> list:
    """The messages the bot sent to a chat since call `start`, once the outbox has nothing left to send."""

    def nothing_waiting() -> bool:
        with database.session() as s:
            return not s.scalar(
                select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))
            )

    await until(nothing_waiting, "the outbox to empty")
    return [
        c
        for c in harness.api.calls[start:]
        if c.method == "sendMessage" and str(c.params["chat_id"]) == str(chat_id)
    ]


def outside_quotes(text: str, document_words: list[str]) -> str:
    """The bot's own words of a message: without blockquotes (a passage, a reply, an echo), “quotes” and the
    documents' titles and section paths (citation labels), which keep the document's characters."""
    text = re.sub(r"<blockquote>.*?</blockquote>", "", text, flags=re.S)
    text = re.sub(r"“[^”]*”", "", text)
    for words in sorted(document_words, key=len, reverse=True):
        text = text.replace(words, "").replace(words.replace(">", "&gt;"), "")
    return text


def simplified_only(text: str) -> list[str]:
    """The characters OpenCC s2t would change: Simplified-only characters (empty for Traditional text)."""
    return [a for a, b in zip(text, S2T.convert(text), strict=True) if a != b]


async def test_traditional_member_question_micro_suggestion_notification_and_rating(harness, database):
    member = SimMember(harness, 3101, "陳委員")
    staff_user = SimMember(harness, 8101, "李干部")
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部", "8101")
    start = len(harness.api.calls)
    pressed: set[str] = set()  # the member's callback query ids (the staff member presses buttons too)

    async def press(data: str) -> list:
        calls = await member.press(data)
        pressed.add(member.last_update["callback_query"]["id"])
        return calls

    answer = sent(await member.text(QUESTION))[0]
    assert "十五个工作日内完成" in answer.params["text"]  # the quote: the document's own characters
    with database.session() as s:
        qa = s.scalars(select(QALog)).one()
    passage = sent(await press(f"q:p:{qa.id}:1"))[0]
    assert "<blockquote>第十二条 提案审查应当在收到提案后十五个工作日内完成" in passage.params["text"]
    reading = sent(await press(all_data(passage)[0]))[0].params["text"]  # 繁體閱讀: a marked conversion
    assert "第十二條 提案審查應當在收到提案後十五個工作日內完成" in reading and "不是原文" in reading

    await member.command("suggest")
    await press("f:t:micro")
    await press("f:c:0")
    await member.text(TITLE)
    await member.text("短")  # too short: the error message and the echo of what was typed
    await member.text(CONTENT)
    await press("f:d")
    receipt_msg = sent(await press("f:s"))[0].params["text"]
    with database.session() as s:
        receipt = s.scalars(select(Submission)).one().receipt_no
    assert receipt in receipt_msg
    await member.command("mine")

    before_staff = len(harness.api.calls)
    await staff_user.press(f"st:a:{receipt}:reply")
    await staff_user.text(STAFF_REPLY)  # a micro-suggestion's reply needs no grade
    notes = await settled(harness, database, 3101, before_staff)
    assert len(notes) == 1  # 审查 and 已答复 in one message with the reply and its rating buttons
    assert "<b>已答覆</b>" in notes[0].params["text"] and STAFF_REPLY in notes[0].params["text"]
    with database.session() as s:
        reply_id = s.scalars(select(SubmissionReply)).one().id
    assert all_data(notes[0]) == [f"rt:{reply_id}:{i}" for i in (1, 2, 3)]
    rated = await press(f"rt:{reply_id}:2")
    assert [c.params["text"] for c in sent(rated)] == ["🙏 感謝您的評價：基本滿意。"]

    with database.session() as s:
        labels = [c["label"] for row in s.scalars(select(QALog)) for c in row.citations]
    texts = [
        c.params.get("text") or ""
        for c in harness.api.calls[start:]
        if (c.method in ("sendMessage", "editMessageText") and str(c.params["chat_id"]) == "3101")
        or (c.method == "answerCallbackQuery" and c.params["callback_query_id"] in pressed)
    ]
    buttons = [
        label
        for c in harness.api.calls[start:]
        if c.method == "sendMessage" and str(c.params["chat_id"]) == "3101"
        for row in c.buttons
        for label, _data in row
    ]
    assert len(texts) >= 20 and len(buttons) >= 30  # every message, button answer and button of the walk
    leaks = {
        t[:60]: simplified_only(outside_quotes(t, labels))
        for t in texts + buttons
        if simplified_only(outside_quotes(t, labels))
    }
    assert leaks == {}
    # ... and the Traditional texts are really Traditional, not Simplified text that OpenCC leaves alone
    assert "<b>出處</b>" in answer.params["text"] and "受理編號" in receipt_msg


def test_script_is_decided_by_recent_messages():
    ident = ChatIdentity(channel="telegram", external_id="1", chat_id="1", script_recent="")
    assert script.remember(ident, "提案") is False  # nothing decisive yet: Simplified
    assert script.remember(ident, "請問提案怎麼寫？") is True
    assert script.remember(ident, "好的") is True and ident.script_recent == "t"  # 好的 decides nothing
    assert script.remember(ident, "请问") is False  # a tie of one each: the latest counts
    assert script.remember(ident, "謝謝您的說明") is True
    for _ in range(5):
        script.remember(ident, "这是简体")
    assert ident.script_recent == "sssss" and script.traditional_of(ident) is False
    assert script.verdict("OK 123") is None
    assert script.verdict("幾個") == "t" and script.verdict("几个") == "s"


def test_notices_written_later_follow_each_members_script(database):
    """Support and merge notices and status notifications are rendered for the member they go to, by the script
    remembered on their chat identity, whoever triggers them."""
    from bot.members.service import identity_for
    from bot.suggestions.merge import merge
    from bot.suggestions.service import submit
    from bot.suggestions.status import set_status
    from bot.suggestions.support import add_supporter

    draft = {"category": "城市管理", "fields": {"title": "地鐵站無障礙電梯", "content": CONTENT}}
    with database.session() as s:
        trad = identity_for(s, "telegram", "61", "61", "陳")
        simp = identity_for(s, "telegram", "62", "62", "张")
        script.remember(trad, QUESTION)
        script.remember(simp, "提案审查要多久")
        own_item = submit(s, trad, "micro", draft)
        other = submit(
            s, simp, "micro", {**draft, "fields": {"title": "地铁站无障碍电梯", "content": CONTENT}}
        )
        assert add_supporter(s, simp, own_item) == "ok"  # the Traditional author hears of a supporter
        set_status(s, other.receipt_no, "reviewing")  # the Simplified author hears in Simplified
        merge(s, own_item.receipt_no, other.receipt_no)  # the Traditional author hears of the merge
        notes = {
            n.kind + str(n.identity_id): n.html
            for n in s.scalars(select(Notification).order_by(Notification.id))
        }
    support = notes[f"support{trad.id}"]  # the supporter's name stays as they wrote it
    assert "新增一位附議者：张" in support and simplified_only(outside_quotes(support, ["张"])) == []
    assert "状态已更新为：<b>审查</b>" in notes[f"status{simp.id}"]
    merged = notes[f"status{trad.id}"]
    assert "已併案辦理" in merged or "已並案辦理" in merged
    assert (
        simplified_only(outside_quotes(merged, ["地铁站无障碍电梯"])) == []
    )  # the other item's title as written
