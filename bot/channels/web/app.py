"""aiohttp app: the chat page and a JSON API (/api/message, /api/press, /api/notifications)."""

from __future__ import annotations

import asyncio
import logging
import secrets
from pathlib import Path

from aiohttp import web

from bot.channels.flood import FloodLimiter
from bot.channels.telegram.notifier import buttons_of, mark, pending
from bot.chat.texts import say
from bot.chat.types import ChatRef, Event, Reply

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "lvzhi_web"
SERVICES = web.AppKey("services", object)
FLOOD = web.AppKey("flood", FloodLimiter)


def _reply_json(r: Reply) -> dict:
    rows = [[{"label": b.label, "data": b.data} for b in row] for row in r.buttons]
    return {"html": r.html, "buttons": rows, "toast": r.toast, "meta": r.meta}


def _ref(request: web.Request) -> tuple[ChatRef, str | None]:
    sid = request.cookies.get(COOKIE, "")
    new = None
    if not (16 <= len(sid) <= 64 and sid.isalnum()):
        sid = new = secrets.token_hex(16)
    return ChatRef("web", sid, sid, "网页用户"), new


async def _handle(request: web.Request, kind: str) -> web.Response:
    ref, new_sid = _ref(request)
    try:
        body = await request.json()
    except ValueError:
        body = {}
    value = str(body.get("text") or body.get("data") or "")[:4000]
    key = str(body.get("id") or "")[:64] or None
    if request.app[FLOOD].check(ref.user_id) != "ok":
        replies = [Reply(say("flood"))]
    else:
        if kind == "text" and value.startswith("/"):
            name, _, arg = value[1:].partition(" ")
            event = Event("command", name.strip().lower(), arg.strip(), update_key=key)
        else:
            event = Event(kind, value, update_key=key)
        try:
            replies = await asyncio.to_thread(request.app[SERVICES].assistant.handle, ref, event)
        except Exception:
            log.exception("web chat error (chat %s, %s %r)", ref.chat_id, kind, value[:80])
            replies = [Reply(say("apology"))]
    resp = web.json_response({"replies": [_reply_json(r) for r in replies]})
    if new_sid:
        resp.set_cookie(COOKIE, new_sid, httponly=True, samesite="Strict", max_age=3600 * 24 * 365)
    return resp


async def message(request: web.Request) -> web.Response:
    """A typed message (a question, a flow field or a /command)."""
    return await _handle(request, "text")


async def press(request: web.Request) -> web.Response:
    """A pressed button."""
    return await _handle(request, "press")


async def notifications(request: web.Request) -> web.Response:
    """Status-change messages waiting for this browser's chat."""
    ref, _ = _ref(request)
    db = request.app[SERVICES].db
    notes = await asyncio.to_thread(pending, db, "web", 200)
    mine = [(i, html) for i, chat, html in notes if chat == ref.chat_id]
    for note_id, _ in mine:
        await asyncio.to_thread(mark, db, note_id)
    markups = await asyncio.to_thread(buttons_of, db, [i for i, _ in mine])  # e.g. rating a reply
    return web.json_response({"replies": [_reply_json(Reply(h, markups.get(i, []))) for i, h in mine]})


async def index(request: web.Request) -> web.FileResponse:
    """The chat page."""
    return web.FileResponse(STATIC / "index.html")


def build_web_app(services) -> web.Application:
    """The web chat application over the shared services."""
    app = web.Application(client_max_size=64 * 1024)
    app[SERVICES] = services
    app[FLOOD] = FloodLimiter(services.settings.flood_max_events, services.settings.flood_window_s)
    app.router.add_get("/", index)
    app.router.add_post("/api/message", message)
    app.router.add_post("/api/press", press)
    app.router.add_get("/api/notifications", notifications)
    app.router.add_static("/static/", STATIC)
    from bot.staff.web import add_staff_pages

    add_staff_pages(app)  # /staff/…: login, review queue, items, audit log, overdue, regulations
    return app
