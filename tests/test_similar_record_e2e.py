"""End to end through the Bot API stand-in: the similar-item offer (support instead, submit anyway) and /record."""

from __future__ import annotations

from sqlalchemy import func, select
from test_bot_telegram import bind, run_flow
from tg_harness import SimMember, all_data, sent
from waiting import until

from bot.chat.texts import say
from bot.records.models import DutyActivity
from bot.storage.models import Submission
from bot.suggestions.models import Supporter


async def test_similar_offer_support_instead_and_submit_anyway_then_record(harness, database):
    menu = [c for c in harness.api.calls if c.method == "setMyCommands"][0].params["commands"]
    assert "record" in [c["command"] for c in menu]
    a = await bind(harness, database, 1001, "张三", "13900000001")
    await run_flow(a, "proposal")
    first = sent(await a.press("f:s"))[0].params["text"]
    assert "提交成功" in first  # nothing similar yet: submitted at once
    with database.session() as s:
        original = s.scalars(select(Submission)).one()

    b = await bind(harness, database, 1002, "李四", "13900000002")
    await run_flow(b, "proposal")
    offer = sent(await b.press("f:s"))[0]
    assert "相近的提案" in offer.params["text"] and original.receipt_no in offer.params["text"]
    assert "相似度 100%" in offer.params["text"]
    assert all_data(offer) == [f"f:j:{original.id}", "f:s", "f:b", "f:x"]
    assert "联名 " + original.receipt_no in [label for row in offer.buttons for label, _ in row]
    before = len(harness.api.calls)
    done = sent(await b.press(f"f:j:{original.id}"))[0].params["text"]
    assert "您已联名" in done and original.receipt_no in done
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1  # no duplicate stored
        sup = s.scalars(select(Supporter)).one()
        assert (sup.submission_id, sup.role) == (original.id, "联名")
        assert s.scalars(
            select(DutyActivity).where(DutyActivity.member_id == sup.member_id)
        ).one().attributes == {"role": "联名"}
    notes = await until(  # the author hears of the new co-signer through the outbox
        lambda: [
            c
            for c in harness.api.calls[before:]
            if c.method == "sendMessage" and str(c.params["chat_id"]) == "1001"
        ],
        "the co-signer notification",
    )
    assert "新增一位联名人：李四委员" in notes[0].params["text"]

    c = await bind(harness, database, 1003, "王五", "13900000003")
    await run_flow(c, "proposal")
    assert "相近的提案" in sent(await c.press("f:s"))[0].params["text"]
    back = sent(await c.press("f:b"))[0]
    assert "请核对" in back.params["text"]
    anyway = sent(await c.press("f:s"))[0].params["text"]  # the same items are not offered twice
    assert "提交成功" in anyway
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 2

    record = sent(await b.command("record"))
    text = "\n".join(r.params["text"] for r in record)
    assert (
        "履职档案" in text and original.receipt_no in text and "TA-02 提交提案（联名人）：<b>1</b> 分" in text
    )
    assert "合计：1 分" in text
    record_a = "\n".join(r.params["text"] for r in sent(await a.command("record")))
    assert "TA-01 提交提案（第一提案人）：<b>2</b> 分" in record_a and "合计：2 分" in record_a
    stranger = SimMember(harness, 1099)
    assert sent(await stranger.command("record"))[0].params["text"] == say("record_unbound")
