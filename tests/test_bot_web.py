"""The local web chat in headless Chromium: open, ask, see a cited answer, submit a micro-suggestion."""

from __future__ import annotations

import asyncio
import socket
import threading

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select

from bot.storage.models import QALog, Submission


@pytest.fixture
def web_url(bot_services):
    """The web chat served by aiohttp on a free loopback port (its own event loop in a thread)."""
    from aiohttp import web

    from bot.channels.web.app import build_web_app

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(build_web_app(bot_services))
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/"
    asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)


@pytest.fixture
def browser(tmp_path):
    """Headless Debian Chromium."""
    opts = webdriver.ChromeOptions()
    opts.binary_location = "/usr/bin/chromium"
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 f"--user-data-dir={tmp_path / 'chromium'}"):  # fmt: skip
        opts.add_argument(flag)
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=opts)
    yield driver
    driver.quit()


def _bot_bubbles(driver) -> list:
    return driver.find_elements(By.CSS_SELECTOR, ".msg.bot .bubble")


def _say(driver, text: str) -> None:
    n = len(_bot_bubbles(driver))
    box = driver.find_element(By.ID, "input")
    box.send_keys(text)
    driver.find_element(By.ID, "send").click()
    WebDriverWait(driver, 20).until(lambda d: len(_bot_bubbles(d)) > n)


def _click(driver, data: str) -> None:
    n = len(_bot_bubbles(driver))
    driver.find_elements(By.CSS_SELECTOR, f'button[data-data="{data}"]')[-1].click()
    WebDriverWait(driver, 20).until(lambda d: len(_bot_bubbles(d)) > n)


@pytest.mark.slow
def test_web_chat_asks_and_submits_micro_suggestion(web_url, browser, database):
    browser.get(web_url)
    assert browser.title == "履职助手"
    _say(browser, "提案可以反映几个问题？")
    answer = _bot_bubbles(browser)[-1]
    assert "一事一案" in answer.text and "《青川市政协提案工作条例》" in answer.text
    assert answer.find_element(By.TAG_NAME, "b").text == "出处"
    _click(browser, "q:p:1:1")
    assert (
        "第五条 提案应当坚持一事一案"
        in _bot_bubbles(browser)[-1].find_element(By.TAG_NAME, "blockquote").text
    )
    _say(browser, "<script>alert(1)</script>")  # escaped, shown as text
    assert not browser.find_elements(By.CSS_SELECTOR, ".bubble script")
    browser.find_element(By.ID, "btn-suggest").click()
    WebDriverWait(browser, 20).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, 'button[data-data="f:t:micro"]')
    )
    _click(browser, "f:t:micro")
    _click(browser, "f:c:1")
    _click(browser, "f:k")
    _say(browser, "太短")
    assert "至少需要 10 字" in _bot_bubbles(browser)[-2].text
    _say(browser, "建议在地铁站增加无障碍电梯，方便老人出行。")
    _click(browser, "f:d")
    assert "请核对您的微建议" in _bot_bubbles(browser)[-1].text
    _click(browser, "f:s")
    receipt = _bot_bubbles(browser)[-1].find_element(By.TAG_NAME, "b").text
    assert receipt.startswith("WJ-")
    with database.session() as s:
        item = s.scalars(select(Submission)).one()
        assert (item.receipt_no, item.fields["content"]) == (
            receipt,
            "建议在地铁站增加无障碍电梯，方便老人出行。",
        )
        assert item.member_id is None and s.scalars(select(QALog)).first().channel == "web"
