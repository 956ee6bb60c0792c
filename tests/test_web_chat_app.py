"""The member web chat as a messaging app (issue 10, item 4), in headless Chromium at phone (390×844) and desktop
(1280×800) size and over plain HTTP: attachments reach the staff item page, the conversation survives a reload,
one answer for a double send or a replayed request, retry after going offline, a growing composer with a length
limit, quick buttons by label, Chinese error pages, passages under their answer, vote state."""

from __future__ import annotations

import base64
import io
import re
import threading

import pytest
import requests
from docx import Document
from PIL import Image
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import func, select
from web_fixtures import serve_web_app

from bot.channels.web.uploads import MAX_BYTES
from bot.staff import accounts
from bot.storage.models import Attachment, QALog, Submission, WebMessage

QUESTION = "提案可以反映几个问题？"
PHONE, DESKTOP = (390, 844), (1280, 800)
SIZES = pytest.mark.parametrize("size", [PHONE, DESKTOP], ids=["phone", "desktop"])


@pytest.fixture
def site(bot_services, database):
    """The web server (chat + /staff) on a free loopback port, with one staff account."""
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
    with serve_web_app(bot_services) as (base, _loop):
        yield base


def _open(driver, url: str, size: tuple[int, int], chat: bool = True) -> None:
    """The page at exactly `size` CSS pixels (a phone is a touch device), loaded with its history drawn."""
    phone = size == PHONE
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": size[0], "height": size[1], "deviceScaleFactor": 1, "mobile": phone},
    )
    driver.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": phone, "maxTouchPoints": 5})
    driver.get(url)
    if chat:
        WebDriverWait(driver, 20).until(
            lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-ready")
        )


def _bots(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, "#log .msg.bot")


def _mine(driver) -> list[str]:
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#log .msg.me .bubble")]


def _idle(driver) -> bool:
    return driver.find_element(By.ID, "log").get_attribute("aria-busy") == "false"


def _type(driver, text: str) -> None:
    box = driver.find_element(By.ID, "input")
    box.clear()
    driver.execute_script(  # send_keys of thousands of characters is slow: set the value, then fire input
        "const b = arguments[0]; b.value = arguments[1]; b.dispatchEvent(new Event('input'));", box, text
    )


def _send(driver, text: str) -> None:
    n = len(_bots(driver))
    _type(driver, text)
    driver.find_element(By.ID, "send").click()
    WebDriverWait(driver, 30).until(lambda d: len(_bots(d)) > n and _idle(d))


def _press(driver, data: str) -> None:
    n = len(_bots(driver))
    driver.find_elements(By.CSS_SELECTOR, f'#log button[data-data="{data}"]')[-1].click()
    WebDriverWait(driver, 30).until(lambda d: len(_bots(d)) > n and _idle(d))


def _quick(driver, element_id: str) -> None:
    n = len(_bots(driver))
    driver.find_element(By.ID, element_id).click()
    WebDriverWait(driver, 30).until(lambda d: len(_bots(d)) > n and _idle(d))


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (181, 39, 45)).save(out, "PNG")
    return out.getvalue()


def _staff(site: str) -> requests.Session:
    web = requests.Session()
    web.get(f"{site}/staff/login")
    token = web.cookies.get("lvzhi_staff_login")
    ok = web.post(
        f"{site}/staff/login", data={"csrf": token, "username": "xiaoli", "password": "staff password"}
    )
    assert ok.status_code == 200 and ok.url.endswith("/staff/")
    return web


def _micro_until_files(driver) -> None:
    """Start a 微建议 by its quick button and fill it up to the attachment step."""
    _quick(driver, "btn-suggest")
    assert _mine(driver)[-1] == "📝 提交建议"  # the label, not "/suggest"
    _press(driver, "f:t:micro")
    _press(driver, "f:c:1")
    _press(driver, "f:k")
    _send(driver, "建议在地铁站增加无障碍电梯，方便老人和残疾人出行。")


@SIZES
def test_attachment_upload_reaches_the_staff_item_page(site, browser, database, tmp_path, size):
    _open(browser, f"{site}/", size)
    _micro_until_files(browser)
    photo = tmp_path / "现场照片.png"
    photo.write_bytes(_png())
    n = len(_bots(browser))
    if size == PHONE:  # the file input (a phone also offers its camera input)
        assert browser.find_element(By.ID, "camera").get_attribute("capture") == "environment"
        assert browser.find_element(By.CSS_SELECTOR, "label.camera").is_displayed()
        browser.find_element(By.ID, "file").send_keys(str(photo))
    else:  # dropped on the chat from the desktop
        assert not browser.find_element(By.CSS_SELECTOR, "label.camera").is_displayed()
        browser.execute_script(
            """const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
            const dt = new DataTransfer(); dt.items.add(new File([bytes], arguments[1], {type: "image/png"}));
            document.getElementById("chat").dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true}));""",
            base64.b64encode(photo.read_bytes()).decode(),
            photo.name,
        )
    WebDriverWait(browser, 30).until(lambda d: len(_bots(d)) > n and _idle(d))
    assert "已收到附件（共 1 个）" in _bots(browser)[-1].text
    assert _mine(browser)[-1].startswith("📎 现场照片.png")
    files = {"现场照片.png": photo.read_bytes()}
    if size == DESKTOP:  # a document pasted into the composer
        doc = tmp_path / "调研报告.docx"
        document = Document()
        document.add_paragraph("地铁站无障碍设施调研报告")
        document.save(doc)
        files[doc.name] = doc.read_bytes()
        n = len(_bots(browser))
        browser.execute_script(
            """const bytes = Uint8Array.from(atob(arguments[0]), c => c.charCodeAt(0));
            const dt = new DataTransfer(); dt.items.add(new File([bytes], arguments[1]));
            document.getElementById("input").dispatchEvent(
                new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true}));""",
            base64.b64encode(doc.read_bytes()).decode(),
            doc.name,
        )
        WebDriverWait(browser, 30).until(lambda d: len(_bots(d)) > n and _idle(d))
        assert "已收到附件（共 2 个）" in _bots(browser)[-1].text
    # refused before sending, with the reason: a type the office cannot open, a file over the limit
    exe, big = tmp_path / "setup.exe", tmp_path / "扫描件.pdf"
    exe.write_bytes(b"MZ" * 10)
    with big.open("wb") as fh:
        fh.truncate(MAX_BYTES + 1)
    toasts = len(browser.find_elements(By.CSS_SELECTOR, "#log .toast"))
    for f in (exe, big):
        browser.find_element(By.ID, "file").send_keys(str(f))
    WebDriverWait(browser, 10).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log .toast")) >= toasts + 2
    )
    notes = [t.text for t in browser.find_elements(By.CSS_SELECTOR, "#log .toast")][-2:]
    assert "不支持「setup.exe」" in notes[0] and "不能超过 10.0 MB" in notes[1] and "扫描件.pdf" in notes[1]
    _press(browser, "f:d")
    _press(browser, "f:s")
    receipt = _bots(browser)[-1].find_element(By.TAG_NAME, "b").text
    assert receipt.startswith("WJ-")
    with database.session() as s:
        item = s.scalars(select(Submission).where(Submission.receipt_no == receipt)).one()
        stored = s.scalars(
            select(Attachment).where(Attachment.submission_id == item.id).order_by(Attachment.id)
        )
        kept = [(a.id, a.file_name, a.kind) for a in stored]
    kinds = {"现场照片.png": "photo", "调研报告.docx": "document"}
    assert [(name, kind) for _id, name, kind in kept] == [(name, kinds[name]) for name in files]
    staff = _staff(site)
    page = staff.get(f"{site}/staff/item/{receipt}").text
    for att_id, name, _kind in kept:
        assert f'href="/staff/attachment/{att_id}">{name}</a>' in page
        got = staff.get(f"{site}/staff/attachment/{att_id}")
        assert got.status_code == 200 and got.content == files[name]
        assert "attachment" in got.headers["Content-Disposition"]


def test_upload_limits_are_checked_by_the_server_too(site, database):
    chat = requests.Session()
    chat.post(f"{site}/api/message", json={"text": "/help", "id": "h1"})
    big = chat.post(
        f"{site}/api/upload", data={"id": "u1"}, files={"file": ("大.pdf", b"%" * (MAX_BYTES + 1))}
    )
    assert big.status_code == 413 and "不能超过 10.0 MB" in big.json()["error"]
    bad = chat.post(f"{site}/api/upload", data={"id": "u2"}, files={"file": ("a.exe", b"MZ")})
    assert bad.status_code == 400 and "不支持「.exe」" in bad.json()["error"]
    empty = chat.post(f"{site}/api/upload", data={"id": "u3"}, files={"file": ("空.pdf", b"")})
    assert empty.status_code == 400 and "空的" in empty.json()["error"]
    assert (
        chat.post(f"{site}/api/upload", data=b"x", headers={"Content-Type": "text/plain"}).status_code == 400
    )
    with database.session() as s:  # nothing refused was recorded as a message
        assert s.scalar(select(func.count()).select_from(WebMessage).where(WebMessage.html.like("%📎%"))) == 0


@SIZES
def test_conversation_passage_votes_and_history_after_reload(site, browser, database, size):
    _open(browser, f"{site}/", size)
    browser.execute_script(  # record aria-busy and the send button's state at every change
        """window.__busy = []; const log = document.getElementById("log");
        new MutationObserver(() => window.__busy.push([log.getAttribute("aria-busy"),
            document.getElementById("send").disabled])).observe(log, {attributes: true,
            attributeFilter: ["aria-busy"]});"""
    )
    _send(browser, QUESTION)
    assert browser.execute_script("return window.__busy") == [["true", True], ["false", False]]
    answer = _bots(browser)[-1]
    assert "一事一案" in answer.text and "《青川市政协提案工作条例》" in answer.text
    # the passage opens under its answer, and the whole section below it
    _send(browser, "政协委员可以通过哪些方式履职？")
    n = len(_bots(browser))
    answer.find_element(By.CSS_SELECTOR, 'button[data-data^="q:p:"]').click()
    quote = WebDriverWait(browser, 20).until(
        lambda d: answer.find_elements(By.CSS_SELECTOR, ".passage blockquote")
    )
    assert "第五条 提案应当坚持一事一案" in quote[0].text and len(_bots(browser)) == n
    answer.find_element(By.CSS_SELECTOR, ".passage button.whole").click()
    section = WebDriverWait(browser, 20).until(
        lambda d: answer.find_elements(By.CSS_SELECTOR, ".passage .section")
    )
    assert "全节原文" in section[0].text and "第五条 提案应当坚持一事一案" in section[0].text
    assert len(section[0].find_elements(By.TAG_NAME, "blockquote")) > 1  # more than the one passage
    # votes: the chosen one is shown; the last vote counts
    up = answer.find_element(By.CSS_SELECTOR, 'button[data-data$=":1"][data-data^="q:v:"]')
    down = answer.find_element(By.CSS_SELECTOR, 'button[data-data$=":-1"]')
    up.click()
    WebDriverWait(browser, 20).until(lambda d: up.get_attribute("aria-pressed") == "true" and _idle(d))
    down.click()
    WebDriverWait(browser, 20).until(lambda d: down.get_attribute("aria-pressed") == "true" and _idle(d))
    assert up.get_attribute("aria-pressed") == "false"
    with database.session() as s:
        assert s.scalars(select(QALog.vote).where(QALog.question == QUESTION)).one() == -1
    # a reload shows the conversation again, with buttons that still work and the vote as chosen
    before = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#log .msg .bubble")]
    _open(browser, f"{site}/", size)
    WebDriverWait(browser, 20).until(lambda d: len(_bots(d)) >= 3)
    after = browser.find_elements(By.CSS_SELECTOR, "#log .msg .bubble")
    assert [_mine(browser)[0], _mine(browser)[1]] == [QUESTION, "政协委员可以通过哪些方式履职？"]
    assert [e.text for e in after[1:]][:4] == [
        re.sub(r"\n📄 \[1\].*", "", t, flags=re.S) for t in before[1:5]
    ]
    answer = _bots(browser)[1]
    assert (
        answer.find_element(By.CSS_SELECTOR, 'button[data-data$=":-1"]').get_attribute("aria-pressed")
        == "true"
    )
    answer.find_element(By.CSS_SELECTOR, 'button[data-data^="q:p:"]').click()
    WebDriverWait(browser, 20).until(lambda d: answer.find_elements(By.CSS_SELECTOR, ".passage blockquote"))


def test_history_is_paged_newest_last_with_an_earlier_loader(site, browser, database):
    _open(browser, f"{site}/", DESKTOP)
    token = browser.get_cookie("lvzhi_web")
    assert token is None  # no session before the first message
    _send(browser, "/help")
    chat = requests.Session()
    chat.cookies.set("lvzhi_web", browser.get_cookie("lvzhi_web")["value"])
    for i in range(20):
        r = chat.post(f"{site}/api/message", json={"text": "/mine", "id": f"k{i}", "label": f"第{i}次"})
        assert r.status_code == 200
    first = chat.get(f"{site}/api/history").json()
    assert len(first["messages"]) == 30 and first["more"] is True
    assert first["messages"][-1]["role"] == "bot" and first["messages"][-2]["html"] == "第19次"
    rest = chat.get(f"{site}/api/history", params={"before": first["messages"][0]["id"]}).json()
    assert rest["more"] is False and len(rest["messages"]) == 42 - 30
    assert [m["id"] for m in rest["messages"] + first["messages"]] == sorted(
        m["id"] for m in rest["messages"] + first["messages"]
    )
    _open(browser, f"{site}/", DESKTOP)
    WebDriverWait(browser, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log .msg[data-id]")) == 30
    )
    assert _mine(browser)[-1] == "第19次"
    browser.find_element(By.ID, "earlier").click()
    WebDriverWait(browser, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log .msg[data-id]")) == 42
    )
    assert (
        _mine(browser)[0] == "/help"
        and _mine(browser)[-1] == "第19次"
        and not browser.find_elements(By.ID, "earlier")
    )
    assert requests.get(f"{site}/api/history").json() == {"messages": [], "more": False}  # another browser


@SIZES
def test_double_send_gives_one_answer(site, browser, database, size):
    _open(browser, f"{site}/", size)
    _type(browser, QUESTION)
    ActionChains(browser).double_click(browser.find_element(By.ID, "send")).perform()
    WebDriverWait(browser, 30).until(lambda d: _bots(d) and _idle(d))
    assert _mine(browser) == [QUESTION] and len(_bots(browser)) == 2  # the welcome and one answer
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QALog)) == 1


def test_replayed_request_gets_the_first_answer(site, database):
    chat = requests.Session()
    chat.post(f"{site}/api/message", json={"text": "/help", "id": "first"})
    results: list[dict] = []

    def post() -> None:
        results.append(chat.post(f"{site}/api/message", json={"text": QUESTION, "id": "same-key-1"}).json())

    threads = [threading.Thread(target=post) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    again = chat.post(f"{site}/api/message", json={"text": QUESTION, "id": "same-key-1"}).json()
    assert results[0]["replies"] == results[1]["replies"] == again["replies"]
    assert "一事一案" in again["replies"][0]["html"]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QALog)) == 1
        shown = s.scalar(
            select(func.count()).select_from(WebMessage).where(WebMessage.update_key == "same-key-1")
        )
        assert shown == 2  # the question once, the answer once


@SIZES
def test_offline_keeps_the_text_and_offers_retry(site, browser, database, size):
    _open(browser, f"{site}/", size)
    browser.execute_cdp_cmd("Network.enable", {})
    conditions = {"latency": 0, "downloadThroughput": -1, "uploadThroughput": -1}
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": True, **conditions})
    _type(browser, QUESTION)
    browser.find_element(By.ID, "send").click()
    retry = WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#log .msg.me .retry")
    )
    assert retry[0].text == "重试" and "failed" in browser.find_element(
        By.CSS_SELECTOR, "#log .msg.me"
    ).get_attribute("class")
    assert browser.find_element(By.ID, "input").get_attribute("value") == QUESTION  # the text is kept
    assert len(_bots(browser)) == 1 and _idle(browser)
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, **conditions})
    retry[0].click()
    WebDriverWait(browser, 30).until(lambda d: len(_bots(d)) == 2 and _idle(d))
    assert "一事一案" in _bots(browser)[-1].text and not browser.find_elements(By.CSS_SELECTOR, "#log .retry")
    assert browser.find_element(By.ID, "input").get_attribute("value") == ""
    assert _mine(browser) == [QUESTION]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QALog)) == 1


def test_composer_grows_on_a_phone_and_counts_to_the_limit(site, browser, database):
    _open(browser, f"{site}/", PHONE)
    box = browser.find_element(By.ID, "input")
    placeholder = box.get_attribute("placeholder")
    assert "回车" not in placeholder and browser.execute_script(  # the placeholder fits the box
        """const b = arguments[0], c = document.createElement("canvas").getContext("2d");
        c.font = getComputedStyle(b).font; return c.measureText(b.placeholder).width < b.clientWidth - 20;""",
        box,
    )
    one_line = box.size["height"]
    box.send_keys("提案理由：")
    for _ in range(4):
        box.send_keys(Keys.ENTER, "老旧小区居民上下楼困难。")  # Enter is a new line on a phone, not a send
    assert _mine(browser) == [] and box.size["height"] > one_line * 2
    assert browser.find_element(By.ID, "send").is_displayed()
    text = "老" * 10_000
    _type(browser, text)
    assert browser.find_element(By.ID, "counter").text == "10000/3000"
    assert "over" in browser.find_element(By.ID, "counter").get_attribute("class")
    assert box.size["height"] <= 844 * 0.4 + 1
    browser.find_element(By.ID, "send").click()
    toast = WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#log .toast"))
    assert "已超过 3000 字上限（当前 10000 字）" in toast[-1].text
    assert box.get_attribute("value") == text and _mine(browser) == []  # kept, not sent


def test_long_texts_report_their_real_length(site, database):
    chat = requests.Session()
    long = chat.post(f"{site}/api/message", json={"text": "老" * 10_000, "id": "l1"}).json()["replies"]
    assert "这条消息有 10000 字，超过了 3000 字的上限" in long[0]["html"]
    question = chat.post(f"{site}/api/message", json={"text": "问" * 2000, "id": "l2"}).json()["replies"]
    assert "您的问题有 2000 字，超过了 1000 字的上限" in question[0]["html"]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QALog)) == 0  # not answered from a cut question
    for i, step in enumerate(["/suggest", "f:t:micro", "f:c:1", "f:k"]):
        kind, key = ("message", "text") if step.startswith("/") else ("press", "data")
        chat.post(f"{site}/api/{kind}", json={key: step, "id": f"f{i}"})
    field = chat.post(f"{site}/api/message", json={"text": "建" * 2999, "id": "l3"}).json()["replies"]
    assert "最多 500 字，您输入了 2999 字" in field[0]["html"]


@SIZES
def test_quick_buttons_show_labels_and_campaign_link(site, browser, database, size):
    from datetime import timedelta

    from bot.campaigns.models import Campaign
    from bot.storage.models import utcnow

    with database.session() as s:
        c = Campaign(title="我为青川发展献一策", description="欢迎建言", audience={"kind": "public"},
                     starts_at=utcnow() - timedelta(days=1), ends_at=utcnow() + timedelta(days=5), status="open")  # fmt: skip
        s.add(c)
        s.flush()
        cid = c.id
    _open(browser, f"{site}/?start=cmp-{cid}", size)
    WebDriverWait(browser, 30).until(lambda d: len(_bots(d)) >= 2 and _idle(d))
    assert _mine(browser) == ["📣 参与征集活动"] and "征集意见的类别" in _bots(browser)[-1].text
    assert "start=" not in browser.current_url
    _quick(browser, "btn-mine")
    _quick(browser, "btn-help")
    assert _mine(browser)[1:] == ["📂 我的事项", "❔ 帮助"]
    assert not [t for t in _mine(browser) if t.startswith("/")]


@SIZES
def test_error_pages_are_chinese_with_a_link_back(site, browser, size):
    _open(browser, f"{site}/nope", size, chat=False)
    assert browser.title == "页面不存在 · 履职助手"
    assert "Not Found" not in browser.page_source and "页面不存在或已被移除" in browser.page_source
    browser.find_element(By.ID, "back-home").click()
    WebDriverWait(browser, 20).until(lambda d: d.find_elements(By.ID, "input"))
    r = requests.get(f"{site}/nope")
    assert r.status_code == 404 and "text/html" in r.headers["Content-Type"]
    assert r.headers["Content-Security-Policy"].startswith("default-src 'self'")
    api = requests.get(f"{site}/api/nope")
    assert api.status_code == 404 and "页面不存在" in api.json()["error"]
    wrong = requests.delete(f"{site}/api/message")
    assert (
        wrong.status_code == 405 and "不支持这种访问方式" in wrong.text and "POST" in wrong.headers["Allow"]
    )


def test_server_errors_are_chinese(site, monkeypatch):
    import bot.channels.web.app as web_app
    from bot.channels.web import history

    def broken(*_args, **_kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(history, "page", broken)
    chat = requests.Session()
    chat.post(f"{site}/api/message", json={"text": "/help", "id": "e1"})
    api = chat.get(f"{site}/api/history")
    assert api.status_code == 500 and api.json()["error"].startswith("服务器内部错误")
    monkeypatch.setattr(web_app, "_index_html", broken)
    r = requests.get(f"{site}/")
    assert (
        r.status_code == 500 and "<title>服务器出错了 · 履职助手</title>" in r.text and 'href="/"' in r.text
    )
    assert "disk full" not in r.text


def test_receipt_and_reply_with_rating_buttons_come_back_after_reload(site, browser, database):
    from bot.staff import review
    from bot.staff.accounts import Staff
    from bot.staff.models import SubmissionReply

    _open(browser, f"{site}/", PHONE)
    _micro_until_files(browser)
    _press(browser, "f:d")
    _press(browser, "f:s")
    receipt = _bots(browser)[-1].find_element(By.TAG_NAME, "b").text
    staff = Staff("li", "staff", channel="cli")
    with database.session() as s:
        review.perform(s, staff, receipt, "review")
        review.perform(s, staff, receipt, "reply", review.ActionInput(reply="已转交市地铁集团研究。"))
    cookie = {"lvzhi_web": browser.get_cookie("lvzhi_web")["value"]}
    notes = requests.get(f"{site}/api/notifications", cookies=cookie).json()["replies"]  # the page's poll
    assert any("已转交市地铁集团研究" in n["html"] for n in notes)
    _open(
        browser, f"{site}/", PHONE
    )  # reload: the receipt and the reply with its rating buttons are shown again
    WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#log button[data-data^="rt:"]')
    )
    texts = [b.text for b in _bots(browser)]
    assert any(receipt in t for t in texts) and any("已转交市地铁集团研究" in t for t in texts)
    assert _mine(browser)[0] == "📝 提交建议"
    rating = browser.find_elements(By.CSS_SELECTOR, '#log button[data-data^="rt:"]')[0]
    assert rating.text == "满意"
    n = len(browser.find_elements(By.CSS_SELECTOR, "#log .toast, #log .msg"))
    rating.click()  # still valid after the reload
    WebDriverWait(browser, 20).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, "#log .toast, #log .msg")) > n and _idle(d)
    )
    with database.session() as s:
        assert s.scalars(select(SubmissionReply.rating)).one() == "满意"


def test_enter_sends_on_a_desktop_keyboard(site, browser, database):
    _open(browser, f"{site}/", DESKTOP)
    box = browser.find_element(By.ID, "input")
    box.send_keys("第一行", Keys.SHIFT, Keys.ENTER, Keys.SHIFT, "第二行")  # Shift+Enter: a new line
    assert box.get_attribute("value") == "第一行\n第二行" and _mine(browser) == []
    _type(browser, QUESTION)
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: len(_bots(d)) == 2 and _idle(d))
    assert _mine(browser) == [QUESTION] and box.get_attribute("value") == ""


def test_whole_section_heading_follows_the_member_script(site, database):
    chat = requests.Session()
    first = chat.post(f"{site}/api/message", json={"text": "請問委員提交提案有什麼要求？", "id": "t1"}).json()
    assert first["replies"]
    # 「一事一案」 is written the same in both scripts: the member's remembered script (Traditional) decides
    replies = chat.post(f"{site}/api/message", json={"text": "一事一案", "id": "t2"}).json()["replies"]
    qa_id = next(r["meta"]["qa_id"] for r in replies if (r.get("meta") or {}).get("qa_id"))
    body = chat.get(f"{site}/api/section", params={"qa": qa_id, "n": 1}).json()
    assert "全節原文" in body["html"] and "全节原文" not in body["html"]
    assert "第五条 提案应当坚持一事一案" in body["html"]  # the document's own characters
    stranger = requests.get(f"{site}/api/section", params={"qa": qa_id, "n": 1})
    assert stranger.status_code == 404 and "不属于当前对话" in stranger.json()["error"]
    beyond = chat.get(f"{site}/api/section", params={"qa": qa_id, "n": 9})
    assert beyond.status_code == 404 and "已不在知识库中" in beyond.json()["error"]


def test_the_pages_quick_buttons_are_the_chat_menu():
    """The texts send members to the menu's buttons by name (「点“提交建议”」「点“📂 我的事项”」): the web page's quick
    buttons carry the same labels and actions as the chat menu (bot.chat.menu.menu_buttons)."""
    from bot.channels.web.app import STATIC
    from bot.chat.menu import menu_buttons

    page = (STATIC / "index.html").read_text(encoding="utf-8")
    quick = set(
        re.findall(r'<button type="button" data-data="([^"]+)" id="btn-[a-z]+">([^<]+)</button>', page)
    )
    menu = {(b.data, b.label) for row in menu_buttons() for b in row}
    assert menu and menu <= quick
