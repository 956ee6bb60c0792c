"""End to end: the real Application polling the Bot API stand-in, real answerer, real database (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from sqlalchemy import select, update
from tg_harness import SimMember, all_data, sent
from waiting import until

from bot.campaigns.service import create as create_campaign
from bot.channels.flood import FloodLimiter
from bot.chat.texts import say
from bot.members.service import create_invitations
from bot.prompts import render
from bot.storage.models import FlowState, Invitation, Member, QALog, Submission, utcnow
from bot.suggestions.status import set_status

FIELD_VALUES = {
    "proposal": {"title": "关于加快老旧小区加装电梯的建议", "background": "老旧小区老年人上下楼困难，" * 6,
                 "recommendations": "建议简化审批流程并给予财政补贴。" * 2, "cosigners": None},
    "opinion": {"title": "农村客运班线减少影响出行", "situation": "多个乡镇反映客运班线减少，群众出行不便。" * 2,
                "suggestion": "建议恢复早晚两班客运。", "source": "走访调研"},
    "micro": {"title": None, "content": "建议在地铁站增加无障碍电梯，方便老人出行。"},
    "campaign": {"content": "建议打造山地运动品牌赛事，带动文旅消费。", "contact": None},
}  # fmt: skip


async def bind(h, database, user_id: int, name: str = "张三", phone: str = "13800000001") -> SimMember:
    with database.session() as s:
        s.add(Member(name=name, sector="经济界", phone=phone))
        s.flush()
        code = create_invitations(s, phone=phone)[0].code
    m = SimMember(h, user_id, name)
    calls = sent(await m.command("start", code))
    assert calls[0].params["text"] == say("bind_ok", name=name, sector="经济界")
    return m


async def test_register_with_invite_codes(harness, database):
    h = harness
    assert [c for c in h.api.calls if c.method == "setMyCommands"][0].params["commands"][0][
        "command"
    ] == "start"
    with database.session() as s:
        s.add_all(
            [Member(name="张三", sector="经济界", phone="1"), Member(name="李四", sector="教育界", phone="2")]
        )
        s.flush()
        code_a, code_b = [i.code for i in create_invitations(s)]
    a, b = SimMember(h, 101, "张三"), SimMember(h, 102, "李四")
    calls = sent(await a.command("start", "WRONGCODE"))
    assert [(c.params["chat_id"], c.params["text"], c.params["parse_mode"]) for c in calls] == [
        (101, render("replies/bind_invalid"), "HTML")]  # fmt: skip
    calls = sent(await a.command("start", code_a))
    assert (
        calls[0].params["text"]
        == "✅ 绑定成功！欢迎您，张三委员（经济界）。\n现在可以提交提案、社情民意信息和微建议，也可以随时提问。"
    )
    assert all_data(calls[0]) == ["m:new", "m:mine"]
    assert sent(await b.command("start", code_a))[0].params["text"] == render("replies/bind_used")
    with database.session() as s:
        s.execute(
            update(Invitation).where(Invitation.code == code_b).values(expires_at=Invitation.created_at)
        )
    assert sent(await b.command("start", code_b))[0].params["text"] == render("replies/bind_expired")
    with database.session() as s:
        assert s.scalars(select(Member).where(Member.name == "张三")).one().identities[0].external_id == "101"
        assert not s.scalars(select(Member).where(Member.name == "李四")).one().identities


async def test_question_cited_answer_passage_and_vote(harness, database):
    m = SimMember(harness, 201)
    calls = await m.text("提案可以反映几个问题？")
    assert [c.method for c in calls] == ["sendChatAction", "sendMessage"]
    assert calls[0].params == {"chat_id": 201, "action": "typing"}
    msg = calls[1].params
    assert msg["parse_mode"] == "HTML" and "一事一案" in msg["text"]
    assert "<b>出处</b>\n[1] 《青川市政协提案工作条例》 第二章 提案的提出 &gt; 第五条" in msg["text"]
    with database.session() as s:
        row = s.scalars(select(QALog)).one()
    assert calls[1].buttons == [
        [("📄 原文1", f"q:p:{row.id}:1")],
        [("👍", f"q:v:{row.id}:1"), ("👎", f"q:v:{row.id}:-1")],
    ]
    assert row.chunk_ids and row.chunk_ids[0].startswith("docs/提案工作条例.txt")
    passage = sent(await m.press(f"q:p:{row.id}:1"))[0].params["text"]
    assert (
        passage.startswith("📄 <b>[1] 《青川市政协提案工作条例》")
        and "<blockquote>第五条 提案应当坚持一事一案" in passage
    )
    calls = await m.press(f"q:v:{row.id}:-1")
    assert [(c.method, c.params.get("text")) for c in calls] == [
        ("answerCallbackQuery", say("toast_vote_down")),
        ("editMessageReplyMarkup", None),  # the answer's 👎 now marked (tests/test_telegram_member_extras.py)
    ]
    with database.session() as s:
        assert s.get(QALog, row.id).vote == -1
    stranger = SimMember(harness, 202)
    assert (await stranger.press(f"q:v:{row.id}:1"))[0].params["text"] == say("toast_expired")


async def test_decline_offers_micro_suggestion(harness, database):
    m = SimMember(harness, 301)
    calls = sent(await m.text("今天足球比赛谁赢了，比分是多少呢"))
    assert "没有找到" in calls[0].params["text"] and "转为一条微建议" in calls[0].params["text"]
    qa_id = all_data(calls[0])[0].split(":")[2]
    assert all_data(calls[0]) == [f"q:m:{qa_id}", f"q:s:{qa_id}"]
    assert "☎️" in sent(await m.press(f"q:s:{qa_id}"))[0].params["text"]
    calls = sent(await m.press(f"q:m:{qa_id}"))
    assert "选择微建议的<b>类别</b>" in calls[0].params["text"]
    await m.press("f:c:0")
    await m.press("f:k")  # no title; the content is the question
    preview = sent(await m.press("f:d"))[0].params["text"]
    assert "今天足球比赛谁赢了，比分是多少呢" in preview


async def run_flow(m: SimMember, type_key: str) -> list:
    values = FIELD_VALUES[type_key]
    assert "您要提交哪一类" in sent(await m.command("suggest"))[0].params["text"]
    calls = sent(await m.press(f"f:t:{type_key}"))
    if type_key == "campaign":  # the open campaign is chosen first (from the campaigns table)
        assert all_data(calls[-1])[0] == "f:a:0"
        calls = sent(await m.press("f:a:0"))
    assert all_data(calls[-1])[0] == "f:c:0"
    await m.press("f:c:1")
    first = True
    for value in values.values():
        if value is None:
            await m.press("f:k")
            continue
        if first:  # a too-short value: clear message, the draft is kept
            err = sent(await m.text("短"))
            assert (
                "至少需要" in err[0].params["text"] and "<blockquote>短</blockquote>" in err[0].params["text"]
            )
            first = False
        await m.text(value)
    await m.photo("PHOTO-FILE-0001")
    await m.document("DOC-FILE-0002", "调研报告.pdf")
    preview = sent(await m.press("f:d"))[0]
    assert "f:s" in all_data(preview)
    return all_data(preview)


async def test_every_flow_to_submission(harness, database):
    m = await bind(harness, database, 401)
    with database.session() as s:  # campaign answers go to an open campaign
        create_campaign(s, "我为青川发展献一策", utcnow() - timedelta(hours=1), utcnow() + timedelta(days=3))
    for n, type_key in enumerate(FIELD_VALUES, 1):
        await run_flow(m, type_key)
        calls = sent(await m.press("f:s"))
        assert "提交成功" in calls[0].params["text"]
        with database.session() as s:
            item = s.scalars(select(Submission).order_by(Submission.id.desc())).first()
            assert item.type == type_key and item.status == "submitted" and item.member_id is not None
            prefix = {"proposal": "TA", "opinion": "SQ", "micro": "WJ", "campaign": "ZJ"}[type_key]
            assert item.receipt_no.startswith(prefix + "-") and item.receipt_no in calls[0].params["text"]
            for key, value in FIELD_VALUES[type_key].items():
                assert item.fields[key] == (value or "")
            assert [a.file_id for a in item.attachments] == ["PHOTO-FILE-0001", "DOC-FILE-0002"]
            assert Path(item.attachments[1].local_path).read_bytes() == b"%PDF-1.4 test"
        assert s is not None and n
    mine = sent(await m.command("mine"))[0].params["text"]
    assert mine.count("— 提交") == 4


async def test_edit_in_preview_cancel_and_members_only(harness, database):
    guest = SimMember(harness, 501)
    await guest.command("suggest")
    calls = sent(await guest.press("f:t:proposal"))
    assert calls[0].params["text"] == say("flow_members_only", type_name="提案")
    m = await bind(harness, database, 502)
    await run_flow(m, "micro")
    calls = sent(await m.press("f:e:content"))
    assert "请输入新的<b>内容</b>" in calls[0].params["text"]
    long = "很" * 501
    assert "最多 500 字，您输入了 501 字" in sent(await m.text(long))[0].params["text"]
    preview = sent(await m.text("建议公交站台加装遮雨棚，方便雨天候车。"))[0].params["text"]
    assert "遮雨棚" in preview and "无障碍电梯" not in preview
    await m.press("f:s")
    await m.command("suggest")
    await m.press("f:t:opinion")
    assert sent(await m.command("cancel"))[0].params["text"] == say("cancelled")
    with database.session() as s:
        assert s.scalars(select(FlowState).where(FlowState.chat_id == "502")).first() is None
        assert [i.fields["content"] for i in s.scalars(select(Submission))] == [
            "建议公交站台加装遮雨棚，方便雨天候车。"
        ]


async def test_restart_mid_flow_and_redelivered_submit(harness, database):
    m = await bind(harness, database, 601)
    await m.command("suggest")
    await m.press("f:t:proposal")
    await m.press("f:c:0")
    await m.text(FIELD_VALUES["proposal"]["title"])
    await harness.restart()  # the bot process restarts: nothing typed is lost
    calls = sent(await m.text(FIELD_VALUES["proposal"]["background"]))
    assert "第 3/4 项" in calls[0].params["text"]
    await m.text(FIELD_VALUES["proposal"]["recommendations"])
    await m.press("f:k")
    await m.press("f:d")
    first = sent(await m.press("f:s"))
    assert "提交成功" in first[0].params["text"]
    again = await m.redeliver_last()  # Telegram delivers the same update again
    assert again == []  # no second receipt, no second answerCallbackQuery (Telegram would refuse it): no call
    with database.session() as s:
        items = s.scalars(select(Submission)).all()
        assert len(items) == 1 and items[0].fields["title"] == FIELD_VALUES["proposal"]["title"]


async def test_status_change_notifies_member(harness, database):
    m = await bind(harness, database, 701)
    await run_flow(m, "proposal")
    receipt = sent(await m.press("f:s"))[0].params["text"].split("<b>")[1].split("</b>")[0]
    before = len(harness.api.calls)
    with database.session() as s:
        set_status(s, receipt, "审查")

    notes = await until(
        lambda: [c for c in harness.api.calls[before:] if c.method == "sendMessage"],
        "the status notification",
    )
    assert notes[0].params["chat_id"] == "701"
    assert (
        notes[0]
        .params["text"]
        .startswith(
            f"📮 您的提案 <b>{receipt}</b>（关于加快老旧小区加装电梯的建议）状态已更新为：<b>审查</b>"
        )
    )


async def test_idle_flow_keeps_draft_and_resumes(harness, database):
    m = SimMember(harness, 801)
    await m.command("suggest")
    await m.press("f:t:micro")
    await m.press("f:c:2")
    await m.text("公交站台的座椅")
    with database.session() as s:
        s.scalars(select(FlowState)).one().updated_at = utcnow() - timedelta(hours=3)
    calls = sent(await m.text("提案审查要多久？"))
    assert "十五个工作日" in calls[0].params["text"]  # answered as a question, not typed into the draft
    assert "已为您保存" in calls[1].params["text"] and all_data(calls[1]) == ["f:r", "f:x"]
    calls = sent(await m.press("f:r"))
    assert "第 2/2 项" in calls[0].params["text"]
    with database.session() as s:
        assert s.scalars(select(FlowState)).one().draft["fields"]["title"] == "公交站台的座椅"


async def test_a_draft_with_nothing_entered_is_not_offered_back(harness, database):
    """Opening the type menu (even choosing a type and a category) enters nothing: /start, /suggest and an idle
    chat do not announce 「未完成的草稿：…（已填写 0 项）」; a draft with a field typed still is."""
    m = SimMember(harness, 802)
    await m.command("suggest")
    calls = sent(await m.command("start"))
    assert len(calls) == 1 and "草稿" not in calls[0].params["text"]
    await m.command("suggest")
    await m.press("f:t:micro")
    await m.press("f:c:2")
    calls = sent(await m.command("suggest"))
    assert all_data(calls[0]) != ["f:r", "f:x"] and "草稿" not in calls[0].params["text"]  # a new start
    with database.session() as s:
        s.scalars(select(FlowState)).one().updated_at = utcnow() - timedelta(hours=3)
    calls = sent(await m.text("提案审查要多久？"))
    assert len(calls) == 1 and "十五个工作日" in calls[0].params["text"]
    with database.session() as s:
        assert s.scalars(select(FlowState)).all() == []
    await m.command("suggest")
    await m.press("f:t:micro")
    await m.press("f:c:2")
    await m.text("公交站台的座椅")
    calls = sent(await m.command("start"))
    assert "未完成的草稿" in calls[-1].params["text"] and all_data(calls[-1]) == ["f:r", "f:x"]


async def test_errors_get_an_apology_and_floods_are_limited(harness, bot_services):
    class Broken:
        def answer(self, question):
            raise RuntimeError("index missing")

    bot_services.__dict__["answerer"] = Broken()
    m = SimMember(harness, 901)
    calls = sent(await m.text("提案怎么写？"))
    assert [c.params["text"] for c in calls] == [say("apology")]
    harness.app.bot_data["flood"] = FloodLimiter(max_events=2, window_s=60)
    await m.command("help")
    await m.command("help")
    assert sent(await m.command("help"))[0].params["text"] == say("flood")
    assert sent(await m.command("help")) == []
