"""Staff activity pages in headless Chromium (issue 13): create (a refused form keeps what was typed), the
overview's counts and lists, approving leave, the 提醒 button, marking attendance by hand (audited), the check-in
QR code and links, an edit that moves the place (told once), the CSV/XLSX export and a member's year."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
import requests
import segno
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select
from test_staff_web import _click, _login
from web_fixtures import serve_web_app

from bot.activities import service
from bot.activities.models import Activity, ActivityInvitee
from bot.campaigns.service import TIMEZONE
from bot.chat.assistant import Assistant
from bot.chat.types import ChatRef, Event
from bot.staff import accounts
from bot.staff.models import AuditEntry
from bot.storage.models import ChatIdentity, Member, Notification, utcnow

MEMBERS = [("周一", "经济界"), ("吴二", "经济界"), ("郑三", "经济界"), ("王四", "教育界")]


@pytest.fixture
def site(bot_services, database):
    """The web server, a staff account and four members bound to Telegram chats 9000…"""
    ids = {}
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        for n, (name, sector) in enumerate(MEMBERS):
            m = Member(name=name, sector=sector, phone=f"1370000{n:04d}")
            s.add(m)
            s.flush()
            s.add(ChatIdentity(channel="telegram", external_id=str(9000 + n), chat_id=str(9000 + n),
                               member_id=m.id, bound_at=utcnow()))  # fmt: skip
            ids[name] = m.id
    with serve_web_app(bot_services) as (url, _loop):
        yield url, ids


def _notes(database, marker: str) -> dict[str, int]:
    with database.session() as s:
        rows = s.scalars(select(Notification).where(Notification.kind == "activity"))
        out: dict[str, int] = {}
        for n in rows:
            if marker in n.html:
                out[n.chat_id] = out.get(n.chat_id, 0) + 1
        return out


def _local(delta: timedelta) -> str:
    return (utcnow() + delta).astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")


def _num(browser, element_id: str) -> str:
    return browser.find_element(By.ID, element_id).text


@pytest.mark.slow
def test_activity_pages_in_chromium(site, browser, database):
    url, ids = site
    browser.set_window_size(1280, 800)
    browser.get(f"{url}/staff/activities")
    _login(browser, "staff password")
    assert browser.current_url.endswith("/staff/activities")
    Select(browser.find_element(By.ID, "a-type")).select_by_value("专题协商会")
    browser.find_element(By.ID, "a-title").send_keys("优化营商环境专题协商会")
    browser.find_element(By.ID, "a-start").send_keys(_local(timedelta(days=3)))
    browser.find_element(By.ID, "a-end").send_keys("2026-13-01")
    browser.find_element(By.ID, "a-place").send_keys("市政协三楼会议室")
    browser.find_element(By.ID, "a-attachments").send_keys("会议议程.docx")
    Select(browser.find_element(By.ID, "a-audience")).select_by_value("sectors")
    browser.find_element(By.ID, "a-to").send_keys("经济界")
    browser.find_element(By.ID, "a-deadline").send_keys(_local(timedelta(days=2)))
    _click(browser, "a-save")
    assert browser.find_element(By.ID, "error").text.startswith("无法识别的时间「2026-13-01」")
    assert browser.find_element(By.ID, "a-title").get_attribute("value") == "优化营商环境专题协商会"  # kept
    with database.session() as s:
        assert s.scalar(select(Activity.id)) is None
    browser.find_element(By.ID, "a-end").clear()
    browser.find_element(By.ID, "a-end").send_keys(_local(timedelta(days=3, hours=2)))
    _click(browser, "a-save")
    with database.session() as s:
        a = s.scalars(select(Activity)).one()
        aid, code = a.id, a.checkin_code
        assert (a.type, a.place, a.attachments, a.created_by) == (
            "专题协商会", "市政协三楼会议室", [{"name": "会议议程.docx"}], "xiaoli")  # fmt: skip
    assert browser.current_url.endswith(f"/staff/activities/{aid}?done=created")
    assert _num(browser, "n-invited") == "3" and _num(browser, "n-none") == "3"
    assert _notes(database, "活动通知") == {"9000": 1, "9001": 1, "9002": 1}

    # members answer in the chat: one comes, one asks for leave, one says nothing
    assistant = Assistant(database, answerer=None)
    assistant.handle(ChatRef("telegram", "9000", "9000"), Event("press", f"act:y:{aid}"))
    assistant.handle(ChatRef("telegram", "9001", "9001"), Event("press", f"act:n:{aid}"))
    assistant.handle(ChatRef("telegram", "9001", "9001"), Event("text", "赴外地出差"))
    browser.get(f"{url}/staff/activities/{aid}")
    counts = {k: _num(browser, f"n-{k}") for k in ("attend", "leave", "pending", "none")}
    assert counts == {"attend": "1", "leave": "1", "pending": "1", "none": "1"}
    unanswered = browser.find_element(By.ID, "unanswered").text
    assert "郑三" in unanswered and "周一" not in unanswered and "吴二" not in unanswered
    assert "赴外地出差" in browser.find_element(By.ID, "leave-queue").text

    browser.find_element(By.ID, f"note-{ids['吴二']}").send_keys("请会后阅读材料")
    _click(browser, f"approve-{ids['吴二']}")
    assert browser.find_element(By.ID, "flash").text == "已处理请假申请，委员会收到通知"
    assert _num(browser, "n-pending") == "0"
    assert _notes(database, "已获批准") == {"9001": 1}

    _click(browser, "a-remind")
    assert browser.find_element(By.ID, "flash").text == "已向 1 位未回复的委员发送提醒"
    assert _notes(database, "活动提醒") == {"9002": 1}

    # the check-in QR code encodes the deep link shown under it
    link = browser.find_element(By.ID, "checkin-telegram").text
    assert link == f"https://t.me/lvzhi_test_bot?start=act-{code}"
    assert browser.find_element(By.ID, "checkin-web").text == f"{url}/?start=act-{code}"
    qr = browser.find_element(By.ID, "checkin-qr").get_attribute("outerHTML")
    expected = segno.make(link, error="m").svg_inline(scale=5, title="签到二维码", svgid="checkin-qr")
    assert qr.split(' d="')[1].split('"')[0] == expected.split(' d="')[1].split('"')[0]

    # staff mark attendance by hand (audited)
    _click(browser, f"mark-{ids['郑三']}")
    assert (
        browser.find_element(By.ID, "flash").text == "已更新出勤登记" and _num(browser, "n-attended") == "1"
    )
    with database.session() as s:
        row = s.scalar(select(ActivityInvitee).where(ActivityInvitee.member_id == ids["郑三"]))
        assert row.attendance_source == "staff" and row.attended_at is not None
        entry = s.scalars(select(AuditEntry).where(AuditEntry.action == "activity_attendance")).one()
        assert (entry.actor, entry.before["attended"], entry.after["attended"]) == ("xiaoli", False, True)

    # the place moves: every invitee is told once
    place = browser.find_element(By.ID, "a-place")
    place.clear()
    place.send_keys("市民中心二号会议室")
    _click(browser, "a-save")
    assert browser.find_element(By.ID, "flash").text == "已保存修改"
    _click(browser, "a-remind")  # (nobody new to remind; the page stays consistent)
    assert _notes(database, "活动变更") == {"9000": 1, "9001": 1, "9002": 1}
    assert "市民中心二号会议室" in browser.find_element(By.ID, "summary").text

    cookie = browser.get_cookie("lvzhi_staff")["value"]
    got = requests.get(
        f"{url}/staff/activities/{aid}/export.xlsx", cookies={"lvzhi_staff": cookie}, timeout=30
    )
    sheet = load_workbook(io.BytesIO(got.content)).active
    table = [[c.value for c in r] for r in sheet.iter_rows()]
    assert table[0][1] == "姓名" and [r[1] for r in table[1:]] == ["周一", "吴二", "郑三"]
    assert [r[3] for r in table[1:]] == ["参加", "请假", "未回复"] and table[2][4] == "赴外地出差"
    csv_text = requests.get(
        f"{url}/staff/activities/{aid}/export.csv", cookies={"lvzhi_staff": cookie}, timeout=30
    ).content.decode("utf-8-sig")
    assert "吴二" in csv_text and "已批准" in csv_text

    browser.get(f"{url}/staff/activities/member/{ids['郑三']}")
    assert "优化营商环境专题协商会" in browser.find_element(By.ID, "member-year").text
    assert _num(browser, "y-total") == "1" and _num(browser, "y-attended") == "1"

    browser.set_window_size(390, 844)  # phone: the overview still fits the width
    browser.get(f"{url}/staff/activities/{aid}")
    assert browser.find_element(By.ID, "a-remind").is_displayed()
    browser.get(f"{url}/staff/activities")
    assert "优化营商环境专题协商会" in browser.find_element(By.ID, "activities").text
    browser.get(f"{url}/staff/activities/{aid}")
    assert not browser.find_elements(By.ID, "o-open")  # before the start: no call for opinions yet
    with database.session() as s:
        assert service.get(s, aid).version == 2
        a = service.get(s, aid)
        a.starts_at, a.ends_at = utcnow() - timedelta(hours=2), utcnow() - timedelta(hours=1)
        a.rsvp_deadline = a.starts_at

    # after the activity: a call for opinions tied to it (a campaign), its invitees invited
    browser.set_window_size(1280, 800)
    browser.get(f"{url}/staff/activities/{aid}")
    browser.find_element(By.ID, "o-end").send_keys(_local(timedelta(days=7))[:10])
    _click(browser, "o-open")
    with database.session() as s:
        cid = service.get(s, aid).campaign_id
    assert cid is not None and browser.current_url.endswith(f"/staff/campaigns/{cid}")
    assert browser.find_element(By.ID, "status").text == "进行中"
    assert _notes(database, "意见征集") == {"9000": 1, "9001": 1, "9002": 1}
    browser.get(f"{url}/staff/activities/{aid}")
    assert browser.find_element(By.ID, "o-link").get_attribute("href").endswith(f"/staff/campaigns/{cid}")

    # cancelling is irreversible: a confirmation step first; 返回 changes nothing, 确认 tells every invitee once
    _click(browser, "a-cancel")
    assert "确定取消这项活动吗" in browser.find_element(By.TAG_NAME, "main").text
    with database.session() as s:
        assert service.get(s, aid).status != "cancelled"
    _click(browser, "confirm-yes")
    with database.session() as s:
        assert service.get(s, aid).status == "cancelled"
    assert _notes(database, "已取消") == {"9000": 1, "9001": 1, "9002": 1}


@pytest.mark.slow
def test_check_in_by_the_web_chat_link(bot_services, browser, database):
    from selenium.webdriver.support.ui import WebDriverWait

    from bot.members.service import create_invitations

    with database.session() as s:
        s.add(Member(name="陈五", sector="经济界", phone="13600000001"))
        s.flush()
        invite = create_invitations(s, phone="13600000001")[0].code
        now = utcnow()
        a = service.create(
            s, type="调研", title="乡村振兴专题调研", starts_at=now - timedelta(minutes=10),
            ends_at=now + timedelta(hours=3), place="青川县白沙镇", audience=service.Audience(),
            rsvp_deadline=now - timedelta(minutes=10),
        )  # fmt: skip
        code = a.checkin_code

    def bubbles(d):
        return d.find_elements(By.CSS_SELECTOR, ".msg.bot .bubble")

    with serve_web_app(bot_services) as (url, _loop):
        browser.get(f"{url}/?start=act-{code}")  # not yet bound: told how to bind
        WebDriverWait(browser, 20).until(lambda d: len(bubbles(d)) > 1)  # the page's welcome, then the reply
        assert "请先用工作人员发给您的邀请码绑定委员身份" in bubbles(browser)[-1].text
        n = len(bubbles(browser))
        browser.find_element(By.ID, "input").send_keys(f"/start {invite}")
        browser.find_element(By.ID, "send").click()
        WebDriverWait(browser, 20).until(lambda d: len(bubbles(d)) > n)
        browser.get(f"{url}/?start=act-{code}")  # the QR code's web link, opened in the bound browser
        # the page shows the chat's history first, then the check-in's reply below it
        WebDriverWait(browser, 20).until(lambda d: "签到成功：「乡村振兴专题调研」" in bubbles(d)[-1].text)
    with database.session() as s:
        inv = s.scalars(select(ActivityInvitee)).one()
        assert inv.attendance_source == "checkin" and inv.attended_at is not None
