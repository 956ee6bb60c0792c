"""Fixtures for the questions log and official answers: services whose answerer consults the test's database."""

from __future__ import annotations

import re

import pytest
import requests


@pytest.fixture
def desk(bot_services, real_answerer, database):
    """Services for one test: the real extractive answerer over the sample index, behind the official answers of
    this test's database (SQLite or PostgreSQL)."""
    from bot.answering.official import OfficialAnswers, OfficialFirst

    extractive = real_answerer.inner
    official = OfficialAnswers(lambda: database, lambda: extractive.knowledge)
    bot_services.__dict__["knowledge"] = extractive.knowledge
    bot_services.__dict__["official"] = official
    bot_services.__dict__["answerer"] = OfficialFirst(extractive, official)
    return bot_services


def staff_login(site: str, username: str = "xiaoli", password: str = "staff password") -> requests.Session:
    """A requests session logged in to the staff pages."""
    web = requests.Session()
    web.get(f"{site}/staff/login")
    token = web.cookies.get("lvzhi_staff_login")
    ok = web.post(f"{site}/staff/login", data={"csrf": token, "username": username, "password": password})
    assert ok.status_code == 200, ok.text
    return web


def csrf_of(page_html: str) -> str:
    """The CSRF token of a staff page's forms."""
    return re.search(r'name="csrf" value="([^"]+)"', page_html).group(1)
