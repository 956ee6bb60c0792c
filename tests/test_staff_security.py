"""Security of the staff pages and the web API edge (issue 14), over plain HTTP against the real aiohttp app:
the login throttle, Secure cookies, security headers, every staff route's access control, malformed requests,
folded audit rows, escaped log lines and titles, CSV numbers."""

from __future__ import annotations

import logging
import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select
from web_fixtures import serve_web_app

from bot.campaigns import service as campaigns
from bot.channels.web.app import build_web_app
from bot.channels.web.sessions import issue
from bot.exports.cells import neutralize
from bot.logsafe import clean
from bot.members.service import identity_for
from bot.staff import accounts
from bot.staff.login_throttle import LoginThrottle
from bot.staff.models import AuditEntry
from bot.storage.models import Attachment, Member, utcnow
from bot.suggestions.service import submit

MICRO = {
    "category": "城市管理",
    "fields": {"title": "<b>标题&</b>", "content": "建议在地铁站增加无障碍电梯。"},
}


@pytest.fixture
def world(bot_services, database):
    """A staff account, a member whose web chat has a session, a micro item with an attachment, a campaign."""
    with database.session() as s:
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        m = Member(name="委员1", sector="经济界", phone="1")
        s.add(m)
        s.flush()
        ident = identity_for(s, "web", "memberchat" * 2, "memberchat" * 2)
        ident.member_id = m.id
        item = submit(s, ident, "micro", MICRO)
        att = Attachment(submission_id=item.id, kind="photo", file_id="F1", file_name="a.jpg", local_path="")
        s.add(att)
        start = utcnow() - timedelta(hours=1)
        camp = campaigns.create(s, "<甲&乙>征集", start, start + timedelta(days=3), created_by="xiaoli")
        s.flush()
        world = {
            "receipt": item.receipt_no, "id": str(att.id), "campaign": str(camp.id),
            "member_token": issue(s, ident.external_id, m.id)[1], "member_id": str(m.id),
        }  # fmt: skip
    return world


@pytest.fixture
def site(bot_services, world):
    with serve_web_app(bot_services) as (base, _loop):
        yield base


def login(
    base: str, username: str = "xiaoli", password: str = "staff password", **headers
) -> requests.Response:
    """One login attempt with a fresh login form; the response (not redirected)."""
    web = requests.Session()
    web.get(f"{base}/staff/login", headers=headers)
    data = {"csrf": web.cookies.get("lvzhi_staff_login"), "username": username, "password": password}
    r = web.post(f"{base}/staff/login", data=data, headers=headers, allow_redirects=False)
    r.session = web
    return r


def staff_session(base: str) -> tuple[requests.Session, str]:
    r = login(base)
    assert r.status_code == 303
    page = r.session.get(f"{base}/staff/").text
    return r.session, re.search(r'name="csrf" value="([^"]+)"', page).group(1)


# --- 4. the login throttle and cookies


def test_login_throttle_keys_on_the_normalised_username(site, bot_services):
    bot_services.settings.trusted_proxies = "127.0.0.1"  # each attempt comes "from" its own address
    padded = ["xiaoli ", "\txiaoli", "xiaoli\u3000", "ｘｉａｏｌｉ", " xiaoli"]
    codes = [login(site, name, "wrong", **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
             for n, name in enumerate(padded)]  # fmt: skip
    assert codes == [401] * 5
    for name in ("xiaoli", "xiaoli "):  # the sixth guess at the account waits, whatever the padding
        r = login(site, name, "staff password", **{"X-Forwarded-For": "198.51.100.9"})
        assert r.status_code == 429 and re.search(r"请 \d+ 秒后再试", r.text)


def test_login_throttle_per_real_address_behind_a_trusted_proxy(site, bot_services):
    bot_services.settings.trusted_proxies = "127.0.0.1"
    for n in range(5):  # one address guesses five different accounts
        assert login(site, f"nobody{n}", "x", **{"X-Forwarded-For": "203.0.113.5"}).status_code == 401
    spoofed = {"X-Forwarded-For": "1.2.3.4, 203.0.113.5"}  # the client's own prefix is not believed
    assert login(site, "someone", "x", **spoofed).status_code == 429
    assert (
        login(site, "xiaoli", **{"X-Forwarded-For": "198.51.100.7"}).status_code == 303
    )  # others unaffected


def test_forwarded_for_is_ignored_without_a_trusted_proxy(site):
    codes = [login(site, f"nobody{n}", "x", **{"X-Forwarded-For": f"203.0.113.{n}"}).status_code
             for n in range(6)]  # fmt: skip
    assert codes == [401] * 5 + [429]  # all from 127.0.0.1, whatever the header says


def test_successful_logins_reset_and_do_not_count(site):
    codes = []
    for _ in range(3):
        codes += [login(site, "xiaoli", "wrong").status_code for _ in range(4)]
        codes.append(login(site).status_code)
    assert codes == ([401] * 4 + [303]) * 3


def test_login_delay_grows_and_an_account_lock_stays_short():
    throttle = LoginThrottle(free=5, account_max_s=60.0, address_max_s=900.0)
    for n in range(5):
        assert throttle.wait("xiaoli", f"a{n}", now=0.0) == 0.0
        throttle.failed("xiaoli", f"a{n}", now=0.0)
    assert throttle.wait("xiaoli", "elsewhere", now=0.0) == 2.0
    t = 0.0
    for _ in range(20):  # a stranger keeps failing as soon as they may, from many addresses
        t += throttle.wait("xiaoli", "b", now=t)
        throttle.failed("xiaoli", f"b{t}", now=t)
    assert throttle.wait("xiaoli", "owner", now=t) == 60.0  # the real user waits a minute at most
    for _ in range(20):
        t += throttle.wait("x", "guesser", now=t)
        throttle.failed(f"acct{t}", "guesser", now=t)
    assert throttle.wait("other", "guesser", now=t) == 900.0  # the guessing address waits 15 minutes
    throttle.succeeded("xiaoli", "owner")
    assert throttle.wait("xiaoli", "owner", now=t) == 0.0


def test_cookies_are_secure_when_the_public_url_is_https(site, bot_services):
    assert "secure" not in login(site).headers["Set-Cookie"].lower()
    bot_services.settings.public_url = "https://lvzhi.example.org"
    form = requests.get(
        f"{site}/staff/login"
    )  # a client does not send Secure cookies back over http: by hand
    assert "; secure" in form.headers["Set-Cookie"].lower()
    token = re.search(r"lvzhi_staff_login=([^;]+)", form.headers["Set-Cookie"]).group(1)
    data = {"csrf": token, "username": "xiaoli", "password": "staff password"}
    staff = requests.post(f"{site}/staff/login", data=data, cookies={"lvzhi_staff_login": token},
                          allow_redirects=False)  # fmt: skip
    assert staff.status_code == 303 and "; secure" in staff.headers["Set-Cookie"].lower()
    chat = requests.post(f"{site}/api/message", json={"text": "/help"})
    assert "; secure" in chat.headers["Set-Cookie"].lower()
    bot_services.settings.cookie_secure = False  # LVZHI_COOKIE_SECURE overrides
    assert "secure" not in login(site).headers["Set-Cookie"].lower()


# --- 5. security headers


def test_security_headers_on_every_response(site):
    staff, _ = staff_session(site)
    responses = {
        "chat page": requests.get(f"{site}/"),
        "message": requests.post(f"{site}/api/message", json={"text": "/help"}),
        "notifications": requests.get(f"{site}/api/notifications"),
        "bad body": requests.post(f"{site}/api/message", data="[]"),
        "not found": requests.get(f"{site}/nothing-here"),
        "staff login": requests.get(f"{site}/staff/login"),
        "staff redirect": requests.get(f"{site}/staff/audit", allow_redirects=False),
        "staff page": staff.get(f"{site}/staff/"),
        "static": requests.get(f"{site}/static/app.js"),
    }
    for name, r in responses.items():
        h = r.headers
        assert "default-src 'self'" in h["Content-Security-Policy"], name
        assert "frame-ancestors 'none'" in h["Content-Security-Policy"], name
        assert h["X-Content-Type-Options"] == "nosniff", name
        assert h["Referrer-Policy"] in ("same-origin", "no-referrer"), name
        if name != "static":
            assert h["Cache-Control"] == "no-store", name


# --- 6. input validation at the edge, and every route against malformed requests

BAD_BODIES = [b"[]", b"null", b"1", b'"text"', b"[" * 5000 + b"]" * 5000, b'{"text": ' * 300 + b"1" + b"}" * 300,
              b'{"text": ["a"]}', b'{"text": {"a": 1}}', b'{"text": 5}', b'{"data": true}', b'{"id": "a\\nb"}',
              b"\xff\xfe", b"{", b'{"text": "a\\u0000b"}', b'{"text": "' + b"x" * 70000 + b'"}']  # fmt: skip


def test_api_refuses_bodies_that_are_not_flat_objects(site):
    for body in BAD_BODIES:
        r = requests.post(f"{site}/api/message", data=body, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 413), (body[:30], r.status_code)
        if r.status_code == 400:
            assert re.search(r"[\u4e00-\u9fff]", r.json()["error"])
    ok = requests.post(f"{site}/api/message", json={"text": "/help", "id": "abc123", "extra": 1})
    assert ok.status_code == 200


def _routes(services) -> list[tuple[str, str]]:
    """Every (method, path template) of the web app, staff sub-app included, from the routers."""
    app = build_web_app(services)
    out = []
    for route in app.router.routes():
        info = route.resource.get_info() if route.resource is not None else {}
        if "app" in info:  # the mounted staff sub-app
            for sub in info["app"].router.routes():
                sub_info = sub.resource.get_info()
                path = sub_info.get("formatter") or sub_info.get("path") or sub_info.get("prefix")
                out.append((sub.method, path))
        else:
            out.append((route.method, info.get("formatter") or info.get("path") or info.get("prefix")))
    return [(m, p) for m, p in out if m != "HEAD"]


def _fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)(?::[^}]*)?\}", lambda m: values[m.group(1)], path)


def test_every_staff_route_refuses_strangers_and_members_and_admits_staff(site, world, bot_services):
    routes = [(m, p) for m, p in _routes(bot_services) if p.startswith("/staff/")]
    public = {"/staff/login", "/staff/static"}  # the login form and the stylesheet
    guarded = sorted([(m, p) for m, p in routes if p not in public], key=lambda r: r[1] == "/staff/logout")
    assert len(guarded) >= 14 and ("POST", "/staff/item/{receipt}") in guarded
    staff, csrf = staff_session(site)
    values = {
        "receipt": world["receipt"],
        "id": world["campaign"],
        "fmt": "csv",
        "member": world["member_id"],
    }
    member = requests.Session()
    member.cookies.set("lvzhi_web", world["member_token"])
    for method, template in guarded:
        vals = {**values, "id": world["id"]} if "attachment" in template else values
        url = site + _fill(template, vals)
        for who in (requests.Session(), member):
            r = who.request(method, url, data={"action": "accept"}, allow_redirects=False)
            if method == "GET":
                assert r.status_code == 303 and "/staff/login" in r.headers["Location"], (method, template)
            else:
                assert r.status_code == 403 and "仅限已登录的工作人员" in r.text, (method, template)
        data = {"csrf": csrf, "action": "review"} if method == "POST" else None
        r = staff.request(method, url, data=data, allow_redirects=False)
        if template == "/staff/logout":  # last: the session ends
            assert (
                r.status_code == 303 and staff.get(f"{site}/staff/", allow_redirects=False).status_code == 303
            )
            continue
        assert r.status_code not in (401, 403, 500) and "/staff/login" not in r.headers.get("Location", ""), (
            method, template, r.status_code)  # fmt: skip


BAD_PARTS = ["²", "٣", "99999999999999999999", "0", "-1", "%00", "%0Aforged", "x" * 300, "1.5", "%F0%28"]
BAD_QUERIES = ["page=²", "page=99999999999999999999", "page=-3", "page=", "page=1e9", "campaign=²",
               "campaign=99999999999999999999", "from=2026-13-45", "id=%00", "q=" + "长" * 500, "fmt=%FF"]  # fmt: skip


def test_no_route_answers_500_to_malformed_requests(site, world, bot_services):
    staff, csrf = staff_session(site)
    routes = sorted(_routes(bot_services), key=lambda r: r[1] == "/staff/logout")  # logout ends the session
    values = {
        "receipt": world["receipt"],
        "id": world["campaign"],
        "fmt": "csv",
        "member": world["member_id"],
    }
    seen = 0
    for method, template in routes:
        urls = [site + _fill(template, values)]
        for name in re.findall(r"\{(\w+)", template):
            urls += [site + _fill(template, {**values, name: bad}) for bad in BAD_PARTS]
        urls += [f"{urls[0]}?{q}" for q in BAD_QUERIES]
        for url in urls:
            for who in (requests, staff):
                if method == "POST":
                    for body, kind in [(b, "application/json") for b in BAD_BODIES[:6]] + [
                        (b"csrf=" + csrf.encode() + b"&action=%FF%FE", "application/x-www-form-urlencoded"),
                        (b"--x\r\nbroken", "multipart/form-data; boundary=x"),
                    ]:
                        r = who.post(url, data=body, headers={"Content-Type": kind}, allow_redirects=False)
                        assert r.status_code < 500, (method, url[:120], body[:20], r.status_code)
                        seen += 1
                else:
                    r = who.get(url, allow_redirects=False)
                    assert r.status_code < 500, (method, url[:120], r.status_code)
                    seen += 1
    assert seen > 500
    staff, _ = staff_session(site)
    for q in ("page=²", "page=99999999999999999999"):
        assert staff.get(f"{site}/staff/?{q}").status_code == 400
        assert staff.get(f"{site}/staff/audit?{q}").status_code == 400
    assert staff.get(f"{site}/staff/attachment/99999999999999999999").status_code == 404
    assert staff.get(f"{site}/staff/campaigns/99999999999999999999").status_code == 404


# --- 7. audit folding, log lines, titles, CSV numbers


def test_anonymous_views_write_no_row_and_anonymous_posts_fold_into_one(site, database, world):
    for _ in range(30):  # a page view without a session only goes to the login page (issue 11)
        assert requests.get(f"{site}/staff/audit", allow_redirects=False).status_code == 303
    requests.get(f"{site}/staff/", allow_redirects=False)
    requests.get(f"{site}/staff", allow_redirects=True)
    for _ in range(30):  # a POST without a session is a refused attempt: folded, one row a minute
        assert (
            requests.post(f"{site}/staff/item/{world['receipt']}", data={"action": "accept"}).status_code
            == 403
        )
    with database.session() as s:
        rows = list(s.scalars(select(AuditEntry).where(AuditEntry.actor == "web:127.0.0.1")))
    post = f"POST /staff/item/{world['receipt']}"
    assert [(r.action, r.target, r.repeats) for r in rows] == [("access_denied", post, 30)]
    staff, _ = staff_session(site)
    assert f"{post}（共 30 次）" in staff.get(f"{site}/staff/audit").text


def test_log_lines_escape_control_characters_from_requests(site, caplog):
    caplog.set_level(logging.WARNING, logger="lvzhi.security")
    forged = "x\n2026-01-01 lvzhi.security WARNING staff login ok\x1b[2J"
    codes = [login(site, forged, "guess").status_code for _ in range(6)]  # the sixth is throttled and logged
    assert codes[-1] == 429
    lines = [r.getMessage() for r in caplog.records if r.name == "lvzhi.security"]
    assert lines and all("\n" not in line and "\x1b" not in line for line in lines)
    assert any("\\x0a2026-01-01" in line for line in lines)
    assert clean("a\u2028b\\c\r") == "a\\u2028b\\\\c\\x0d"


def test_campaign_and_unknown_item_titles_escaped_once(site):
    staff, _ = staff_session(site)
    report = staff.get(f"{site}/staff/campaigns/{_campaign_id(staff, site)}").text
    assert "&lt;甲&amp;乙&gt;征集" in report and "&amp;lt;" not in report and "&amp;amp;" not in report
    unknown = staff.get(f"{site}/staff/item/%3Ci%3EX%26Y")
    title = re.search(r"<h1>(.*?)</h1>", unknown.text).group(1)
    assert unknown.status_code == 404 and "&lt;i&gt;X&amp;Y" in title
    assert "&amp;lt;" not in unknown.text


def _campaign_id(staff, site) -> str:
    return re.search(r'href="/staff/campaigns/(\d+)"', staff.get(f"{site}/staff/campaigns").text).group(1)


def test_csv_keeps_negative_numbers_and_guards_formulas():
    assert [neutralize(v) for v in ("-3.5", "-3", "-.5", ".5", -3.5)] == ["-3.5", "-3", "-.5", ".5", -3.5]
    assert [neutralize(v) for v in ("-1+2", "=SUM(A1)", "@x", "-A1", "+2", "-1e3", "-")] == [
        "'-1+2", "'=SUM(A1)", "'@x", "'-A1", "'+2", "'-1e3", "'-"]  # fmt: skip
