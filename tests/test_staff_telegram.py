"""End to end through the Bot API stand-in: a proposal's whole life driven by staff in Telegram, the member's
notifications and rating, refusals of forged staff buttons, and /reg with the documents' exact wording."""

from __future__ import annotations

from sqlalchemy import func, select
from test_bot_telegram import bind, run_flow
from tg_harness import SimMember, all_data, sent
from waiting import until

from bot.chat.texts import say
from bot.staff import accounts
from bot.staff.models import Assignment, AuditEntry, SubmissionReply
from bot.staff.texts import t
from bot.storage.models import Notification, Submission

ARTICLE_5 = "第五条 提案应当坚持一事一案，每件提案只能反映一个问题，不得将多个事项写入同一件提案。"


async def _to(harness, chat_id: int, start: int, count: int) -> list[str]:
    """The texts the bot sent to a chat since call number `start`, waiting for `count` of them (outbox)."""

    def texts() -> list:
        found = [
            c
            for c in harness.api.calls[start:]
            if c.method == "sendMessage" and c.params["chat_id"] in (chat_id, str(chat_id))
        ]
        return found if len(found) >= count else []

    return await until(texts, f"{count} messages to {chat_id}")


async def _settled(harness, database, chat_id: int, start: int) -> list:
    """Every message the bot sent to a chat since call number `start`, once the outbox has nothing left to send."""

    def nothing_waiting() -> bool:
        with database.session() as s:
            return not s.scalar(
                select(func.count()).select_from(Notification).where(Notification.sent_at.is_(None))
            )

    await until(nothing_waiting, "the outbox to empty")
    return [
        c
        for c in harness.api.calls[start:]
        if c.method == "sendMessage" and c.params["chat_id"] in (chat_id, str(chat_id))
    ]


async def _staff(harness, database) -> SimMember:
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部", "8001")
    return SimMember(harness, 8001, "李干部")


async def test_proposal_life_through_telegram(harness, database):
    member = await bind(harness, database, 1201, "张三", "13900000021")
    await run_flow(member, "proposal")
    assert "提交成功" in sent(await member.press("f:s"))[0].params["text"]
    with database.session() as s:
        receipt = s.scalars(select(Submission)).one().receipt_no
    staff = await _staff(harness, database)

    queue = sent(await staff.command("queue"))[0]
    assert "待审查事项" in queue.params["text"] and receipt in queue.params["text"]
    assert f"st:o:{receipt}" in all_data(queue)
    item = sent(await staff.press(f"st:o:{receipt}"))[0]
    assert "老旧小区老年人上下楼困难" in item.params["text"] and "调研报告.pdf" in item.params["text"]
    assert all_data(item)[:3] == [
        f"st:a:{receipt}:review",
        f"st:a:{receipt}:accept",
        f"st:a:{receipt}:decline",
    ]

    start = len(harness.api.calls)
    done = sent(await staff.press(f"st:a:{receipt}:accept"))
    assert done[0].params["text"] == t("done", receipt=receipt, status="立案")
    notes = await _settled(harness, database, 1201, start)  # one message per staff action (issue 10)
    assert (
        len(notes) == 1 and "<b>立案</b>" in notes[0].params["text"] and "审查" not in notes[0].params["text"]
    )

    # a decline needs a reason: illegal now (already accepted), refused with the legal options
    refused = sent(await staff.press(f"st:a:{receipt}:decline"))[0].params["text"]
    assert "不能执行「不予立案/不采用」" in refused and "交办" in refused

    ask = sent(await staff.press(f"st:a:{receipt}:assign"))[0]
    assert "主办单位" in ask.params["text"] and all_data(ask) == ["st:x"]
    start = len(harness.api.calls)
    assigned = [  # the member's notification (outbox, polled) may go out meanwhile: only the staff chat's
        c
        for c in sent(await staff.text("市住建局\n市财政局、市自然资源局"))
        if str(c.params["chat_id"]) == str(staff.id)
    ]
    assert t("done", receipt=receipt, status="交办") == assigned[0].params["text"]
    assert (
        "主办：市住建局" in assigned[1].params["text"] and "协办：市自然资源局" in assigned[1].params["text"]
    )
    assert "<b>交办</b>" in (await _to(harness, 1201, start, 1))[0].params["text"]

    await staff.press(f"st:a:{receipt}:reply")
    bad = sent(await staff.text("D 不合格的等级"))[0].params["text"]
    assert "答复等级只能是 A、B 或 C" in bad  # the prompt stays: send it again
    start = len(harness.api.calls)
    sent(await staff.text("A\n经研究，已将加装电梯纳入2027年老旧小区改造计划。"))
    notes = await _settled(
        harness, database, 1201, start
    )  # one message: 已答复 with the reply and its ratings
    assert len(notes) == 1
    reply_note = notes[0]
    assert "已将加装电梯纳入2027年老旧小区改造计划" in reply_note.params["text"]
    assert "<b>已答复</b>" in reply_note.params["text"] and "办理中" not in reply_note.params["text"]
    with database.session() as s:
        reply_id = s.scalars(select(SubmissionReply)).one().id
    assert all_data(reply_note) == [f"rt:{reply_id}:1", f"rt:{reply_id}:2", f"rt:{reply_id}:3"]

    stranger = SimMember(harness, 1299, "路人")  # someone else's rating button is refused
    assert sent(await stranger.press(f"rt:{reply_id}:3")) == []
    start = len(harness.api.calls)
    pressed = await member.press(f"rt:{reply_id}:1")
    assert [c.params.get("text") for c in pressed if c.method == "answerCallbackQuery"] == [None]  # no toast
    thanks = await _settled(harness, database, 1201, start)  # thanked once: no 委员评价 notification besides
    assert [c.params["text"] for c in thanks] == [say("rating_thanks", rating="满意")]

    start = len(harness.api.calls)
    sent(await staff.press(f"st:a:{receipt}:close"))
    assert "<b>办结</b>" in (await _to(harness, 1201, start, 1))[0].params["text"]
    with database.session() as s:
        item = s.scalars(select(Submission)).one()
        assert item.status == "closed"
        assert s.scalars(select(SubmissionReply)).one().rating == "满意"
        assert [a.body for a in s.scalars(select(Assignment))] == ["市住建局", "市财政局", "市自然资源局"]
        rows = [(e.actor, e.channel, e.action, e.before["status"], e.after["status"])
                for e in s.scalars(select(AuditEntry).where(AuditEntry.action != "staff_add").order_by(AuditEntry.id))]  # fmt: skip
        assert rows == [
            ("xiaoli", "telegram", "accept", "submitted", "accepted"),
            ("xiaoli", "telegram", "assign", "accepted", "assigned"),
            ("xiaoli", "telegram", "reply", "assigned", "answered"),
            ("xiaoli", "telegram", "close", "rated", "closed"),
        ]


async def test_forged_staff_buttons_and_commands_are_refused_and_logged(harness, database):
    member = await bind(harness, database, 1301, "王五", "13900000031")
    await run_flow(member, "proposal")
    await member.press("f:s")
    with database.session() as s:
        receipt = s.scalars(select(Submission)).one().receipt_no
    for action in (
        member.press(f"st:a:{receipt}:accept"),
        member.command("queue"),
        member.press(f"st:o:{receipt}"),
    ):
        replies = await action
        assert t("denied") in [
            c.params.get("text") for c in replies if c.method in ("sendMessage", "answerCallbackQuery")
        ]
    with database.session() as s:
        assert s.scalars(select(Submission)).one().status == "submitted"
        denied = s.scalars(select(AuditEntry).order_by(AuditEntry.id)).all()
        assert [(e.actor, e.action, e.target) for e in denied] == [
            ("telegram:1301", "access_denied", f"button st:a:{receipt}:accept"),
            ("telegram:1301", "access_denied", "/queue"),
            ("telegram:1301", "access_denied", f"button st:o:{receipt}"),
        ]
    with database.session() as s:  # a staff account that is removed loses access at once
        accounts.add(s, "admin", "gone", "staff password", "staff", "离职", "8002")
        accounts.remove(s, "admin", "gone")
    former = SimMember(harness, 8002, "离职")
    assert sent(await former.press(f"st:a:{receipt}:accept"))[0].params["text"] == t("denied")


async def test_reg_returns_exact_wording_and_whole_section(harness, database):
    stranger = SimMember(harness, 1401, "路人")
    assert sent(await stranger.command("reg", "一事一案"))[0].params["text"] == t("denied")
    staff = await _staff(harness, database)
    assert sent(await staff.command("reg"))[0].params["text"] == t("reg_usage")
    found = sent(await staff.command("reg", "一事一案 提案"))[0]
    text = found.params["text"]
    assert (
        f"《青川市政协提案工作条例》第二章 提案的提出 &gt; 第五条\n<blockquote>{ARTICLE_5}</blockquote>"
        in text
    )
    section = sent(await staff.press(all_data(found)[0]))[0].params["text"]
    assert section.startswith("📖 《青川市政协提案工作条例》第二章 提案的提出（全节原文）")
    order = [section.index(a) for a in ("第五条 提案应当", "第六条 委员可以", "第十二条 提案审查")]
    assert order == sorted(order) and "第一条 为了加强" not in section


async def test_staff_menu_and_bootstrap_admin_after_restart(harness, database):
    await _staff(harness, database)
    services = harness.services
    services.settings = services.settings.model_copy(update={"admin_telegram_ids": "8005, x"})
    for cached in ("staff_desk", "assistant"):
        services.__dict__.pop(cached, None)
    await harness.restart()
    menus = [c.params for c in harness.api.calls if c.method == "setMyCommands" and c.params.get("scope")]
    scoped = {str(m["scope"]["chat_id"]): [c["command"] for c in m["commands"]] for m in menus}
    assert set(scoped) == {"8001", "8005"} and scoped["8001"][-2:] == ["queue", "reg"]
    public = [
        c.params for c in harness.api.calls if c.method == "setMyCommands" and not c.params.get("scope")
    ]
    assert "queue" not in [c["command"] for c in public[-1]["commands"]]
    admin = SimMember(harness, 8005, "管理员")
    assert sent(await admin.command("queue"))[0].params["text"] == t("queue_empty")
