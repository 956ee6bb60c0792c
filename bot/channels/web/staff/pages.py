"""The /staff web area: login, logout, the session guard (`staff_required`) and the page layout.

Other features add staff-only pages with `staff_required` (e.g. `app.router.add_get("/staff/x", staff_required(h))`)
or by adding routes to the sub-app that `bot.channels.web.staff.site.add_staff_pages` mounts; `page()` wraps a body
in the layout. This module holds only the shared pieces: the area modules import it, never the other way round.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import math
import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.channels.web.client import client_address
from bot.channels.web.context import secure_cookies, services_of
from bot.channels.web.edge import form_data
from bot.prompts import render
from bot.staff import audit, sessions
from bot.staff.accounts import Staff, authenticate, normalise_username
from bot.staff.login_throttle import LoginThrottle
from bot.staff.texts import t

COOKIE = "lvzhi_staff"
LOGIN_COOKIE = "lvzhi_staff_login"
LOGIN_LIMIT = web.AppKey("staff_login_limit", LoginThrottle)  # failed logins per username and per address
STATIC = Path(__file__).resolve().parent / "static"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'self'; form-action 'self'; frame-ancestors 'none'",
    "Referrer-Policy": "same-origin",
}


def _db_call(request: web.Request, fn, *args):
    """Run fn(session, *args) in one transaction off the event loop."""

    def run():
        with services_of(request).db.session() as s:
            return fn(s, *args)

    return asyncio.to_thread(run)


def web_page(name: str, /, **variables: object) -> str:
    """Render template web/<name> of prompts/staff.toml (variables escaped unless their name ends in _html)."""
    from html import escape

    safe = {k: (str(v) if k.endswith("_html") else escape(str(v), quote=True)) for k, v in variables.items()}
    return render(f"staff/web/{name}.html", **safe)


def page(
    request: web.Request, title: str, body_html: str, status: int = 200, flash_html: str = ""
) -> web.Response:
    """A staff page in the common layout (navigation and logout form when logged in).

    `title` is safe HTML (a t() result or text escaped by the caller): it is put in once, never escaped again."""
    staff: Staff | None = request.get("staff")
    nav = web_page("nav", who=staff.display_name or staff.username, csrf=request["csrf"]) if staff else ""
    text = web_page("layout", title_html=title, nav_html=nav, flash_html=flash_html, body_html=body_html)
    return web.Response(text=text, content_type="text/html", status=status, headers=HEADERS)


def _client(request: web.Request) -> str:
    return f"web:{client_address(request, services_of(request).settings.trusted_proxies)}"


def _secure(request: web.Request) -> bool:
    return secure_cookies(services_of(request).settings)


def staff_required(handler: Handler) -> Handler:
    """Let only a logged-in staff member through (GET without a session: to the login page; POST: CSRF checked).

    Sets request["staff"] (a Staff) and request["csrf"]; refused POSTs (no session, forged CSRF) are written to the
    audit log, a GET without a session only goes to the login page."""

    @functools.wraps(handler)
    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(COOKIE, "")
        found = await _db_call(request, sessions.resolve, token) if token else None
        if found is None:
            what = f"{request.method} {request.path_qs}"
            if request.method != "GET":  # a page view without a session is not an attempt: no audit row
                await _db_call(request, audit.fold, _client(request), "web", "access_denied", what)
            if request.method == "GET":
                raise web.HTTPSeeOther(
                    f"/staff/login?next={quote(request.path_qs, safe='')}", headers=HEADERS
                )
            return page(request, t("web_denied_title"), t("web_denied"), status=403)
        staff, csrf = found
        request["staff"], request["csrf"] = staff, csrf
        if request.method == "POST":
            form = await form_data(request)
            if not hmac.compare_digest(str(form.get("csrf", "")), csrf):
                await _db_call(
                    request, audit.denied, staff.username, "web", f"CSRF {request.method} {request.path}"
                )
                return page(request, t("web_denied_title"), t("web_csrf"), status=403)
            request["form"] = form
        return await handler(request)

    return guarded


def _safe_next(value: str) -> str:
    return value if value.startswith("/staff/") and not value.startswith("//") else "/staff/"


async def login_form(
    request: web.Request, error: str = "", status: int = 200, username: str = "", next_url: str = ""
) -> web.Response:
    """The login page (sets the login form's double-submit cookie)."""
    token = secrets.token_urlsafe(24)
    next_url = _safe_next(next_url or request.query.get("next", "/staff/"))
    body = web_page("login", csrf=token, next=next_url, username=username)
    flash = web_page("flash_error", text=error) if error else ""
    resp = page(request, t("web_login_title"), body, status, flash)
    resp.set_cookie(
        LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        path="/staff/",
        max_age=3600,
        secure=_secure(request),
    )
    return resp


async def login(request: web.Request) -> web.StreamResponse:
    """Check the password; a new server-side session in an HttpOnly, SameSite=Strict cookie."""
    form = await form_data(request)
    expected = request.cookies.get(LOGIN_COOKIE, "")
    if not expected or not hmac.compare_digest(str(form.get("csrf", "")), expected):
        return await login_form(request, t("web_login_expired"), 403, next_url=str(form.get("next", "")))
    typed, password = str(form.get("username", ""))[:200], str(form.get("password", ""))[:200]
    username = normalise_username(typed)  # the name the check looks up, and the throttle's key
    hours = services_of(request).settings.staff_session_hours
    client = _client(request)
    throttle = request.app[LOGIN_LIMIT]
    wait = throttle.wait(username, client)
    if wait > 0:  # password guessing: refused without looking at the password
        await _db_call(request, audit.fold, client, "web", "login_throttled", f"staff:{username}")
        message = t("web_login_throttled", seconds=max(1, math.ceil(wait)))
        return await login_form(request, message, 429, username, str(form.get("next", "")))

    def check(s):
        account = authenticate(s, username, password)
        if account is None:
            audit.record(s, client, "login_failed", f"staff:{username}", channel="web")
            return None
        audit.record(s, account.username, "login", f"staff:{account.username}", channel="web")
        return sessions.start(s, account, hours)

    started = await _db_call(request, check)
    if started is None:
        throttle.failed(username, client)
        return await login_form(request, t("web_login_failed"), 401, username, str(form.get("next", "")))
    throttle.succeeded(username, client)
    resp = web.HTTPSeeOther(_safe_next(str(form.get("next", "/staff/"))), headers=HEADERS)
    resp.set_cookie(
        COOKIE, started[0], httponly=True, samesite="Strict", path="/staff/", max_age=int(hours * 3600),
        secure=_secure(request),
    )  # fmt: skip
    resp.del_cookie(LOGIN_COOKIE, path="/staff/")
    raise resp


@staff_required
async def logout(request: web.Request) -> web.StreamResponse:
    """End the session."""
    staff = request["staff"]

    def end(s):
        sessions.end(s, request.cookies.get(COOKIE, ""))
        audit.record(s, staff.username, "logout", f"staff:{staff.username}", channel="web")

    await _db_call(request, end)
    resp = web.HTTPSeeOther("/staff/login", headers=HEADERS)
    resp.del_cookie(COOKIE, path="/staff/")
    raise resp
