"""Staff web pages in headless Chromium (login, queue filters, an item, accept, logout) and over plain HTTP
(CSRF, direct URLs without a session, escaping), on SQLite and PostgreSQL."""

from __future__ import annotations

import re

import pytest
import requests
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import select
from web_fixtures import serve_web_app

from bot.channels.web import sessions as web_sessions
from bot.chat.texts import say
from bot.members.service import identity_for
from bot.staff import accounts
from bot.staff.models import Assignment, AuditEntry
from bot.storage.models import Attachment, Member, Submission
from bot.suggestions.service import submit
from bot.suggestions.types import catalog

PROPOSAL = {
    "category": "社会建设",
    "fields": {"title": "关于加快老旧小区加装电梯的建议", "background": "老旧小区居民上下楼困难。" * 6,
               "recommendations": "建议简化审批流程，设立专项补贴资金。"},
}  # fmt: skip
MICRO = {
    "category": "城市管理",
    "fields": {"title": "<script>alert(1)</script>", "content": "建议在地铁站增加无障碍电梯。"},
}


@pytest.fixture
def site(bot_services, database):
    """The web server (chat + /staff) on a free loopback port, with a staff account and two items."""
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        for phone, sector, draft, key in (
            ("1", "经济界", PROPOSAL, "proposal"),
            ("2", "教育界", MICRO, "micro"),
        ):
            m = Member(name=f"委员{phone}", sector=sector, phone=phone)
            s.add(m)
            s.flush()
            ident = identity_for(s, "web", f"user{phone}" * 4, f"user{phone}" * 4)
            ident.member_id = m.id
            submit(s, ident, key, draft)
    with serve_web_app(bot_services) as (base, _loop):
        yield base


def _receipts(driver) -> list[str]:
    return [a.text for a in driver.find_elements(By.CSS_SELECTOR, "#queue a.receipt")]


def _replaced(old):
    """Wait condition: the element's document is gone. Chromium reports a node of a replaced document either as stale
    or, while the new page commits, as "Node with given id does not belong to the document"; both mean replaced."""

    def check(_driver) -> bool:
        try:
            old.is_enabled()
        except StaleElementReferenceException:
            return True
        except WebDriverException as exc:
            if "does not belong to the document" in str(exc):
                return True
            raise
        return False

    return check


def _click(driver, element_id: str) -> None:
    """Click a button or link that loads a new page, and wait until the new page has replaced the old one."""
    old = driver.find_element(By.TAG_NAME, "html")
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 30).until(_replaced(old))
    # on a busy machine the new page may still be loading (or a redirect may follow): wait until it has settled
    WebDriverWait(driver, 30).until(lambda d: d.execute_script("return document.readyState") == "complete")


def _apply_filters(driver) -> None:
    _click(driver, "f-apply")


def _login(driver, password: str) -> None:
    driver.find_element(By.ID, "username").send_keys("xiaoli")
    driver.find_element(By.ID, "password").send_keys(password)
    _click(driver, "login")


@pytest.mark.slow
def test_staff_pages_in_chromium(site, browser, database):
    with database.session() as s:
        ta, wj = (i.receipt_no for i in s.scalars(select(Submission).order_by(Submission.id)))
    browser.get(f"{site}/staff/item/{ta}")  # a direct URL without a session goes to the login page
    assert "/staff/login?next=" in browser.current_url and browser.title.startswith("工作人员登录")
    _login(browser, "wrong password")
    assert browser.find_element(By.ID, "error").text == "用户名或密码错误"
    assert not browser.find_elements(By.ID, "logout")
    assert browser.find_element(By.ID, "username").get_attribute("value") == "xiaoli"  # kept
    browser.find_element(By.ID, "username").clear()
    _login(browser, "staff password")
    assert browser.current_url.endswith(f"/staff/item/{ta}")  # back where the staff member wanted to go
    cookie = browser.get_cookie("lvzhi_staff")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Strict"

    browser.get(f"{site}/staff/")
    assert _receipts(browser) == [wj, ta] and browser.find_element(By.ID, "total").text == "2"
    Select(browser.find_element(By.ID, "f-type")).select_by_visible_text("提案")
    _apply_filters(browser)
    assert _receipts(browser) == [ta]
    browser.get(f"{site}/staff/")
    Select(browser.find_element(By.ID, "f-sector")).select_by_visible_text("教育界")
    _apply_filters(browser)
    assert _receipts(browser) == [wj]
    assert "<script>alert(1)</script>" in browser.find_element(By.ID, "queue").text  # shown as text, not run
    browser.get(f"{site}/staff/?from=2000-01-01&to=2000-01-02")
    assert _receipts(browser) == []

    browser.get(f"{site}/staff/?type=proposal")
    offered = [o.text for o in Select(browser.find_element(By.ID, "f-category")).options][1:]
    assert offered == list(catalog().get("proposal").categories) and "教育" not in offered  # 提案's list only
    old = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(By.LINK_TEXT, ta).click()
    WebDriverWait(browser, 30).until(_replaced(old))
    assert browser.find_element(By.ID, "status").text == "提交"
    assert "老旧小区居民上下楼困难" in browser.page_source
    _click(browser, "act-accept")  # 立案 cannot be undone: a confirmation step first
    assert "确认对事项" in browser.find_element(By.ID, "confirm-question").text
    _click(browser, "confirm-yes")
    assert browser.find_element(By.ID, "flash").text == "已完成：立案/采用"
    assert browser.find_element(By.ID, "status").text == "立案"
    assert not browser.find_elements(By.ID, "act-decline")  # no longer a legal move
    browser.find_element(By.ID, "assign-contact").send_keys("张科长 0851-1234")
    _click(browser, "act-assign")  # no lead body: refused next to the field, the typed contact is kept
    assert browser.find_element(By.ID, "error-lead").text == "请填写主办单位"
    assert browser.find_element(By.ID, "assign-contact").get_attribute("value") == "张科长 0851-1234"
    browser.find_element(By.ID, "assign-lead").send_keys("市住建局")
    browser.find_element(By.ID, "assign-assisting").send_keys("市财政局、市自然资源局")
    _click(browser, "act-assign")
    assert browser.find_element(By.ID, "status").text == "交办"
    assert "主办：市住建局 张科长 0851-1234" in browser.find_element(By.ID, "assignments").text

    browser.get(f"{site}/staff/audit")
    actions = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.action")]
    assert actions[:4] == ["交办", "立案", "登录", "登录失败"]
    _click(browser, "logout")
    assert browser.current_url.endswith("/staff/login") and browser.get_cookie("lvzhi_staff") is None
    browser.get(f"{site}/staff/")
    assert "/staff/login" in browser.current_url
    with database.session() as s:
        item = s.scalars(select(Submission).where(Submission.receipt_no == ta)).one()
        assert item.status == "assigned"
        assert [(a.body, a.role) for a in s.scalars(select(Assignment))] == [
            ("市住建局", "lead"), ("市财政局", "assist"), ("市自然资源局", "assist")]  # fmt: skip
        audit = [(e.actor, e.action) for e in s.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        assert ("xiaoli", "accept") in audit and ("xiaoli", "logout") in audit
        # neither the direct item URL before login nor /staff/ after logout is a refusal: no row at all
        assert not [a for a in audit if a[1] in ("access_denied", "anonymous_view")]


def test_staff_http_guard_csrf_and_escaping(site, database, bot_services):
    folder = bot_services.settings.data_dir / "attachments" / "501"
    folder.mkdir(parents=True)
    (folder / "photo.jpg").write_bytes(b"\xff\xd8photo")
    with database.session() as s:
        item = s.scalars(select(Submission).where(Submission.type == "micro")).one()
        wj = item.receipt_no
        kept = Attachment(submission_id=item.id, kind="photo", file_id="F1", file_name="现场照片.jpg",
                          local_path=str(folder / "photo.jpg"))  # fmt: skip
        outside = Attachment(
            submission_id=item.id, kind="document", file_id="F2", file_name="x", local_path="/etc/passwd"
        )
        s.add_all([kept, outside])
        s.flush()
        kept_id, outside_id = kept.id, outside.id
    assert requests.get(f"{site}/staff/attachment/{kept_id}", allow_redirects=False).status_code == 303
    anon = requests.post(f"{site}/staff/item/{wj}", data={"action": "accept"}, allow_redirects=False)
    assert anon.status_code == 403 and "仅限已登录的工作人员" in anon.text
    assert requests.get(f"{site}/staff/audit", allow_redirects=False).status_code == 303
    web = requests.Session()
    page = web.get(f"{site}/staff/login").text
    token = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert web.post(f"{site}/staff/login", data={"csrf": "forged", "username": "xiaoli",
                    "password": "staff password"}).status_code == 403  # fmt: skip
    web.get(f"{site}/staff/login")
    token = web.cookies.get("lvzhi_staff_login")
    ok = web.post(
        f"{site}/staff/login", data={"csrf": token, "username": "xiaoli", "password": "staff password"}
    )
    assert ok.status_code == 200 and ok.url.endswith("/staff/")
    item = web.get(f"{site}/staff/item/{wj}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in item and "<script>" not in item
    assert f'href="/staff/attachment/{kept_id}">现场照片.jpg</a>' in item
    photo = web.get(f"{site}/staff/attachment/{kept_id}")
    assert photo.content == b"\xff\xd8photo" and "attachment" in photo.headers["Content-Disposition"]
    assert web.get(f"{site}/staff/attachment/{outside_id}").status_code == 404  # nothing outside the folder
    forged = web.post(f"{site}/staff/item/{wj}", data={"action": "accept", "csrf": "not-the-token"})
    assert forged.status_code == 403
    csrf = re.search(r'name="csrf" value="([^"]+)"', item).group(1)
    bad = web.post(f"{site}/staff/item/{wj}", data={"action": "close", "csrf": csrf})
    assert bad.status_code == 400 and "不能执行「办结」" in bad.text
    declined = web.post(f"{site}/staff/item/{wj}", data={"action": "decline", "csrf": csrf, "reason": ""})
    assert (
        declined.status_code == 400
        and 'id="error-reason" role="alert">不予立案或不予采用必须填写理由' in declined.text
    )
    reg = web.get(f"{site}/staff/reg", params={"q": "一事一案"}).text
    assert "第五条 提案应当坚持一事一案，每件提案只能反映一个问题，不得将多个事项写入同一件提案。" in reg
    section = re.search(r'href="(/staff/reg/section\?id=[^"]+)"', reg).group(1)
    whole = web.get(f"{site}{section.replace('&amp;', '&')}").text
    assert whole.index("第五条") < whole.index("第六条") < whole.index("第十二条")
    # the micro-suggestion gets a reply; the member's web chat receives it with rating buttons and rates it
    reply = web.post(
        f"{site}/staff/item/{wj}", data={"action": "reply", "csrf": csrf, "reply": "已转交地铁集团研究。"}
    )
    assert reply.status_code == 200 and "已完成：录入答复" in reply.text
    chat = requests.Session()
    with database.session() as s:  # the member's browser holds a session the server issued for that chat
        chat.cookies.set("lvzhi_web", web_sessions.issue(s, "user2" * 4, None)[1])
    notes = chat.get(f"{site}/api/notifications").json()["replies"]
    rating = [n for n in notes if n["buttons"]][0]
    assert "已转交地铁集团研究。" in rating["html"]
    assert [b["label"] for b in rating["buttons"][0]] == ["满意", "基本满意", "不满意"]
    thanks = chat.post(f"{site}/api/press", json={"data": rating["buttons"][0][1]["data"]}).json()["replies"]
    assert [(r["html"], r["toast"]) for r in thanks] == [(say("rating_thanks", rating="基本满意"), "")]
    assert "基本满意" in web.get(f"{site}/staff/item/{wj}").text
    download = web.get(f"{site}/staff/export/replies.csv")
    assert download.headers["Content-Type"].startswith("text/csv")
    assert wj in download.content.decode("utf-8-sig") and "基本满意" in download.content.decode("utf-8-sig")
    overdue = web.get(f"{site}/staff/overdue")
    assert overdue.status_code == 200 and "超过 <b>90</b> 天" in overdue.text
    guesser = requests.Session()
    codes = []
    for n in range(8):  # password guessing is delayed per address and username after 5 failures
        guesser.get(f"{site}/staff/login")
        data = {
            "csrf": guesser.cookies.get("lvzhi_staff_login"),
            "username": "xiaoli",
            "password": f"guess {n}",
        }
        codes.append(guesser.post(f"{site}/staff/login", data=data).status_code)
    assert codes == [401] * 5 + [429] * 3  # the earlier good login of this client did not count
    with database.session() as s:
        assert (
            s.scalars(select(Submission).where(Submission.receipt_no == wj)).one().status == "answered"
        )  # micro: no 委员评价 step
        denied = [e for e in s.scalars(select(AuditEntry)) if e.action in ("access_denied", "anonymous_view")]
        assert {e.target for e in denied} == {f"POST /staff/item/{wj}", f"CSRF POST /staff/item/{wj}"}
