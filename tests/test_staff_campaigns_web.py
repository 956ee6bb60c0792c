"""Staff campaign pages in headless Chromium (create with a bad then a good date, broadcast in the background,
the report's SVG charts against the database, themes, answers, XLSX download, close, audit) and over plain HTTP
(no session, a member's cookie, a forged POST), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import io
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import timedelta

import pytest
import requests
from botapi_loopback import LoopbackBotAPI
from openpyxl import load_workbook
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select
from sqlalchemy import select
from test_staff_web import _click, _login
from waiting import DEADLINE_S, until, until_sync
from web_fixtures import serve_web_app

from bot.campaigns import report
from bot.campaigns.models import Campaign, CampaignDelivery
from bot.campaigns.service import TIMEZONE
from bot.members.service import identity_for
from bot.staff import accounts
from bot.staff.models import AuditEntry
from bot.storage.models import ChatIdentity, Member, Submission, utcnow
from bot.suggestions.service import submit

SVG = "{http://www.w3.org/2000/svg}"
MEMBERS = [("经济界", 3), ("教育界", 2), ("医药卫生界", 1)]  # chats 7000…; 7005 blocked the bot
BLOCKED = "7005"
ANSWERS = {
    "交通": ["建议增加早晚高峰公交班次，缩短候车时间", "建议优化公交线路，开通社区到地铁站的微循环公交",
             "建议公交站台增加实时到站信息屏，方便候车", "建议增设公交专用道，提高公交准点率",
             "建议在地铁站周边规划公交接驳站", "建议学校周边公交站增加班次，方便学生乘坐公交"],
    "养老": ["建议社区建设养老服务中心，为老人提供日间照料", "建议推广居家养老服务，为独居老人上门助餐",
             "建议增加养老机构床位，缓解老人入住难", "建议社区食堂为老人提供优惠助餐服务",
             "建议培训养老护理人员，提高养老服务质量", "建议建立养老服务补贴制度，减轻老人家庭负担"],
}  # fmt: skip
FORMULA = '=HYPERLINK("http://example.com","<b>点我</b>")'


def _run(loop: asyncio.AbstractEventLoop, coro):
    return asyncio.run_coroutine_threadsafe(coro, loop).result(30)


@pytest.fixture
def site(bot_services, database):
    """The web server with a staff account, six bound members, and (when asked) a Telegram bot to send with."""
    from telegram import Bot

    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        n = 0
        for sector, count in MEMBERS:
            for _ in range(count):
                m = Member(name=f"委员{n}", sector=sector, phone=f"1390000{n:04d}")
                s.add(m)
                s.flush()
                s.add(ChatIdentity(channel="telegram", external_id=str(7000 + n), chat_id=str(7000 + n),
                                   member_id=m.id, bound_at=utcnow()))  # fmt: skip
                n += 1
        web_ident = identity_for(s, "web", "member-cookie" * 3, "member-cookie" * 3)
        web_ident.member_id = m.id
    with serve_web_app(bot_services) as (url, loop):
        state = {"url": url, "loop": loop, "api": None, "bot": None}

        def attach_bot() -> LoopbackBotAPI:
            async def start():
                api = LoopbackBotAPI(blocked={BLOCKED})
                bot = Bot("123456:LOOPBACK", base_url=await api.start())
                await bot.initialize()
                bot_services.broadcasts.attach(bot)
                return api, bot

            state["api"], state["bot"] = _run(loop, start())
            return state["api"]

        state["attach_bot"] = attach_bot
        yield state

        async def stop():
            await bot_services.broadcasts.stop()
            if state["bot"] is not None:
                await state["bot"].shutdown()
                await state["api"].stop()

        _run(loop, stop())


def add_answers(database, campaign_id: int) -> None:
    """Twelve answers on two subjects from members of three sectors over two days, and a formula-like one."""
    now = utcnow()
    with database.session() as s:
        idents = list(s.scalars(select(ChatIdentity).where(ChatIdentity.channel == "telegram")))
        texts = [t for pair in zip(*ANSWERS.values(), strict=True) for t in pair] + [FORMULA]
        for i, text in enumerate(texts):
            ident = idents[i % len(idents)]
            category = "城乡建设" if i % 2 == 0 else "社会民生"
            item = submit(
                s, ident, "campaign", {"category": category, "fields": {"content": text, "contact": ""}}
            )
            item.campaign_id = campaign_id
            item.created_at = now - timedelta(days=1 if i < 5 else 0)


def _chart(driver, chart_id: str) -> dict[str, tuple[int, float, str]]:
    """label → (data-count, bar width, number shown) of one inline SVG chart on the page."""
    svg = driver.find_element(By.ID, chart_id).get_attribute("outerHTML")
    root = ET.fromstring(svg)
    assert root.get("role") == "img" and root.find(f"{SVG}title") is not None
    return {
        g.get("data-label"): (
            int(g.get("data-count")),
            float(g.find(f"{SVG}rect").get("width")),
            g.find(f"{SVG}text[@class='count']").text,
        )
        for g in root.iter(f"{SVG}g")
    }


def _counts(chart: dict[str, tuple[int, float, str]]) -> dict[str, int]:
    for n, _, shown in chart.values():
        assert shown == str(n)
    return {label: n for label, (n, _, _) in chart.items()}


@pytest.mark.slow
def test_campaign_pages_in_chromium(site, browser, database, bot_services):
    url = site["url"]
    api = site["attach_bot"]()
    browser.get(f"{url}/staff/campaigns")
    assert "/staff/login?next=" in browser.current_url
    _login(browser, "staff password")
    assert browser.current_url.endswith("/staff/campaigns")

    browser.find_element(By.ID, "c-title").send_keys("我为青川发展献一策")
    browser.find_element(By.ID, "c-description").send_keys("围绕交通、养老提出建议")
    Select(browser.find_element(By.ID, "c-audience")).select_by_value("members")
    browser.find_element(By.ID, "c-end").send_keys("2026-02-30")
    _click(browser, "c-create")
    assert browser.find_element(By.ID, "error-end").text.startswith(
        "无法识别的时间「2026-02-30」"
    )  # at the field
    assert browser.switch_to.active_element.get_attribute("id") == "c-end"
    assert browser.find_element(By.ID, "c-title").get_attribute("value") == "我为青川发展献一策"  # kept
    assert browser.find_element(By.ID, "c-description").get_attribute("value") == "围绕交通、养老提出建议"
    with database.session() as s:
        assert s.scalar(select(Campaign.id)) is None
    end = (utcnow() + timedelta(days=3)).astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")
    browser.find_element(By.ID, "c-end").clear()
    browser.find_element(By.ID, "c-end").send_keys(end)
    _click(browser, "c-create")
    with database.session() as s:
        campaign = s.scalars(select(Campaign)).one()
        cid = campaign.id
        assert campaign.status == "open" and campaign.created_by == "xiaoli"
    assert browser.current_url.endswith(f"/staff/campaigns/{cid}?done=created")
    assert browser.find_element(By.ID, "flash").text == f"已创建征集活动 #{cid}「我为青川发展献一策」"
    assert browser.find_element(By.ID, "status").text == "进行中"
    assert browser.find_element(By.ID, "link-telegram").text == f"https://t.me/lvzhi_test_bot?start=cmp-{cid}"
    assert browser.find_element(By.ID, "link-web").text == f"{url}/?start=cmp-{cid}"

    # broadcast in the background of the server process, through the engine; progress by reloading
    _click(browser, "act-broadcast")
    assert "共 6 位对象（本次新增 6）" in browser.find_element(By.ID, "flash").text

    def finished() -> bool:
        browser.get(f"{url}/staff/campaigns/{cid}")
        return "正在后台发送" not in browser.find_element(By.ID, "b-state").text

    until_sync(finished, "the broadcast to finish", every=0.1)
    numbers = {k: browser.find_element(By.ID, f"b-{k}").text for k in ("total", "sent", "blocked", "failed")}
    assert numbers == {"total": "6", "sent": "5", "blocked": "1", "failed": "0"}
    assert len(api.delivered) == 5 and max(api.delivered.values()) == 1 and BLOCKED not in api.delivered

    add_answers(database, cid)
    browser.get(f"{url}/staff/campaigns/{cid}")
    assert browser.find_element(By.ID, "total").text == "13"
    with database.session() as s:
        rows = s.execute(
            select(Submission.created_at, Member.sector, Submission.category)
            .join(Member, Member.id == Submission.member_id)
            .where(Submission.campaign_id == cid)
        ).all()
        rep = report.build(s, cid)
    by_day = Counter(r.created_at.astimezone(TIMEZONE).strftime("%Y-%m-%d") for r in rows)
    assert _counts(_chart(browser, "chart-day")) == dict(by_day) and len(by_day) == 2
    sector_chart = _chart(browser, "chart-sector")
    assert _counts(sector_chart) == dict(Counter(r.sector for r in rows))
    assert _counts(sector_chart) == {"经济界": 7, "教育界": 4, "医药卫生界": 2}
    widths = {label: w for label, (_, w, _) in sector_chart.items()}
    assert widths["教育界"] == pytest.approx(widths["经济界"] * 4 / 7, abs=0.01)  # bars proportional
    assert _counts(_chart(browser, "chart-category")) == dict(Counter(r.category for r in rows))
    themes = _counts(_chart(browser, "chart-theme"))
    assert sorted(themes.values()) == sorted(
        [t.size for t in rep.themes] + ([rep.unclustered] * bool(rep.unclustered))
    )
    assert sum(themes.values()) == 13 and len(rep.themes) >= 2
    shown_themes = browser.find_elements(By.CSS_SELECTOR, "#themes .theme")
    assert len(shown_themes) == len(rep.themes)
    first = shown_themes[0].text
    assert rep.themes[0].label in first and f"（{rep.themes[0].size} 条）" in first
    assert rep.themes[0].representatives[0]["text"] in first
    answers = browser.find_element(By.ID, "answers").text
    assert "建议增设公交专用道，提高公交准点率" in answers and FORMULA in answers  # shown as text

    # the XLSX over HTTP with the browser's session cookie: all answers, formulas kept as text cells
    cookie = browser.get_cookie("lvzhi_staff")["value"]
    xlsx = requests.get(f"{url}/staff/campaigns/{cid}/export.xlsx", cookies={"lvzhi_staff": cookie})
    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    table = list(sheet.iter_rows(values_only=True))
    assert table[0] == report.EXPORT_HEADER and len(table) == 14
    assert any(r[5] == FORMULA for r in table) and all(
        c.data_type != "f" for r in sheet.iter_rows() for c in r
    )
    csv = requests.get(f"{url}/staff/campaigns/{cid}/export.csv", cookies={"lvzhi_staff": cookie})
    assert (
        csv.content.decode("utf-8-sig").count("\r\n") == 14 and "'" + FORMULA.replace('"', '""') in csv.text
    )

    _click(browser, "act-close")  # 立即结束 cannot be undone: a confirmation step first
    assert "已收到 13 条意见" in browser.find_element(By.ID, "confirm-question").text
    _click(browser, "confirm-yes")
    assert browser.find_element(By.ID, "status").text == "已结束"
    assert not browser.find_elements(By.ID, "act-close")
    assert _counts(_chart(browser, "chart-theme")) == themes  # the clustering reused from memory
    assert len(browser.find_elements(By.CSS_SELECTOR, "#themes .theme")) == len(rep.themes)
    browser.get(f"{url}/staff/campaigns")
    row = browser.find_element(By.CSS_SELECTOR, "#campaigns tbody tr")
    cells = {c: row.find_element(By.CLASS_NAME, c).text for c in ("status", "answers", "sent", "blocked")}
    assert cells == {"status": "已结束", "answers": "13", "sent": "5", "blocked": "1"}
    with database.session() as s:
        assert s.get(Campaign, cid).status == "closed"
        audit = [
            (e.action, e.before, e.after)
            for e in s.scalars(select(AuditEntry).where(AuditEntry.actor == "xiaoli").order_by(AuditEntry.id))
        ]
    actions = [a for a, _, _ in audit]
    assert actions == ["login", "campaign_create", "campaign_broadcast", "campaign_export", "campaign_export",
                       "campaign_close"]  # fmt: skip
    _, before, after = audit[-1]
    assert (before["status"], after["status"]) == ("open", "closed")
    assert audit[2][2] == {"recipients": 6, "added": 6, "resend_unknown": False}


def test_campaign_pages_refuse_strangers_members_and_forged_posts(site, database):
    url = site["url"]
    with database.session() as s:
        from bot.campaigns.service import create

        cid = create(s, "年度协商计划选题征集", utcnow(), utcnow() + timedelta(days=1), audience="public").id
    for cookies in ({}, {"lvzhi_web": "member-cookie" * 3}):  # a stranger and a bound member of the web chat
        r = requests.get(f"{url}/staff/campaigns/{cid}", cookies=cookies, allow_redirects=False)
        assert r.status_code == 303 and r.headers["Location"].startswith("/staff/login?next=")
        assert requests.get(f"{url}/staff/campaigns/{cid}/export.xlsx", cookies=cookies,
                            allow_redirects=False).status_code == 303  # fmt: skip
    anon = requests.post(f"{url}/staff/campaigns/{cid}/close", data={"csrf": "x"}, allow_redirects=False)
    assert anon.status_code == 403
    staff = requests.Session()
    staff.get(f"{url}/staff/login")
    token = staff.cookies.get("lvzhi_staff_login")
    staff.post(f"{url}/staff/login", data={"csrf": token, "username": "xiaoli", "password": "staff password"})
    forged = staff.post(f"{url}/staff/campaigns/{cid}/close", data={"csrf": "not-the-token"})
    assert forged.status_code == 403
    forged_create = staff.post(f"{url}/staff/campaigns", data={"csrf": "", "title": "x", "end": "2099-01-01"})
    assert forged_create.status_code == 403
    page = staff.get(f"{url}/staff/campaigns/{cid}")
    assert page.status_code == 200 and "<svg" in page.text and "无数据" in page.text  # no answers yet
    assert f"lvzhi campaigns broadcast {cid}" in page.text and "act-broadcast" not in page.text  # no bot here
    assert staff.get(f"{url}/staff/campaigns/999").status_code == 404
    bad = staff.post(f"{url}/staff/campaigns", data={
        "csrf": _csrf(page.text), "title": "<i>活动</i>", "audience": "sectors", "sectors": "文艺界",
        "end": "2099-01-01"})  # fmt: skip
    assert bad.status_code == 400 and "未知的界别「文艺界」" in bad.text
    assert 'value="&lt;i&gt;活动&lt;/i&gt;"' in bad.text and "<i>活动</i>" not in bad.text
    csrf = _csrf(page.text)
    asked = staff.post(f"{url}/staff/campaigns/{cid}/close", data={"csrf": csrf})  # without confirmation
    assert asked.status_code == 200 and 'id="confirm-yes"' in asked.text
    confirm = re.search(r'name="confirm" value="([^"]+)"', asked.text).group(1)
    closed = staff.post(f"{url}/staff/campaigns/{cid}/close", data={"csrf": csrf, "confirm": confirm})
    assert (
        closed.status_code == 200 and 'id="status">已结束<' in closed.text and "act-close" not in closed.text
    )
    again = staff.post(f"{url}/staff/campaigns/{cid}/open", data={"csrf": csrf})  # the end has passed
    assert again.status_code == 400 and "重新开放请用 --until 指定新的结束时间" in again.text
    typo = staff.post(f"{url}/staff/campaigns/{cid}/open", data={"csrf": csrf, "until": "2099-13-01"})
    assert typo.status_code == 400 and 'value="2099-13-01"' in typo.text  # kept
    reopened = staff.post(f"{url}/staff/campaigns/{cid}/open", data={"csrf": csrf, "until": "2099-01-01"})
    assert reopened.status_code == 200 and "征集活动已开放，截止 2099-01-02 00:00" in reopened.text
    with database.session() as s:
        assert s.get(Campaign, cid).status == "open"
        assert s.scalar(select(Campaign.id).where(Campaign.id != cid)) is None
        changes = [
            (e.action, e.before["status"], e.after["status"])
            for e in s.scalars(
                select(AuditEntry).where(AuditEntry.target == f"campaign:{cid}").order_by(AuditEntry.id)
            )
        ]
        assert changes == [("campaign_close", "open", "closed"), ("campaign_open", "closed", "open")]
        denied = {e.target for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "access_denied"))}
        views = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "anonymous_view")))
    assert {f"POST /staff/campaigns/{cid}/close",
            f"CSRF POST /staff/campaigns/{cid}/close", "CSRF POST /staff/campaigns"} <= denied  # fmt: skip
    # the four page views without a session only went to the login page: no row (issue 11)
    assert f"GET /staff/campaigns/{cid}" not in denied and views == []


def _csrf(text: str) -> str:
    import re

    return re.search(r'name="csrf" value="([^"]+)"', text).group(1)


async def test_serve_attaches_its_telegram_bot_for_broadcasts(bot_services, database, monkeypatch) -> None:
    """`lvzhi serve` with its bot: the report page offers the button; the run goes through the serving bot."""
    import aiohttp
    from tg_standin import BotApiStandIn

    from bot.campaigns.service import create
    from bot.channels.cli import serve
    from bot.channels.telegram import app as tg_app

    standin = BotApiStandIn()
    real = tg_app.build_application
    monkeypatch.setattr(tg_app, "build_application", lambda services: real(services, standin))
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        for n in range(4):
            m = Member(name=f"委员{n}", sector="经济界", phone=f"1380000{n:04d}")
            s.add(m)
            s.flush()
            s.add(ChatIdentity(channel="telegram", external_id=str(7100 + n), chat_id=str(7100 + n),
                               member_id=m.id, bound_at=utcnow()))  # fmt: skip
        cid = create(s, "征集活动", utcnow(), utcnow() + timedelta(days=1)).id
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(bot_services, "127.0.0.1", port, True, stop))
    try:
        await until(lambda: bot_services.broadcasts.available, "the broadcast engine")
        base = f"http://127.0.0.1:{port}/staff"
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(f"{base}/login") as r:
                token = r.cookies["lvzhi_staff_login"].value
            login = {"csrf": token, "username": "xiaoli", "password": "staff password"}
            async with http.post(f"{base}/login", data=login) as r:
                assert r.status == 200
            async with http.get(f"{base}/campaigns/{cid}") as r:
                page = await r.text()
            assert 'id="act-broadcast"' in page and "lvzhi campaigns broadcast" not in page
            async with http.post(f"{base}/campaigns/{cid}/broadcast", data={"csrf": _csrf(page)}) as r:
                assert r.status == 200 and "共 4 位对象（本次新增 4）" in await r.text()

            deadline = time.monotonic() + DEADLINE_S
            while True:  # progress by reloading the page
                async with http.get(f"{base}/campaigns/{cid}") as r:
                    page = await r.text()
                if "正在后台发送" not in page or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert 'id="b-sent">4<' in page and "没有正在进行的发送" in page
    finally:
        stop.set()
        await server
    invitations = [c for c in standin.calls if c.method == "sendMessage" and "征集活动" in c.params["text"]]
    assert sorted(str(c.params["chat_id"]) for c in invitations) == [str(7100 + n) for n in range(4)]
    assert bot_services.broadcasts.tasks == {}  # stopped with the server
    with database.session() as s:
        assert sorted(s.scalars(select(CampaignDelivery.state))) == ["sent"] * 4


def test_answers_are_paged() -> None:
    from bot.campaigns.report import AnswerRow, CampaignReport
    from bot.channels.web.staff.campaign_view import ANSWERS_PER_PAGE, answers_html

    rows = [AnswerRow(f"ZJ-2026-{n:04d}", "2026-05-01 09:00", "2026-05-01", "委员", "经济界", "其他",
                      f"意见{n}", "", "提交") for n in range(1, 121)]  # fmt: skip
    rep = CampaignReport(1, "活动", "进行中", "全体委员", "", "", 120, [], [], [], answers=rows)
    first, pager = answers_html(rep, 1)
    assert first.count("<tr>") == ANSWERS_PER_PAGE == 50
    assert "ZJ-2026-0050" in first and "ZJ-2026-0051" not in first
    assert "1/3" in pager and 'href="/staff/campaigns/1?page=2#answers"' in pager and 'id="prev"' not in pager
    last, pager = answers_html(rep, 9)  # past the end: the last page
    assert last.count("<tr>") == 20 and "ZJ-2026-0120" in last and "3/3" in pager and 'id="next"' not in pager
