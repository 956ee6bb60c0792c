"""aiohttp app: the chat page and a JSON API (/api/message, /api/press, /api/upload, /api/history, /api/section,
/api/notifications).

Each browser's chat is opened by a server-made session token in the `lvzhi_web` cookie (bot.channels.web.sessions);
its conversation is kept on the server (bot.channels.web.history), so a reload shows it again and a retried request
(same client key) gets the first request's replies, never a second answer. Every response carries the security
headers (`security_headers` middleware), errors are Chinese pages; bodies are checked at the edge."""

from __future__ import annotations

import asyncio
import dataclasses
import html as html_lib
import json
import logging
import re
import threading
import time
from datetime import timedelta
from functools import lru_cache
from pathlib import Path

from aiohttp import web
from sqlalchemy import select

from bot.channels.flood import FloodLimiter
from bot.channels.pool import in_answer_pool
from bot.channels.web import history, sessions, uploads
from bot.channels.web.client import client_address
from bot.channels.web.context import SERVICES, secure_cookies, services_of
from bot.channels.web.edge import bad_request, json_object, positive_int
from bot.chat.texts import esc, say
from bot.chat.types import Button, ChatRef, Event, Reply
from bot.logsafe import clean
from bot.storage.models import Notification, QALog, utcnow
from bot.suggestions.types import catalog

log = logging.getLogger(__name__)
STATIC = Path(__file__).resolve().parent / "static"
COOKIE = "lvzhi_web"
FLOOD = web.AppKey("flood", FloodLimiter)
FLOOD_ADDR = web.AppKey("flood_addr", FloodLimiter)
IN_FLIGHT = web.AppKey("in_flight", object)  # InFlight: the requests being answered by this process
END_SESSIONS = "/logout"  # the chat command that ends every web session of the member
UPDATE_KEY = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")
NOTES_PER_POLL = 20
REPLAY_WAIT_S = (
    90.0  # how long a replayed request waits for the first one's replies (an LLM answer takes seconds)
)
ASIDE = ("q:p:", "q:v:")  # presses whose exchange is not listed in the history: a passage opened, a vote
VOTE = re.compile(r"^q:v:(\d{1,10}):(-?1)$")
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
        if exc.text != f"{exc.status}: {exc.reason}" or exc.status < 400:
            _secure(request, exc.headers)
            raise
        resp = error_response(request, exc.status, exc.headers)  # aiohttp's bare English text: a Chinese page
    except Exception:
        log.exception("unhandled error on %s %s", request.method, clean(request.path, 120))
        resp = error_response(request, 500)
    if not resp.prepared:
        _secure(request, resp.headers)
    return resp


def error_response(request: web.Request, status: int, headers=None) -> web.Response:
    """A Chinese error for `status`: JSON {"error"} under /api/, else a page with a link back to the chat.

    Kept headers: Allow (a 405's allowed methods)."""
    name = "web_not_found" if status == 404 else "web_server_error" if status >= 500 else "web_method"
    message = html_lib.unescape(say(name))
    keep = {k: v for k, v in (headers or {}).items() if k.lower() == "allow"}
    if request.path.startswith("/api/"):
        body = json.dumps({"error": message}, ensure_ascii=False)
        return web.Response(status=status, text=body, content_type="application/json", headers=keep)
    text = say("web_error_page", title=html_lib.unescape(say(f"{name}_title")), message=message)
    return web.Response(status=status, text=text, content_type="text/html", headers=keep)


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


def _session_of(s, request: web.Request, create: bool):
    """The session of this browser (bot.channels.web.sessions.Opened; a new one for an unknown cookie when
    `create`, else None), in the database session `s` (call it off the event loop)."""
    return sessions.open_session(s, request.cookies.get(COOKIE, ""), _idle(request), create)


def _set_cookie(request: web.Request, resp: web.StreamResponse, token: str | None) -> None:
    if token:
        resp.set_cookie(
            COOKIE, token, httponly=True, samesite="Strict", path="/", secure=secure_cookies(_settings(request)),
            max_age=int(_idle(request).total_seconds()),
        )  # fmt: skip


def max_text() -> int:
    """The longest message the chat takes (characters): the longest field of any suggestion type (提案理由 2,500,
    意见内容 3,000 in prompts/suggestions/types.toml). A longer one is refused with its real length, never cut."""
    return max(f.max for t in catalog().types for f in t.fields)


@dataclasses.dataclass
class _Turn:
    """What one message came to, worked out off the event loop: the browser's session, the replies, the cookie
    token to set, whether another request has (or is giving) the replies of this client key, a vote's state."""

    opened: sessions.Opened
    replies: list[Reply]
    token: str | None
    replayed: bool = False
    vote: dict | None = None


class InFlight:
    """(chat, client key) of the requests being answered by this process; thread-safe."""

    def __init__(self) -> None:
        self._keys: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def enter(self, flight: tuple[str, str]) -> bool:
        """Mark `flight` as being answered; False when it already is (a replay of a request in progress)."""
        with self._lock:
            if flight in self._keys:
                return False
            self._keys.add(flight)
            return True

    def leave(self, flight: tuple[str, str]) -> None:
        """`flight` is answered (or failed)."""
        with self._lock:
            self._keys.discard(flight)


async def _handle(request: web.Request, kind: str) -> web.Response:
    body = await json_object(request, {"text": (str,), "data": (str,), "id": (str, int), "label": (str,)})
    value = str(body.get("text") or body.get("data") or "")
    label = str(body.get("label") or "")[:100]  # what the member pressed, as the page shows it
    key = _key(body.get("id"))
    # One thread hand-off per message: the flood checks, the session, the answer and the vote's state.
    turn = await in_answer_pool(services_of(request), _turn, request, kind, value, label, key)
    if turn is None:
        return _flood_response()
    replies, extra = turn.replies, {}
    if turn.replayed:
        replies = await _replayed(request, turn.opened.external_id, key)
        if (qa_id := _voted(kind, value)) is not None:
            turn.vote = await asyncio.to_thread(_vote_state, request, turn.opened.external_id, qa_id)
    if turn.vote is not None:
        extra["vote"] = turn.vote
    resp = web.json_response({"replies": [_reply_json(r) for r in replies], **extra})
    _set_cookie(request, resp, turn.token)
    return resp


def _turn(request: web.Request, kind: str, value: str, label: str, key: str | None) -> _Turn | None:
    """One message (a text or a press) of this browser, in one thread: None when its address sends too fast."""
    admitted = _admit_now(request)
    if admitted is None:
        return None
    opened, allowed = admitted
    if not allowed:
        return _Turn(opened, [Reply(say("flood"))], opened.token)
    if kind == "text" and value.strip().lower() == END_SESSIONS:
        replies, token = _end_sessions(request, opened.session_id)
        return _Turn(opened, replies, token)
    if kind == "text" and len(value) > max_text():
        return _Turn(opened, [Reply(say("web_text_too_long", n=len(value), max=max_text()))], opened.token)
    if kind == "text" and value.startswith("/"):
        name, _, arg = value[1:].partition(" ")
        event = Event("command", name.strip().lower(), arg.strip(), update_key=key)
    else:
        event = Event(kind, value, update_key=key)
    aside = kind == "press" and value.startswith(ASIDE)
    turn = _converse(request, opened, event, esc(label or value), aside)
    if (qa_id := _voted(kind, value)) is not None and not turn.replayed:
        turn.vote = _vote_state(request, opened.external_id, qa_id)
    return turn


def _voted(kind: str, value: str) -> int | None:
    """The answer id a press votes on (「q:v:<id>:±1」), else None."""
    vote = VOTE.match(value) if kind == "press" else None
    return int(vote.group(1)) if vote else None


def _key(raw) -> str | None:
    key = str(raw or "") or None
    if key is not None and not UPDATE_KEY.match(key):
        raise bad_request("消息编号格式不正确")
    return key


def _admit_now(request: web.Request):
    """None when this address sends too fast (checked before any row is written: a cookie is free), else the
    browser's session (bot.channels.web.sessions.Opened, a new one for an unknown cookie) and whether its chat is
    within its own flood limit. Blocking (with replicas each flood check is a PostgreSQL statement)."""
    addr = client_address(request, _settings(request).trusted_proxies)
    if request.app[FLOOD_ADDR].check(addr) != "ok":
        return None
    with _db(request).session() as s:
        opened = _session_of(s, request, True)
    return opened, request.app[FLOOD].check(opened.external_id) == "ok"


def _flood_response() -> web.Response:
    """The 429 answer to an address that sends too fast."""
    return web.json_response({"replies": [_reply_json(Reply(say("flood")))]}, status=429)


def _ref(opened) -> ChatRef:
    """The chat of a web session."""
    return ChatRef("web", opened.external_id, opened.external_id, "网页用户")


def _converse(request: web.Request, opened, event: Event, shown_html: str, aside: bool) -> _Turn:
    """Run the Assistant once per client key (blocking), the member's message and its replies stored in the
    Assistant's one write transaction (history.Exchange, which is also what makes a key count once). A key being
    answered, or answered before, gives a turn marked `replayed` (the caller waits for the stored replies).

    The turn's token is a new cookie token when the event changed the chat's binding, else the session's."""
    db, key, ref = _db(request), event.update_key, _ref(opened)
    flight = (ref.chat_id, key or "")
    # a key being answered here already: this is a retry, which waits for the first request's replies
    if key is not None and not request.app[IN_FLIGHT].enter(flight):
        return _Turn(opened, [], opened.token, replayed=True)
    exchange = history.Exchange(ref.chat_id, key, shown_html, aside)
    # The exchange's claim of (chat, key) is the event's idempotency: no processed-update key besides it (the
    # Assistant would read and write one more row per message for nothing).
    event = dataclasses.replace(event, update_key=None)
    try:
        replies = services_of(request).assistant.handle(ref, event, exchange)
    except Exception:
        log.exception("web chat error (chat %s, %s %s)", ref.chat_id[:8], event.kind, clean(event.text, 80))
        replies = [Reply(say("apology"))]
        exchange = history.Exchange(ref.chat_id, key, shown_html, aside)
        with db.session() as s:
            if exchange.claim(s):
                exchange.store(s, replies)
    finally:
        if key is not None:
            request.app[IN_FLIGHT].leave(flight)
    if exchange.replayed:  # another request (another replica, say) answered this key first
        return _Turn(opened, [], opened.token, replayed=True)
    token = opened.token
    if event.kind == "command":  # /start CODE may have bound the chat: a new token for the member
        with db.session() as s:
            rotated = sessions.refresh(s, opened.session_id)
        token = rotated.token if rotated else token
    return _Turn(opened, replies, token)


async def _replayed(request: web.Request, chat_id: str, key: str | None) -> list[Reply]:
    """The replies first given to `key` (polled until stored, at most REPLAY_WAIT_S)."""

    def read() -> list[Reply] | None:
        with _db(request).session() as s:
            return history.replies_of(s, chat_id, key or "")

    deadline, pause = time.monotonic() + REPLAY_WAIT_S, 0.05
    while (replies := await asyncio.to_thread(read)) is None:
        if time.monotonic() > deadline:
            return [Reply(say("apology"))]
        await asyncio.sleep(pause)
        pause = min(pause * 2, 1.0)
    return replies


def _vote_state(request: web.Request, chat_id: str, qa_id: int) -> dict:
    """{"qa_id", "value"}: the chat's vote on an answer (blocking)."""
    with _db(request).session() as s:
        votes = history.votes_of(s, chat_id, [qa_id])
    return {"qa_id": qa_id, "value": votes.get(qa_id, 0)}


def _end_sessions(request: web.Request, session_id: int) -> tuple[list[Reply], str | None]:
    """/logout (blocking): every web session of the member ended, and a new anonymous session's token."""
    with _db(request).session() as s:
        ended = sessions.end_all(s, session_id)
        _row, token = sessions.issue(s, None, None)
    return [Reply(say("web_sessions_ended", count=ended))], token


async def message(request: web.Request) -> web.Response:
    """A typed message (a question, a flow field or a /command); `/logout` ends the member's web sessions.

    Body {"text", "id" (client key), "label" (optional: what the page shows for it)}; a text longer than
    max_text() is refused with its real length."""
    return await _handle(request, "text")


async def press(request: web.Request) -> web.Response:
    """A pressed button: body {"data", "id", "label"}; a vote's answer carries "vote": {"qa_id", "value"}."""
    return await _handle(request, "press")


async def upload(request: web.Request) -> web.Response:
    """An attached photo or document (multipart fields `id` and `file`): saved like a Telegram download and given
    to the Assistant as a file event. A refused file is a 400 (413 when too large) with a Chinese `error`."""
    services = services_of(request)
    admitted = await in_answer_pool(services, _admit_now, request)
    if admitted is None:
        return _flood_response()
    opened, allowed = admitted
    if not allowed:
        resp = _flood_response()
        _set_cookie(request, resp, opened.token)
        return resp
    root = _settings(request).data_dir / "attachments"
    try:
        got = await uploads.read_upload(request, root, opened.external_id)
    except uploads.UploadRefused as exc:
        resp = web.json_response({"error": html_lib.unescape(str(exc))}, status=exc.status)
        _set_cookie(request, resp, opened.token)
        return resp
    key = _key(got.key)
    shown = say("web_file_sent", name=got.file.file_name, size=uploads.size_label(got.size))
    event = Event("file", file=got.file, update_key=key)
    turn = await in_answer_pool(services, _converse, request, opened, event, shown, False)
    replies = await _replayed(request, opened.external_id, key) if turn.replayed else turn.replies
    resp = web.json_response({"replies": [_reply_json(r) for r in replies]})
    _set_cookie(request, resp, opened.token)
    return resp


async def history_page(request: web.Request) -> web.Response:
    """This browser's conversation, a page at a time: ?before=<message id> for earlier ones.

    {"messages": [{"id", "role" (me | bot), "html", "buttons", "meta"}] oldest first, "more": earlier ones exist}.
    Without a session: nothing (and no new session)."""
    before = positive_int(request.query.get("before", ""))
    if request.query.get("before", "") and before is None:
        raise bad_request("参数 before 不正确")

    def run():
        with _db(request).session() as s:
            opened = _session_of(s, request, False)
            if opened is None:
                return None, [], False
            return (opened, *history.page(s, opened.external_id, before))

    opened, rows, more = await asyncio.to_thread(run)
    messages = [
        {"id": m.id, "role": m.role, "html": m.html, "buttons": m.buttons, "meta": m.meta} for m in rows
    ]
    resp = web.json_response({"messages": messages, "more": more})
    _set_cookie(request, resp, opened.token if opened else None)
    return resp


async def section(request: web.Request) -> web.Response:
    """The whole section around the n-th passage an answer of this chat cites: ?qa=<answer id>&n=<passage>.

    {"html": the section chunk by chunk in the document's own words}; 404 (Chinese) for another chat's answer or a
    passage no longer in the knowledge base."""
    from bot.chat import script
    from bot.chat.section import whole_section_html

    qa_id, n = positive_int(request.query.get("qa", "")), positive_int(request.query.get("n", ""))
    if qa_id is None or n is None:
        raise bad_request("参数不正确")

    def run():
        with _db(request).session() as s:
            opened = _session_of(s, request, False)
            row = s.get(QALog, qa_id) if opened is not None else None
            if row is None or row.channel != "web" or row.chat_id != opened.external_id:
                return "web_section_not_yours"  # another browser's answer (or none): not whether it exists
            cites = row.citations or []
            if n > len(cites):
                return "web_section_gone"
            # the heading follows the question's script when it shows one, else the member's remembered script
            trad = script.of_question(row.question or "", script.of_identity(s, row.identity_id))
            return cites[n - 1].get("chunk_id", ""), trad

    found = await asyncio.to_thread(run)
    if isinstance(found, str):
        return web.json_response({"error": html_lib.unescape(say(found))}, status=404)
    knowledge = request.app[SERVICES].knowledge
    html = await asyncio.to_thread(whole_section_html, knowledge, found[0], found[1])
    if html is None:
        msg = html_lib.unescape(say("web_section_gone"))
        return web.json_response({"error": msg}, status=404)
    return web.json_response({"html": html})  # the same words as Telegram's 查看整节 (bot/chat/section.py)


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
    """Status-change messages waiting for this browser's chat (nothing, and no new session, without one); they
    join the chat's stored conversation."""

    def run():
        with _db(request).session() as s:
            opened = _session_of(s, request, False)
            if opened is None:
                return None, []
            notes = take_notes(s, opened.external_id)
            history.add_notes(s, opened.external_id, notes)
            return opened, notes

    opened, notes = await asyncio.to_thread(run)
    resp = web.json_response({"replies": [_reply_json(Reply(h, rows)) for h, rows in notes]})
    _set_cookie(request, resp, opened.token if opened else None)
    return resp


@lru_cache(maxsize=1)
def _index_html() -> str:
    """index.html with the page's texts and limits filled in (from prompts/replies.toml and the flows' limits)."""
    texts = {
        name: html_lib.unescape(say(f"web_ui_{name}", **variables))
        for name, variables in {
            "placeholder": {}, "sending": {}, "failed": {}, "retry": {}, "offline": {}, "earlier": {},
            "attach": {}, "whole_section": {}, "hide_section": {}, "voted": {}, "campaign": {}, "checkin": {},
            "too_long": {"max": "{max}", "n": "{n}"},
            "too_big": {"name": "{name}", "size": "{size}", "max": "{max}"},
            "bad_type": {"name": "{name}"},
        }.items()
    }  # fmt: skip
    config = {"texts": texts, "maxText": max_text(), "maxBytes": uploads.MAX_BYTES, "accept": uploads.ACCEPT}
    raw = json.dumps(
        config, ensure_ascii=False
    )  # a script element's text is not entity-decoded: escape < > &
    data = raw.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    page = (STATIC / "index.html").read_text(encoding="utf-8")
    return (
        page.replace("{{config}}", data)
        .replace("{{placeholder}}", html_lib.escape(texts["placeholder"]))
        .replace("{{attach}}", html_lib.escape(texts["attach"]))
        .replace("{{accept}}", html_lib.escape(uploads.ACCEPT))
        .replace("{{max}}", str(max_text()))
    )


async def index(request: web.Request) -> web.Response:
    """The chat page."""
    return web.Response(text=_index_html(), content_type="text/html")


def build_web_app(services) -> web.Application:
    """The web chat application over the shared services."""
    settings = services.settings
    app = web.Application(client_max_size=64 * 1024, middlewares=[security_headers])
    app[SERVICES] = services
    app[FLOOD] = services.flood_limiter("web:", settings.flood_max_events)  # shared by replicas on PostgreSQL
    app[FLOOD_ADDR] = services.flood_limiter("addr:", settings.flood_max_per_address)
    app[IN_FLIGHT] = InFlight()
    app.router.add_get("/", index)
    app.router.add_post("/api/message", message)
    app.router.add_post("/api/press", press)
    app.router.add_post("/api/upload", upload)
    app.router.add_get("/api/history", history_page)
    app.router.add_get("/api/section", section)
    app.router.add_get("/api/notifications", notifications)
    app.router.add_static("/static/", STATIC)
    from bot.channels.web.prune import prune_job
    from bot.channels.web.staff.site import add_staff_pages

    add_staff_pages(app)  # /staff/…: login, review queue, items, audit log, overdue, regulations
    app.cleanup_ctx.append(prune_job)
    return app
