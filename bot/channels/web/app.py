"""aiohttp app: the chat page and a JSON API (/api/message, /api/press, /api/notifications).

Each browser's chat is opened by a server-made session token in the `lvzhi_web` cookie (bot.channels.web.sessions);
every response carries the security headers (`security_headers` middleware); bodies are checked at the edge."""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import timedelta
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.channels.flood import FloodLimiter
from bot.channels.web import sessions
from bot.channels.web.client import client_address
from bot.channels.web.context import SERVICES, secure_cookies
from bot.channels.web.edge import bad_request, json_object
from bot.chat.texts import say
from bot.chat.types import Button, ChatRef, Event, Reply
from bot.logsafe import clean
from bot.storage.models import Notification, utcnow

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "lvzhi_web"
FLOOD = web.AppKey("flood", FloodLimiter)
FLOOD_ADDR = web.AppKey("flood_addr", FloodLimiter)
END_SESSIONS = "/logout"  # the chat command that ends every web session of the member
UPDATE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
NOTES_PER_POLL = 20
CSP = "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


@web.middleware
async def security_headers(request: web.Request, handler) -> web.StreamResponse:
    """Add the CSP, frame, sniffing and referrer headers to every response, and `Cache-Control: no-store` to all
    but static files; an unexpected error becomes a Chinese 500 page (logged once, without the request's text)."""
    try:
        if _has_nul(request):  # no database text may hold NUL (PostgreSQL refuses it): refused at the door
            raise web.HTTPBadRequest(text="请求中含有不允许的控制字符。")
        resp = await handler(request)
    except web.HTTPException as exc:
        _secure(request, exc.headers)
        raise
    except Exception:
        log.exception("unhandled error on %s %s", request.method, clean(request.path, 120))
        resp = web.Response(status=500, text="服务器内部错误，请稍后再试。", content_type="text/plain")
    if not resp.prepared:
        _secure(request, resp.headers)
    return resp


def _has_nul(request: web.Request) -> bool:
    return "\x00" in request.path or any("\x00" in k or "\x00" in v for k, v in request.query.items())


def _secure(request: web.Request, headers) -> None:
    for name, value in SECURITY_HEADERS.items():
        headers.setdefault(name, value)
    static = request.path.startswith(("/static/", "/staff/static/"))
    headers.setdefault("Cache-Control", "public, max-age=3600" if static else "no-store")


def _reply_json(r: Reply) -> dict:
    rows = [[{"label": b.label, "data": b.data} for b in row] for row in r.buttons]
    return {"html": r.html, "buttons": rows, "toast": r.toast, "meta": r.meta}


def _db(request: web.Request):
    return request.app[SERVICES].db


def _settings(request: web.Request):
    return request.app[SERVICES].settings


def _idle(request: web.Request) -> timedelta:
    return timedelta(hours=_settings(request).web_session_idle_hours)


def _open(request: web.Request, create: bool = True):
    """The session of this browser (a new one for an unknown cookie when `create`), off the event loop."""

    def run():
        with _db(request).session() as s:
            return sessions.open_session(s, request.cookies.get(COOKIE, ""), _idle(request), create)

    return asyncio.to_thread(run)


def _set_cookie(request: web.Request, resp: web.StreamResponse, token: str | None) -> None:
    if token:
        resp.set_cookie(
            COOKIE, token, httponly=True, samesite="Strict", path="/", secure=secure_cookies(_settings(request)),
            max_age=int(_idle(request).total_seconds()),
        )  # fmt: skip


async def _handle(request: web.Request, kind: str) -> web.Response:
    body = await json_object(request, {"text": (str,), "data": (str,), "id": (str, int)})
    value = str(body.get("text") or body.get("data") or "")[:4000]
    key = str(body.get("id") or "") or None
    if key is not None and not UPDATE_KEY.match(key):
        raise bad_request("消息编号格式不正确")
    addr = client_address(request, _settings(request).trusted_proxies)
    if request.app[FLOOD_ADDR].check(addr) != "ok":  # before any row is written: a cookie is free
        return web.json_response({"replies": [_reply_json(Reply(say("flood")))]}, status=429)
    opened = await _open(request)
    token = opened.token
    ref = ChatRef("web", opened.external_id, opened.external_id, "网页用户")
    if request.app[FLOOD].check(ref.user_id) != "ok":
        replies = [Reply(say("flood"))]
    elif kind == "text" and value.strip().lower() == END_SESSIONS:
        replies, token = await _end_sessions(request, opened.session_id)
    else:
        if kind == "text" and value.startswith("/"):
            name, _, arg = value[1:].partition(" ")
            event = Event("command", name.strip().lower(), arg.strip(), update_key=key)
        else:
            event = Event(kind, value, update_key=key)
        try:
            replies = await asyncio.to_thread(request.app[SERVICES].assistant.handle, ref, event)
        except Exception:
            log.exception("web chat error (chat %s, %s %s)", ref.chat_id[:8], kind, clean(value, 80))
            replies = [Reply(say("apology"))]
        if event.kind == "command":  # /start CODE may have bound the chat: a new token for the member
            rotated = await asyncio.to_thread(_refresh, request, opened.session_id)
            token = rotated.token if rotated else token
    resp = web.json_response({"replies": [_reply_json(r) for r in replies]})
    _set_cookie(request, resp, token)
    return resp


def _refresh(request: web.Request, session_id: int):
    with _db(request).session() as s:
        return sessions.refresh(s, session_id)


async def _end_sessions(request: web.Request, session_id: int) -> tuple[list[Reply], str | None]:
    def run():
        with _db(request).session() as s:
            ended = sessions.end_all(s, session_id)
            _row, token = sessions.issue(s, None, None)
            return ended, token

    ended, token = await asyncio.to_thread(run)
    return [Reply(say("web_sessions_ended", count=ended))], token


async def message(request: web.Request) -> web.Response:
    """A typed message (a question, a flow field or a /command); `/logout` ends the member's web sessions."""
    return await _handle(request, "text")


async def press(request: web.Request) -> web.Response:
    """A pressed button."""
    return await _handle(request, "press")


def take_notes(s, chat_id: str, limit: int = NOTES_PER_POLL) -> list[tuple[str, list[list[Button]]]]:
    """This web chat's undelivered notifications (oldest first, at most `limit`), marked delivered: [(html, rows)].

    Reads only the caller's chat (index ix_notifications_channel_chat_sent), so other chats cannot crowd it out."""
    rows = list(
        s.scalars(
            select(Notification)
            .where(Notification.channel == "web", Notification.chat_id == chat_id)
            .where(Notification.sent_at.is_(None), Notification.failed_at.is_(None))
            .order_by(Notification.id)
            .limit(limit)
            .with_for_update(skip_locked=True)  # two replicas polling for one chat never both take a row
        )
    )
    now = utcnow()
    out = []
    for n in rows:
        n.sent_at, n.attempts = now, n.attempts + 1
        buttons = [[Button(b["label"], b["data"]) for b in row] for row in (n.buttons or [])]
        out.append((n.html, buttons))
    return out


async def notifications(request: web.Request) -> web.Response:
    """Status-change messages waiting for this browser's chat (nothing, and no new session, without one)."""

    def run():
        with _db(request).session() as s:
            opened = sessions.open_session(s, request.cookies.get(COOKIE, ""), _idle(request), create=False)
            return (opened, take_notes(s, opened.external_id)) if opened else (None, [])

    opened, notes = await asyncio.to_thread(run)
    resp = web.json_response({"replies": [_reply_json(Reply(h, rows)) for h, rows in notes]})
    _set_cookie(request, resp, opened.token if opened else None)
    return resp


async def index(request: web.Request) -> web.FileResponse:
    """The chat page."""
    return web.FileResponse(STATIC / "index.html")


def build_web_app(services) -> web.Application:
    """The web chat application over the shared services."""
    settings = services.settings
    app = web.Application(client_max_size=64 * 1024, middlewares=[security_headers])
    app[SERVICES] = services
    app[FLOOD] = services.flood_limiter("web:", settings.flood_max_events)  # shared by replicas on PostgreSQL
    app[FLOOD_ADDR] = services.flood_limiter("addr:", settings.flood_max_per_address)
    app.router.add_get("/", index)
    app.router.add_post("/api/message", message)
    app.router.add_post("/api/press", press)
    app.router.add_get("/api/notifications", notifications)
    app.router.add_static("/static/", STATIC)
    from bot.channels.web.prune import prune_job
    from bot.channels.web.staff.pages import add_staff_pages

    add_staff_pages(app)  # /staff/…: login, review queue, items, audit log, overdue, regulations
    app.cleanup_ctx.append(prune_job)
    return app
