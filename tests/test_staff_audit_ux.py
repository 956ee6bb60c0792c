"""Issue 11 items 5 and 6: the audit log a person reads, and staff pages that help not to err.

In headless Chromium at 1280×800 (confirmation of 立案/不予立案, the error next to its field, actions grouped, the
audit page in Chinese with the changed fields, filters, paging and target links) and at 390×844 (no horizontal page
overflow on the queue, an item and the campaign report; tables scroll instead of wrapping; charts scale), over plain
HTTP (a direct POST without confirmation changes nothing; an anonymous GET writes no audit row, a forged POST one),
and a scan of the code: every audit action code written anywhere has a Chinese label."""

from __future__ import annotations

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import func, select
from test_staff_web import _click, _login
from web_fixtures import serve_web_app

from bot.campaigns import service as campaigns
from bot.members.service import identity_for
from bot.staff import accounts, audit, audit_labels, review
from bot.staff.accounts import Staff
from bot.staff.models import AuditEntry
from bot.storage.models import Member, Submission, utcnow
from bot.suggestions.service import submit

ROOT = Path(__file__).resolve().parents[1]
BACKGROUND = "老旧小区多为六层以下住宅，没有电梯，老年居民上下楼十分困难，出行和就医都受到影响。" * 12
PROPOSAL = {
    "category": "社会建设",
    "fields": {"title": "关于加快老旧小区加装电梯的建议", "background": BACKGROUND,
               "recommendations": "建议简化审批流程，设立专项补贴资金，统一协调管线迁改。"},
}  # fmt: skip
MICRO = {
    "category": "城市管理",
    "fields": {"title": "地铁站无障碍电梯", "content": "建议在地铁站增加无障碍电梯。"},
}
LONG_NAMES = ["欧阳娜娜娜娜", "司马相如如意", "上官婉儿儿儿"]


# --- every action code the code writes has a label

AUDIT_FUNCS = {"record": 2, "fold": 3, "denied": None}  # the index of the action argument (session first)
# action arguments that are not literals, resolved here; a new one makes the test fail until it is added
DYNAMIC = {
    ("bot/staff/review.py", "action"): lambda: set(review.ACTION_TARGETS),
    ("bot/channels/web/staff/campaigns.py", "f'campaign_{action}'"): lambda: {
        "campaign_open",
        "campaign_close",
    },
    ("bot/activities/cli.py", "f'activity_leave_{args.decision}'"): lambda: {
        "activity_leave_approve",
        "activity_leave_return",
    },
    (
        "bot/channels/web/staff/activities.py",
        "'activity_leave_' + ('approve' if approve else 'return')",
    ): lambda: {
        "activity_leave_approve",
        "activity_leave_return",
    },
    ("bot/knowledge/library.py", "action"): lambda: {"doc_upload", "doc_replace"},
    ("bot/staff/audit.py", "action"): lambda: set(),  # fold() passes its callers' codes on: they are scanned
}


def _audit_ref(node: ast.AST, local: set[str]) -> str | None:
    """ "record"/"fold"/"denied" when node names one of the audit functions (audit.x, or x imported from it)."""
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "audit":
        return node.attr if node.attr in AUDIT_FUNCS else None
    if isinstance(node, ast.Name) and node.id in local:
        return node.id
    return None


def _written_codes() -> tuple[set[str], list[str]]:
    """The action codes of every call that writes the audit log in bot/, and the call sites it cannot resolve."""
    codes, unknown = set(), []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"))
        local = set(AUDIT_FUNCS) if rel == "bot/staff/audit.py" else set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module == "bot.staff.audit":
                local |= {a.asname or a.name for a in node.names if a.name in AUDIT_FUNCS}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name, args = _audit_ref(node.func, local), list(node.args)
            if (
                name is None
            ):  # passed on, e.g. _db_call(request, audit.fold, client, ...): the session is added
                for i, arg in enumerate(node.args):
                    if _audit_ref(arg, local):
                        name, args = _audit_ref(arg, local), [None, *node.args[i + 1 :]]
                        break
            if name is None:
                continue
            if name == "denied":
                codes.add("access_denied")
                continue
            index = AUDIT_FUNCS[name]
            arg = next((k.value for k in node.keywords if k.arg == "action"), None)
            if arg is None and len(args) > index:
                arg = args[index]
            if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                codes.add(arg.value)
            elif arg is not None and (rel, ast.unparse(arg)) in DYNAMIC:
                codes |= DYNAMIC[(rel, ast.unparse(arg))]()
            else:
                unknown.append(f"{rel}:{node.lineno}: {ast.unparse(node)[:100]}")
    return codes, unknown


def test_every_audit_code_written_anywhere_has_a_chinese_label():
    codes, unknown = _written_codes()
    assert unknown == [], "audit calls whose action code the test cannot resolve (add them to DYNAMIC)"
    assert {"accept", "decline", "assign", "login", "login_failed", "access_denied", "campaign_close",
            "staff_add", "remind", "offer_hidden"} <= codes  # fmt: skip  # the scan finds the known writers
    missing = sorted(c for c in codes if c not in audit_labels.action_codes())
    assert missing == [], (
        f"action codes without an audit/action/<code> label in prompts/staff.toml: {missing}"
    )
    for code in codes:
        assert re.search(r"[\u4e00-\u9fff]", audit_labels.action_label(code)), code


def test_changes_are_the_fields_that_changed_in_words():
    moved = audit_labels.changes({"status": "reviewing"}, {"status": "accepted", "reason": "符合立案条件"},
                                 "submission:TA2026-0001")  # fmt: skip
    assert [(c.label, c.before, c.after) for c in moved] == [
        ("状态", "审查", "立案"),
        ("理由", None, "符合立案条件"),
    ]
    flag = audit_labels.changes(
        {"offer_hidden": False, "private": True}, {"offer_hidden": True, "private": True}
    )
    assert [(c.label, c.before, c.after) for c in flag] == [("不在相似事项中推荐", "否", "是")]
    closed = audit_labels.changes({"status": "open"}, {"status": "closed"}, "campaign:3")
    assert [(c.before, c.after) for c in closed] == [("进行中", "已结束")]  # a campaign's words, not 办结
    assert audit_labels.action_label("accept", {"status": "adopted"}) == "采用"
    assert audit_labels.action_label("decline", {"status": "rejected"}) == "不予立案"
    assert audit_labels.target_label("campaign:3") == "征集活动 #3"
    assert audit_labels.target_label("POST /staff/item/X") == "POST /staff/item/X"


# --- the site


@pytest.fixture
def site(bot_services, database):
    """The web server with a staff account, a proposal, a micro-suggestion, a proposal being handled, and an open
    campaign with answers from members with long names."""
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        accounts.add(s, "admin", "wanggan", "other password", "staff", "王干部")
        receipts = {}
        for n, (key, draft) in enumerate((("proposal", PROPOSAL), ("micro", MICRO), ("handled", PROPOSAL))):
            m = Member(name=LONG_NAMES[n], sector="经济界", phone=str(n))
            s.add(m)
            s.flush()
            ident = identity_for(s, "web", f"user{n}" * 4, f"user{n}" * 4)
            ident.member_id = m.id
            receipts[key] = submit(s, ident, "proposal" if key == "handled" else key, draft).receipt_no
            receipts[f"ident{n}"] = ident.id
        other = Staff("wanggan", "staff", channel="web")
        for action, data in (("review", None), ("accept", None), ("assign", review.ActionInput(lead="市住建局")),
                             ("handling", None)):  # fmt: skip
            review.perform(s, other, receipts["handled"], action, data)
        start = utcnow() - timedelta(hours=1)
        camp = campaigns.create(
            s, "我为城市发展献一策", start, start + timedelta(days=3), created_by="xiaoli"
        )
        s.flush()
        from bot.storage.models import ChatIdentity

        for i in range(6):
            ident = s.get(ChatIdentity, receipts[f"ident{i % 3}"])
            item = submit(s, ident, "campaign", {"category": "社会民生", "fields": {
                "content": f"建议{i}：在社区增加养老服务站点，为老人提供助餐和日间照料服务。" * 3, "contact": ""}})  # fmt: skip
            item.campaign_id = camp.id
        receipts["campaign"] = camp.id
    with serve_web_app(bot_services) as (base, _loop):
        yield base, receipts


def _status(database, receipt: str) -> str:
    with database.session() as s:
        return s.scalars(select(Submission.status).where(Submission.receipt_no == receipt)).one()


def _rows(database) -> int:
    with database.session() as s:
        return s.scalar(select(func.count()).select_from(AuditEntry))


def _staff(
    base: str, username: str = "xiaoli", password: str = "staff password"
) -> tuple[requests.Session, str]:
    web = requests.Session()
    web.get(f"{base}/staff/login")
    data = {"csrf": web.cookies.get("lvzhi_staff_login"), "username": username, "password": password}
    assert web.post(f"{base}/staff/login", data=data).url.endswith("/staff/")
    return web, re.search(r'name="csrf" value="([^"]+)"', web.get(f"{base}/staff/").text).group(1)


def _in_view(driver, element) -> bool:
    return driver.execute_script(
        "const r = arguments[0].getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight;",
        element,
    )


@pytest.mark.slow
def test_confirmation_field_errors_grouping_and_audit_page_in_chromium(site, browser, database):
    base, r = site
    ta, wj = r["proposal"], r["micro"]
    browser.set_window_size(1280, 800)
    browser.get(f"{base}/staff/login")
    _login(browser, "staff password")
    browser.get(f"{base}/staff/item/{ta}")
    _click(browser, "act-review")
    assert browser.find_element(By.ID, "status").text == "审查"

    # actions grouped by what they need: the reason is in the 不予立案 form, not next to the 立案 button
    reason = browser.find_element(By.ID, "decline-reason")
    assert reason.find_element(By.XPATH, "ancestor::form").get_attribute("id") == "form-decline"
    decline_form = browser.find_element(By.ID, "form-decline")
    assert decline_form.find_element(By.TAG_NAME, "legend").text == "不予立案/不采用"
    assert decline_form.find_elements(By.ID, "act-decline") and not decline_form.find_elements(
        By.ID, "act-accept"
    )
    assert browser.find_element(By.ID, "act-accept").find_element(By.XPATH, "ancestor::div[1]").get_attribute(
        "id") == "group-direct"  # fmt: skip

    # the error is next to its field, the page is scrolled there and the cursor put in it
    _click(browser, "act-decline")
    error = browser.find_element(By.ID, "error-reason")
    assert error.text == "不予立案或不予采用必须填写理由" and not browser.find_elements(By.ID, "error")
    assert error.find_element(By.XPATH, "preceding-sibling::label[1]//textarea").get_attribute("id") == (
        "decline-reason")  # fmt: skip
    assert browser.execute_script("return window.scrollY") > 200 and _in_view(browser, error)
    assert browser.switch_to.active_element.get_attribute("id") == "decline-reason"
    assert _status(database, ta) == "reviewing"

    # 不予立案 asks first; going back changes nothing
    browser.find_element(By.ID, "decline-reason").send_keys("不属于政协提案受理范围")
    _click(browser, "act-decline")
    assert "执行「不予立案/不采用」" in browser.find_element(By.ID, "confirm-question").text
    assert "不属于政协提案受理范围" in browser.find_element(By.ID, "confirm-details").text
    assert "审查 → 不予立案" in browser.find_element(By.ID, "confirm-details").text
    _click(browser, "confirm-no")
    assert _status(database, ta) == "reviewing" and browser.find_element(By.ID, "status").text == "审查"
    # 立案 asks first; confirmed, it is done
    _click(browser, "act-accept")
    assert _status(database, ta) == "reviewing"
    _click(browser, "confirm-yes")
    assert browser.find_element(By.ID, "flash").text == "已完成：立案/采用"
    assert _status(database, ta) == "accepted"

    # fields that do not apply to a type are not shown: no 答复等级 on a 微建议, but on a proposal
    browser.get(f"{base}/staff/item/{wj}")
    _click(browser, "act-review")
    assert browser.find_elements(By.ID, "reply-text") and not browser.find_elements(By.ID, "reply-grade")
    assert "答复等级" not in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{base}/staff/item/{r['handled']}")
    assert browser.find_elements(By.ID, "reply-grade") and "答复等级（必选）" in browser.page_source

    # the audit page in words
    browser.get(f"{base}/staff/audit")
    actions = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.action")]
    assert actions[:4] == ["开始审查", "立案", "开始审查", "登录"]
    accept_row = browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")[1]
    assert accept_row.find_element(By.CSS_SELECTOR, "li[data-field=status]").text == "状态：审查 → 立案"
    assert "{" not in browser.find_element(By.ID, "audit").text  # no raw JSON
    assign = browser.find_element(By.XPATH, "//td[@data-code='assign']/..")
    assert assign.find_element(By.CSS_SELECTOR, "li[data-field=lead]").text == "主办单位：市住建局"
    link = accept_row.find_element(By.CSS_SELECTOR, "a.target")
    assert link.text == f"事项 {ta}" and link.get_attribute("href").endswith(f"/staff/item/{ta}")
    # filters: action, who, target, dates; each keeps the others
    Select(browser.find_element(By.ID, "a-action")).select_by_visible_text("交办")
    _click(browser, "a-apply")
    rows = browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")
    assert [row.find_element(By.CSS_SELECTOR, "td.actor").text for row in rows] == ["wanggan"]
    browser.get(f"{base}/staff/audit")
    browser.find_element(By.ID, "a-actor").send_keys("xiaoli")
    browser.find_element(By.ID, "a-target").send_keys(ta.lower())
    _click(browser, "a-apply")
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.action")] == [
        "立案",
        "开始审查",
    ]
    browser.get(f"{base}/staff/audit?target={r['handled']}")
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.action")] == [
        "开始办理", "交办", "立案", "开始审查"]  # fmt: skip
    browser.get(f"{base}/staff/audit?target=campaign:{r['campaign']}")
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.action")] == []
    tomorrow = (utcnow() + timedelta(days=2)).date().isoformat()
    browser.get(f"{base}/staff/audit?from={tomorrow}")
    assert browser.find_element(By.CSS_SELECTOR, "#audit tbody").text == "没有符合条件的记录"
    browser.get(f"{base}/staff/audit?to={tomorrow}&action=login")
    assert [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.action")] == ["登录"]
    browser.get(f"{base}/staff/audit?from=2026-13-45&actor=xiaoli")
    assert browser.find_element(By.ID, "error-from").text == "日期应写成 2026-05-01 这样的格式"
    assert browser.find_element(By.ID, "a-actor").get_attribute("value") == "xiaoli"  # kept
    # paging keeps the filter
    with database.session() as s:
        for n in range(55):
            audit.record(
                s, "wanggan", "remind", f"submission:{r['handled']}", None, {"to": [f"联系人{n}"]}, "cli"
            )
    browser.get(f"{base}/staff/audit?action=remind")
    assert len(browser.find_elements(By.CSS_SELECTOR, "#audit tbody tr")) == 50
    _click(browser, "next")
    assert "action=remind" in browser.current_url and "page=2" in browser.current_url
    texts = [td.text for td in browser.find_elements(By.CSS_SELECTOR, "#audit td.content")]
    assert texts == [f"提醒对象：联系人{n}" for n in range(4, -1, -1)]
    browser.get(f"{base}/staff/audit")
    browser.find_elements(By.CSS_SELECTOR, "#audit a.target")[0].click()
    WebDriverWait(browser, 30).until(lambda d: d.current_url.endswith(f"/staff/item/{r['handled']}"))
    assert browser.find_element(By.ID, "status").text == "办理中"


def test_direct_posts_without_confirmation_change_nothing(site, database):
    base, r = site
    ta, cid = r["proposal"], r["campaign"]
    web, csrf = _staff(base)
    assert web.post(f"{base}/staff/item/{ta}", data={"csrf": csrf, "action": "review"}).status_code == 200
    for action, extra in (("accept", {}), ("decline", {"reason": "不予立案的理由"})):
        asked = web.post(f"{base}/staff/item/{ta}", data={"csrf": csrf, "action": action, **extra})
        assert asked.status_code == 200 and 'id="confirm-yes"' in asked.text
        for forged in ("1", "yes", "0" * 40):
            web.post(
                f"{base}/staff/item/{ta}", data={"csrf": csrf, "action": action, "confirm": forged, **extra}
            )
        assert _status(database, ta) == "reviewing"
    accept_token = re.search(
        r'name="confirm" value="([^"]+)"', web.post(f"{base}/staff/item/{ta}", data={"csrf": csrf, "action": "accept"}).text
    ).group(1)  # fmt: skip
    # a confirmation made for 立案 does not confirm 不予立案, nor another session's 立案
    web.post(
        f"{base}/staff/item/{ta}",
        data={"csrf": csrf, "action": "decline", "reason": "x", "confirm": accept_token},
    )
    other, other_csrf = _staff(base, "wanggan", "other password")
    other.post(
        f"{base}/staff/item/{ta}", data={"csrf": other_csrf, "action": "accept", "confirm": accept_token}
    )
    assert _status(database, ta) == "reviewing"
    done = web.post(
        f"{base}/staff/item/{ta}", data={"csrf": csrf, "action": "accept", "confirm": accept_token}
    )
    assert (
        done.status_code == 200 and "已完成：立案/采用" in done.text and _status(database, ta) == "accepted"
    )
    # 立即结束 a campaign
    asked = web.post(f"{base}/staff/campaigns/{cid}/close", data={"csrf": csrf})
    assert "已收到 6 条意见" in asked.text
    web.post(f"{base}/staff/campaigns/{cid}/close", data={"csrf": csrf, "confirm": "1"})
    with database.session() as s:
        assert campaigns.get(s, cid).status == "open"
    token = re.search(r'name="confirm" value="([^"]+)"', asked.text).group(1)
    closed = web.post(f"{base}/staff/campaigns/{cid}/close", data={"csrf": csrf, "confirm": token})
    assert 'id="status">已结束<' in closed.text
    with database.session() as s:
        assert campaigns.get(s, cid).status == "closed"


def test_anonymous_get_writes_no_row_and_forged_posts_are_logged_in_words(site, database):
    base, r = site
    before = _rows(database)
    for path in (
        "/staff/",
        f"/staff/item/{r['proposal']}",
        "/staff/audit",
        f"/staff/campaigns/{r['campaign']}",
    ):
        got = requests.get(f"{base}{path}", allow_redirects=False)
        assert got.status_code == 303 and got.headers["Location"].startswith("/staff/login?next=")
    assert _rows(database) == before  # a page view before logging in is not an attempt at anything
    anon = requests.post(
        f"{base}/staff/item/{r['proposal']}", data={"action": "accept"}, allow_redirects=False
    )
    assert anon.status_code == 403 and _rows(database) == before + 1
    web, _ = _staff(base)
    forged = web.post(f"{base}/staff/item/{r['proposal']}", data={"action": "accept", "csrf": "forged"})
    assert forged.status_code == 403
    page = web.get(f"{base}/staff/audit", params={"action": "access_denied"}).text
    cells = re.findall(r'<td class="action" data-code="access_denied">([^<]+)</td>', page)
    assert cells == ["越权访问", "越权访问"]
    assert f"CSRF POST /staff/item/{r['proposal']}" in page and f"POST /staff/item/{r['proposal']}" in page
    assert _status(database, r["proposal"]) == "submitted"


# --- 390 px


def _phone(driver) -> None:
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 390, "height": 844, "deviceScaleFactor": 2, "mobile": True},
    )


def _no_page_overflow(driver) -> None:
    width = driver.execute_script("return window.innerWidth")
    assert width == 390
    scroll = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll <= width, (driver.current_url, scroll)


def _lines(driver, element) -> int:
    """How many line boxes an element's text takes."""
    return driver.execute_script(
        "const r = document.createRange(); r.selectNodeContents(arguments[0]);"
        "return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size;",
        element,
    )


@pytest.mark.slow
def test_pages_fit_a_390_px_phone(site, browser, database):
    base, r = site
    browser.get(f"{base}/staff/login")
    _phone(browser)
    _login(browser, "staff password")
    assert browser.find_elements(By.CSS_SELECTOR, "#queue a.receipt")
    _no_page_overflow(browser)
    queue = browser.find_element(By.CSS_SELECTOR, ".table-scroll")
    assert browser.execute_script("return arguments[0].scrollWidth > arguments[0].clientWidth", queue)
    for cell in browser.find_elements(By.CSS_SELECTOR, "#queue a.receipt"):
        assert _lines(browser, cell) == 1  # a receipt number on one line, the table scrolls instead
    browser.get(f"{base}/staff/item/{r['proposal']}")
    _no_page_overflow(browser)
    browser.get(f"{base}/staff/campaigns/{r['campaign']}")
    assert browser.find_element(By.ID, "total").text == "6"
    _no_page_overflow(browser)
    names = [td for td in browser.find_elements(By.CSS_SELECTOR, "#answers tbody td:nth-child(3)")]
    assert {td.text for td in names} == set(LONG_NAMES)
    assert all(_lines(browser, td) == 1 for td in names)  # not one character per line
    for chart in browser.find_elements(By.CSS_SELECTOR, "svg.chart"):
        right, width = browser.execute_script(
            "const b = arguments[0].getBoundingClientRect(); return [b.right, b.width];", chart
        )
        assert right <= 390 and 250 < width < 390  # scaled down to the screen, not cut off
    browser.get(f"{base}/staff/audit")
    _no_page_overflow(browser)
