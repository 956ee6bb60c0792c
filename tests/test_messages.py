"""Fewer, better messages (issue 10): one notification per staff action, one decline, one thanks, 「联系工作人员」 with
the office's contact and a staff follow-up list, guests' items credited when they bind, invitations in the member's
script. Through the real Application against the Bot API stand-in, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from test_bot_telegram import bind
from test_member_script import settled
from test_staff_web import _click, _login
from tg_harness import SimMember, all_data, sent
from web_fixtures import serve_web_app

from bot.campaigns import invite
from bot.campaigns.service import create as create_campaign
from bot.campaigns.telegram_send import telegram_sender
from bot.chat.models import FollowUp
from bot.chat.texts import say
from bot.members.service import create_invitations
from bot.records.models import DutyActivity
from bot.staff import accounts
from bot.staff.item_view import member_label
from bot.staff.models import AuditEntry
from bot.storage.models import ChatIdentity, Member, QALog, Submission, utcnow

CONTACT = "委员工作室 0812-6620001"
QUESTION_TRADITIONAL = "提案審查要在多少個工作日內完成？"
OFF_TOPIC = "今天足球比赛谁赢了，比分是多少呢"


@pytest.fixture
def contact_services(bot_services):
    """The bot's services with the office's contact set (LVZHI_OFFICE_CONTACT)."""
    bot_services.settings = bot_services.settings.model_copy(update={"office_contact": CONTACT})
    return bot_services


async def _staff(harness, database, user_id: int = 8201) -> SimMember:
    with database.session() as s:
        accounts.add(s, "admin", f"staff{user_id}", "staff password", "staff", "李干部", str(user_id))
    return SimMember(harness, user_id, "李干部")


async def _micro(member: SimMember, title: str, content: str) -> str:
    await member.command("suggest")
    await member.press("f:t:micro")
    await member.press("f:c:0")
    await member.text(title)
    await member.text(content)
    await member.press("f:d")
    return sent(await member.press("f:s"))[0].params["text"]


async def test_one_decline_and_contact_staff_with_follow_up(contact_services, harness, database):
    member = await bind(harness, database, 4101, "赵六", "13900000041")
    calls = sent(await member.text(OFF_TOPIC))
    assert len(calls) == 1
    decline = calls[0].params["text"]
    assert decline.count("没有找到") == 1 and decline.count("不能") == 1  # said once (it was said twice)
    qa_id = all_data(calls[0])[1].split(":")[2]
    contact = sent(await member.press(f"q:s:{qa_id}"))
    assert len(contact) == 1 and CONTACT in contact[0].params["text"]
    assert f"<blockquote>{OFF_TOPIC}</blockquote>" in contact[0].params["text"]
    assert all_data(contact[0]) == [f"q:m:{qa_id}"]
    await member.press(f"q:s:{qa_id}")  # pressed again: still one question on the list
    greeting = sent(await member.text("你好"))[0]
    assert greeting.buttons == []  # a greeting is no question left open: nothing to follow up
    with database.session() as s:
        rows = s.scalars(select(FollowUp)).all()
        member_id = s.scalars(select(Member.id)).one()
        assert [(r.question, r.member_id, r.channel, r.done_at) for r in rows] == [
            (OFF_TOPIC, member_id, "telegram", None)
        ]
        assert rows[0].qa_id == int(qa_id) and s.get(QALog, rows[0].qa_id).declined


async def test_contact_without_a_configured_contact(harness, database):
    member = SimMember(harness, 4151, "访客")
    qa_id = all_data(sent(await member.text(OFF_TOPIC))[0])[1].split(":")[2]
    text = sent(await member.press(f"q:s:{qa_id}"))[0].params["text"]
    assert say("contact_office_unset") in text and "请联系：" not in text
    stranger = SimMember(harness, 4152, "路人")  # someone else's button: refused, nothing listed
    assert (await stranger.press(f"q:s:{qa_id}"))[0].params["text"] == say("toast_expired")
    with database.session() as s:
        assert len(s.scalars(select(FollowUp)).all()) == 1


async def test_one_notification_per_staff_action_and_one_decline_reason(harness, database):
    member = await bind(harness, database, 4201, "孙七", "13900000042")
    await _micro(member, "公交站台遮雨棚", "建议在老城区公交站台加装遮雨棚，方便候车。")
    with database.session() as s:
        receipt = s.scalars(select(Submission)).one().receipt_no
    staff = await _staff(harness, database)
    start = len(harness.api.calls)
    await staff.press(f"st:a:{receipt}:decline")
    await staff.text("属于具体事务，已转相关部门")  # 审查 and 未采用 in one move
    notes = await settled(harness, database, 4201, start)
    assert len(notes) == 1
    text = notes[0].params["text"]
    assert "<b>未采用</b>" in text and "审查" not in text
    assert text.count("属于具体事务，已转相关部门") == 1


async def test_guest_items_are_credited_when_binding(harness, database, bot_services):
    guest = SimMember(harness, 4301, "钱八")
    receipt_msg = await _micro(
        guest, "社区食堂延长时间", "建议社区老年食堂晚餐延长到七点，方便上班子女接送。"
    )
    with database.session() as s:
        item = s.scalars(select(Submission)).one()
        receipt = item.receipt_no
        assert item.member_id is None and member_label(s, item) == "公众" and receipt in receipt_msg
        assert s.scalars(select(DutyActivity)).all() == []
        s.add(Member(name="钱八", sector="社会福利和社会保障界", phone="13900000043"))
        s.flush()
        code = create_invitations(s, phone="13900000043")[0].code
    assert "绑定成功" in sent(await guest.command("start", code))[0].params["text"]
    with database.session() as s:
        member = s.scalars(select(Member)).one()
        item = s.scalars(select(Submission)).one()
        assert item.member_id == member.id
        assert (
            member_label(s, item) == "钱八（社会福利和社会保障界）"
        )  # staff pages show the member as author
        acts = s.scalars(select(DutyActivity)).all()
        assert [(a.member_id, a.kind, a.reference) for a in acts] == [(member.id, "micro", receipt)]
    record = "\n".join(c.params["text"] for c in sent(await guest.command("record")))
    assert receipt in record and "钱八" in record
    mine = sent(await guest.command("mine"))[0].params["text"]
    assert receipt in mine


async def test_invitation_in_the_members_script(harness, database):
    simp = await bind(harness, database, 4401, "周九", "13900000044")
    trad = await bind(harness, database, 4402, "吳十", "13900000045")
    await simp.text("请问提案怎么写")
    await trad.text("請問提案怎麼寫")
    with database.session() as s:
        campaign = create_campaign(
            s, "我为青川发展献一策", utcnow() - timedelta(hours=1), utcnow() + timedelta(days=3)
        )
        campaign_id = campaign.id
        assert [i.script_recent for i in s.scalars(select(ChatIdentity).order_by(ChatIdentity.id))] == [
            "s",
            "t",
        ]
    start = len(harness.api.calls)
    prepared, result = await invite.run(database, telegram_sender(harness.app.bot), campaign_id, rate=100)
    assert result.counts.get("sent") == 2
    got = {str(c.params["chat_id"]): c for c in sent(harness.api.calls[start:])}
    assert set(got) == {"4401", "4402"}
    assert got["4401"].params["text"] == prepared.text
    assert got["4402"].params["text"] == prepared.traditional[0] != prepared.text
    assert "我为青川发展献一策" in got["4402"].params["text"]  # the office's title as the office wrote it
    assert got["4401"].buttons == [[("我要参与", f"cmp:{campaign_id}")]]
    assert got["4402"].buttons == [[("我要參與", f"cmp:{campaign_id}")]]


@pytest.mark.slow
async def test_followups_staff_page_in_chromium(contact_services, harness, database, browser):
    member = await bind(harness, database, 4501, "郑一", "13900000046")
    qa_id = all_data(sent(await member.text(OFF_TOPIC))[0])[1].split(":")[2]
    await member.press(f"q:s:{qa_id}")
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        followup_id = s.scalars(select(FollowUp.id)).one()

    def browse() -> None:  # the web server runs its own event loop: off this test's loop
        with serve_web_app(contact_services) as (base, _loop):
            for width, height in ((1280, 800), (390, 844)):
                browser.set_window_size(width, height)
                browser.get(f"{base}/staff/followups")
                if "/staff/login" in browser.current_url:
                    _login(browser, "staff password")
                assert browser.current_url.endswith("/staff/followups")
                assert browser.find_element(By.ID, "followups-open").text == "1"
                row = browser.find_element(By.ID, f"followup-{followup_id}")
                assert OFF_TOPIC in row.text and "郑一" in row.text and "经济界" in row.text
            _click(browser, f"done-{followup_id}")
            WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.ID, "flash"))
            assert browser.find_element(By.ID, "followups-open").text == "0"
            assert OFF_TOPIC in browser.find_element(By.ID, f"followup-done-{followup_id}").text

    await asyncio.to_thread(browse)
    with database.session() as s:
        row = s.get(FollowUp, followup_id)
        assert row.done_by == "xiaoli" and row.done_at is not None
        audit_rows = s.scalars(select(AuditEntry).where(AuditEntry.action == "followup_done")).all()
        assert [(a.actor, a.target, a.channel) for a in audit_rows] == [
            ("xiaoli", f"followup:{followup_id}", "web")
        ]


def test_follow_up_marked_done_once_and_listed(database):
    from bot.members.service import identity_for
    from bot.staff import followups
    from bot.staff.accounts import Staff, StaffError

    with database.session() as s:
        guest = identity_for(s, "web", "chat-a", "chat-a", "网页用户")
        s.add_all([FollowUp(identity_id=guest.id, channel="web", question=q) for q in ("问题一", "问题二")])
        s.flush()
        first, second = (r.id for r in followups.listing(s))
        assert [r.who for r in followups.listing(s)] == ["网页用户", "网页用户"]
        followups.mark_done(s, Staff("xiaoli", "staff", "李干部", "web"), first)
        with pytest.raises(StaffError, match="已由 xiaoli 标记为已跟进"):
            followups.mark_done(s, Staff("laowang", "staff", "王干部", "web"), first)
        with pytest.raises(StaffError, match="找不到编号为 999"):
            followups.mark_done(s, Staff("xiaoli", "staff", "李干部", "web"), 999)
        assert [r.id for r in followups.listing(s)] == [second]
        assert [(r.id, r.done_by) for r in followups.listing(s, done=True)] == [(first, "xiaoli")]
        actions = s.scalars(select(AuditEntry.action).where(AuditEntry.target.like("followup:%"))).all()
        assert actions == ["followup_done"]


def test_web_chat_traditional_guest_binds_and_hears_once(bot_services, database):
    """The web chat (JSON API): a guest who writes Traditional submits a micro-suggestion, binds with a code (the
    item becomes the member's), and a staff decline reaches the chat as one Traditional notification."""
    import requests

    from bot.staff import review
    from bot.staff.accounts import Staff

    with serve_web_app(bot_services) as (base, _loop):
        chat = requests.Session()

        def post(kind: str, value: str) -> list[dict]:
            body = {"text": value} if kind == "message" else {"data": value}
            return chat.post(f"{base}/api/{kind}", json=body, timeout=60).json()["replies"]

        answer = post("message", QUESTION_TRADITIONAL)[0]["html"]
        assert "<b>出處</b>" in answer
        post("message", "/suggest")
        assert post("press", "f:t:micro")[0]["html"].startswith("請選擇微建議的")
        post("press", "f:c:0")
        post("message", "社區食堂延長營業")
        post("message", "建議社區老年食堂晚餐延長到七點，方便上班子女接送。")
        post("press", "f:d")
        assert "受理編號" in post("press", "f:s")[0]["html"]
        with database.session() as s:
            s.add(Member(name="王委员", sector="经济界", phone="13900000047"))
            s.flush()
            code = create_invitations(s, phone="13900000047")[0].code
        assert "綁定成功" in post("message", f"/start {code}")[0]["html"]
        with database.session() as s:
            item = s.scalars(select(Submission)).one()
            assert member_label(s, item) == "王委员（经济界）"
            receipt = item.receipt_no
            review.perform(s, Staff("xiaoli", "staff", "李干部", "web"), receipt, "decline",
                           review.ActionInput(reason="已由街道统筹解决"))  # fmt: skip
        notes = chat.get(f"{base}/api/notifications", timeout=60).json()["replies"]
        assert len(notes) == 1
        assert "<b>未採用</b>" in notes[0]["html"] and notes[0]["html"].count("已由街道统筹解决") == 1
        assert chat.get(f"{base}/api/notifications", timeout=60).json()["replies"] == []
