"""The local web chat in headless Chromium: open, ask, see a cited answer, submit a micro-suggestion."""

from __future__ import annotations

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from sqlalchemy import select
from web_fixtures import serve_web_app

from bot.storage.models import QALog, Submission


@pytest.fixture
def web_url(bot_services):
    """The web chat served by aiohttp on a free loopback port (its own event loop in a thread)."""
    with serve_web_app(bot_services) as (base, _loop):
        yield f"{base}/"


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
    answer.find_element(By.CSS_SELECTOR, 'button[data-data="q:p:1:1"]').click()  # opens under its answer
    passage = WebDriverWait(browser, 20).until(
        lambda d: answer.find_elements(By.CSS_SELECTOR, ".passage blockquote")
    )
    assert "第五条 提案应当坚持一事一案" in passage[0].text
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
