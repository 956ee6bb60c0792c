"""Security and privacy of the web chat (issue 14), over plain HTTP against the real aiohttp app: similar items,
server-made sessions, per-chat notifications."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import func, select, update
from web_fixtures import serve_web_app

from bot.channels.web.sessions import issue, token_hash
from bot.chat.texts import say
from bot.members.service import create_invitations, identity_for
from bot.staff import accounts
from bot.staff.models import AuditEntry
from bot.storage.models import (
    ChatIdentity,
    FlowState,
    Member,
    Notification,
    ProcessedUpdate,
    QALog,
    Submission,
    WebMessage,
    WebSession,
    utcnow,
)
from bot.suggestions.service import submit

TEXT = "建议在地铁站增加无障碍电梯，方便老人和残疾人出行，减少换乘时上下楼梯的困难。"
SECRET_TEXT = "我是王某住青川小区3栋电话13812345678，建议在地铁站增加无障碍电梯，方便老人和残疾人出行。"


class Chat:
    """One browser of the web chat: its `lvzhi_web` cookie (kept by hand, as a browser would) and the JSON API."""

    def __init__(self, base: str, token: str | None = None) -> None:
        self.base, self.token = base, token

    def get(self, path: str) -> requests.Response:
        return self._keep(requests.get(self.base + path, cookies=self._jar()))

    def _jar(self) -> dict:
        return {"lvzhi_web": self.token} if self.token else {}

    def _keep(self, r: requests.Response) -> requests.Response:
        self.token = r.cookies.get("lvzhi_web") or self.token
        return r

    def say(self, text: str) -> list[str]:
        return self._post("/api/message", {"text": text})

    def press(self, data: str) -> list[str]:
        return self._post("/api/press", {"data": data})

    def _post(self, path: str, body: dict) -> list[str]:
        r = self._keep(requests.post(self.base + path, json=body, cookies=self._jar()))
        assert r.status_code == 200, r.text
        self.last = r.json()["replies"]
        return [x["html"] for x in self.last]

    def micro(self, content: str) -> str:
        """Fill a 微建议 without a title up to 提交; the text of the reply to 提交."""
        self.say("/cancel")
        self.say("/suggest")
        self.press("f:t:micro")
        self.press("f:c:1")
        self.press("f:k")
        self.say(content)
        self.press("f:d")
        return "\n".join(self.press("f:s"))


def chat_of(database, token: str) -> ChatIdentity | None:
    """The chat identity a cookie token opens."""
    with database.session() as s:
        row = s.scalar(select(WebSession).where(WebSession.token_hash == token_hash(token)))
        if row is None:
            return None
        ident = s.scalar(select(ChatIdentity).where(ChatIdentity.external_id == row.external_id))
        s.expunge_all()
        return ident


@pytest.fixture
def site(bot_services, database):
    with serve_web_app(bot_services) as (base, _loop):
        yield base


def _member(s, name: str, phone: str) -> tuple[Member, str]:
    """A member and an invitation code for them."""
    m = Member(name=name, sector="经济界", phone=phone)
    s.add(m)
    s.flush()
    return m, create_invitations(s, phone=phone)[0].code


def _item(s, phone: str, fields: dict, **draft) -> str:
    m = Member(name=f"委员{phone}", sector="教育界", phone=phone)
    s.add(m)
    s.flush()
    ident = identity_for(s, "telegram", phone, phone)
    ident.member_id = m.id
    return submit(s, ident, "micro", {"category": "城市管理", "fields": fields, **draft}).receipt_no


def test_similar_items_only_for_members_only_titled_public_and_not_hidden(site, database, bot_services):
    bot_services.similar.limit = 10  # every close item would be listed: the filters, not the cut, decide
    with database.session() as s:
        public = _item(s, "1", {"title": "关于地铁站增加无障碍电梯的建议", "content": TEXT})
        _item(s, "2", {"title": "", "content": SECRET_TEXT})  # titled by its text: private by default
        asked = _item(s, "3", {"title": "地铁无障碍电梯", "content": TEXT}, private=True)
        hidden = _item(s, "4", {"title": "增设地铁站无障碍电梯", "content": TEXT})
        _, code = _member(s, "张委员", "100")
        accounts.add(s, "admin", "xiaoli", "staff password", "staff", "李干部")
        assert s.scalar(select(Submission.private).where(Submission.receipt_no == public)) is False
    guest = Chat(site)
    done = guest.micro(TEXT)
    assert "提交成功" in done and "相近" not in done  # a guest is offered nothing
    staff = requests.Session()
    staff.get(f"{site}/staff/login")
    login = {
        "csrf": staff.cookies.get("lvzhi_staff_login"),
        "username": "xiaoli",
        "password": "staff password",
    }
    assert staff.post(f"{site}/staff/login", data=login).url.endswith("/staff/")
    page = staff.get(f"{site}/staff/item/{hidden}").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)
    assert 'id="act-offer_hide"' in page
    hid = staff.post(f"{site}/staff/item/{hidden}", data={"action": "offer_hide", "csrf": csrf})
    assert hid.status_code == 200 and 'id="act-offer_show"' in hid.text
    member = Chat(site)
    member.say(f"/start {code}")
    offer = member.micro(TEXT)
    assert "相近的微建议" in offer and public in offer and "关于地铁站增加无障碍电梯的建议" in offer
    assert "13812345678" not in offer and "我是王某" not in offer  # never a text-derived title
    assert asked not in offer and hidden not in offer  # the author asked for privacy; staff hid it
    with database.session() as s:
        row = s.scalars(select(AuditEntry).where(AuditEntry.action == "offer_hidden")).one()
        assert (row.actor, row.target, row.after["offer_hidden"]) == ("xiaoli", f"item:{hidden}", True)


def test_session_ids_are_made_by_the_server_and_rotated_on_binding(site, database):
    with database.session() as s:
        member, code = _member(s, "张委员", "100")
        member_id = member.id
    forged = "a" * 32  # well-formed, chosen by an attacker
    victim = Chat(site, forged)
    victim.say("/start")
    first = victim.token
    assert first != forged and chat_of(database, forged) is None
    victim.say("/help")
    assert victim.token == first  # the same session on the next request
    bound = victim.say(f"/start {code}")
    assert "张委员" in bound[0]
    second = victim.token
    assert second != first and chat_of(database, second).member_id == member_id
    stale = Chat(site, first)  # whoever knew the pre-binding value is a new guest
    assert say("who_guest") in stale.say("/start")[0] and stale.token != first
    assert chat_of(database, stale.token).member_id is None
    with database.session() as s:  # the office unbinds the chat: the next request gets a new token
        s.execute(update(ChatIdentity).where(ChatIdentity.member_id == member_id).values(member_id=None))
    victim.say("/start")
    assert victim.token not in (first, second) and chat_of(database, second) is None


def test_idle_session_expires_and_logout_ends_every_web_session_of_the_member(site, database, bot_services):
    with database.session() as s:
        _, code = _member(s, "张委员", "100")
    one = Chat(site)
    one.say(f"/start {code}")
    with database.session() as s:  # a second browser of the same member
        row = s.scalar(select(WebSession).where(WebSession.token_hash == token_hash(one.token)))
        other_token = issue(s, row.external_id, row.member_id)[1]
        s.add(Notification(identity_id=s.scalar(select(ChatIdentity.id).where(
            ChatIdentity.external_id == row.external_id)), channel="web", chat_id=row.external_id, html="待送达"))  # fmt: skip
    other = Chat(site, other_token)
    assert "张委员" in other.say("/start")[0]
    ended = one.say("/logout")[0]
    assert ended == say("web_sessions_ended", count=2)
    for browser, old in ((one, None), (other, other_token)):
        if old:
            assert say("who_guest") in browser.say("/start")[0] and browser.token != old
    with database.session() as s:  # the undelivered web notification went with the sessions
        assert s.scalar(select(func.count()).select_from(Notification)) == 0
    idle = Chat(site)
    idle.say("/start")
    token = idle.token
    hours = bot_services.settings.web_session_idle_hours
    with database.session() as s:
        s.execute(
            update(WebSession)
            .where(WebSession.token_hash == token_hash(token))
            .values(last_seen_at=utcnow() - timedelta(hours=hours, minutes=1))
        )
    idle.say("/start")
    assert idle.token != token and chat_of(database, token) is not None  # kept until pruned, but not opened


def test_notifications_are_read_per_chat(site, database):
    with database.session() as s:
        for n in range(201):  # throwaway chats that never poll again
            ident = identity_for(s, "web", f"throwaway{n:04d}", f"throwaway{n:04d}")
            s.add(Notification(identity_id=ident.id, channel="web", chat_id=ident.external_id, html=f"旧{n}"))
    member = Chat(site)
    member.say("/start")
    ident = chat_of(database, member.token)
    with database.session() as s:
        s.add(
            Notification(identity_id=ident.id, channel="web", chat_id=ident.chat_id, html="您的微建议已答复")
        )
    notes = member.get("/api/notifications").json()["replies"]
    assert [n["html"] for n in notes] == ["您的微建议已答复"]
    assert member.get("/api/notifications").json()["replies"] == []  # delivered once
    stranger = requests.get(f"{site}/api/notifications")
    assert stranger.json() == {"replies": []} and "lvzhi_web" not in stranger.cookies  # no session made


def test_cookieless_requests_cannot_escape_the_flood_limit(bot_services, database):
    bot_services.settings.flood_max_per_address = 20
    with serve_web_app(bot_services) as (base, _loop):
        codes = [requests.post(f"{base}/api/message", json={"text": "/help", "id": f"u{n}"}).status_code
                 for n in range(60)]  # fmt: skip
    assert codes == [200] * 20 + [429] * 40
    with database.session() as s:  # the refused requests wrote nothing
        assert s.scalar(select(func.count()).select_from(WebSession)) == 20
        assert s.scalar(select(func.count()).select_from(ChatIdentity)) == 20
        assert s.scalar(select(func.count()).select_from(WebMessage).where(WebMessage.seq == 0)) == 20


def test_pruning_removes_unused_guests_sessions_and_update_keys(database):
    from bot.channels.web.prune import prune

    old = utcnow() - timedelta(days=30)
    with database.session() as s:
        guests = [ChatIdentity(channel="web", external_id=f"guest{n:04d}", chat_id=f"guest{n:04d}", created_at=old)
                  for n in range(3000)]  # fmt: skip
        s.add_all(guests)
        s.add_all(ProcessedUpdate(channel="web", update_key=f"k{n}", processed_at=old) for n in range(3000))
        s.add(ProcessedUpdate(channel="web", update_key="fresh"))
        s.add(ProcessedUpdate(channel="telegram", update_key="tg-old", processed_at=old))
        s.flush()
        s.add(QALog(identity_id=guests[0].id, channel="web", chat_id="guest0000", question="问", answer="答"))
        s.add(FlowState(channel="web", chat_id="guest0001", identity_id=guests[1].id, flow="micro", step="k"))
        _item(s, "9", {"title": "关于路灯的建议", "content": TEXT})  # a telegram member's item
        author = identity_for(s, "web", "author", "author")  # a guest's own item keeps the guest
        author.created_at = old
        submit(s, author, "micro", {"category": "城市管理", "fields": {"title": "", "content": TEXT}})
        live = identity_for(s, "web", "live", "live")  # a guest whose browser still uses its session
        live.created_at = old
        issue(s, "live", None)
        idle_row, _ = issue(s, "idle", None)  # an idle session and its chat's undelivered notification
        idle_row.last_seen_at = old
        idle = identity_for(s, "web", "idle", "idle")
        s.add(Notification(identity_id=idle.id, channel="web", chat_id="idle", html="待送达"))
    with database.session() as s:
        counts = prune(s, idle=timedelta(days=14), after=timedelta(days=1))
    assert counts == {"sessions": 1, "notifications": 1, "updates": 3000, "guests": 3000, "history": 0}
    with database.session() as s:
        left = set(s.scalars(select(ChatIdentity.external_id).where(ChatIdentity.channel == "web")))
        assert left == {"author", "live", "idle"}  # idle: created just now, pruned on a later pass
        assert (
            s.scalar(select(QALog.identity_id)) is None
            and s.scalar(select(func.count()).select_from(QALog)) == 1
        )
        assert s.scalar(select(func.count()).select_from(FlowState)) == 0
        assert set(s.scalars(select(ProcessedUpdate.update_key))) == {"fresh", "tg-old"}


def test_flood_limiter_forgets_quiet_keys():
    from bot.channels.flood import MAX_KEYS, FloodLimiter

    limiter = FloodLimiter(max_events=2, window_s=10.0)
    for n in range(MAX_KEYS + 5):  # one-off addresses and cookies
        limiter.check(f"one-off{n}", now=0.0)
    assert limiter.check("busy", now=20.0) == "ok" and len(limiter._events) == 1


def test_flood_limiter_is_safe_from_many_threads(monkeypatch):
    """Telegram's updates (and the web's) check the limiter from worker threads; forgetting quiet keys while another
    thread adds one raised 「dictionary changed size during iteration」, and counts could be lost."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from bot.channels import flood

    monkeypatch.setattr(flood, "MAX_KEYS", 50)  # forget quiet keys often
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as the interpreter can
    try:
        limiter = flood.FloodLimiter(max_events=1000, window_s=10.0)

        def member(n: int) -> list[str]:
            verdicts = []
            for i in range(3000):
                limiter.check(f"quiet{n}-{i}", now=0.0)  # one-off keys, quiet when the shared key comes
                verdicts.append(limiter.check("shared", now=20.0))
            return verdicts

        with ThreadPoolExecutor(4) as pool:
            verdicts = [v for got in pool.map(member, range(4)) for v in got]
    finally:
        sys.setswitchinterval(interval)
    assert verdicts.count("ok") == 1000 and verdicts.count("warn") == 1  # every event counted once


def test_migration_0602_makes_text_titled_items_private(database):
    from sqlalchemy import text

    database.downgrade("0501_staff")
    with database.engine.begin() as conn:
        conn.execute(text("INSERT INTO chat_identities (id, channel, external_id, chat_id, display_name, blocked, "
                          "created_at) VALUES (1, 'web', 'x', 'x', '', false, CURRENT_TIMESTAMP)"))  # fmt: skip
        for n, fields in enumerate(('{"title": "关于路灯的建议", "content": "内容"}', '{"title": "", "content": "我是"}',
                                    '{"content": "征集意见"}'), start=1):  # fmt: skip
            conn.execute(
                text("INSERT INTO submissions (id, receipt_no, type, category, title, fields, status, identity_id, "
                     "created_at, updated_at) VALUES (:id, :r, 'micro', '', 't', :f, 'submitted', 1, "
                     "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"),
                {"id": n, "r": f"WJ-{n}", "f": fields},
            )  # fmt: skip
    database.migrate()
    with database.session() as s:
        flags = dict(s.execute(select(Submission.receipt_no, Submission.private)).all())
        assert flags == {"WJ-1": False, "WJ-2": True, "WJ-3": True}
        assert s.scalar(select(func.count()).select_from(WebSession)) == 0


def test_the_web_server_prunes_on_its_schedule(bot_services, database):
    import time

    bot_services.settings.prune_interval_s = 0.05
    with database.session() as s:
        s.add(
            ChatIdentity(
                channel="web", external_id="gone", chat_id="gone", created_at=utcnow() - timedelta(days=3)
            )
        )

    def left() -> int:
        with database.session() as s:
            return s.scalar(select(func.count()).select_from(ChatIdentity))

    with serve_web_app(bot_services):
        deadline = time.monotonic() + 20
        while left() and time.monotonic() < deadline:  # waits on the condition, not a fixed time
            time.sleep(0.05)
    assert left() == 0


def _buttons(chat: Chat) -> list[str]:
    return [b["data"] for r in chat.last for row in r["buttons"] for b in row]


def test_the_author_chooses_whether_a_titled_item_may_be_shown(site, database):
    with database.session() as s:
        _, code = _member(s, "张委员", "100")
    member = Chat(site)
    member.say(f"/start {code}")
    member.say("/suggest")
    member.press("f:t:micro")
    member.press("f:c:1")
    member.say("关于地铁站无障碍电梯的建议")
    member.say(TEXT)
    preview = member.press("f:d")[0]
    assert "<b>相似事项展示</b>：其他委员提交相近事项时可看到标题" in preview and "f:p:1" in _buttons(member)
    preview = member.press("f:p:1")[0]
    assert "<b>相似事项展示</b>：不展示（仅工作人员可见）" in preview and "f:p:0" in _buttons(member)
    member.press("f:s")
    untitled = Chat(site)
    untitled.say(f"/start {code}")  # the code is used: this browser stays a guest
    untitled.say("/suggest")
    untitled.press("f:t:micro")
    untitled.press("f:c:1")
    untitled.press("f:k")
    untitled.say(SECRET_TEXT)
    assert "不展示（仅工作人员可见）" in untitled.press("f:d")[0]
    assert not {"f:p:0", "f:p:1"} & set(_buttons(untitled))  # the start of a text is never shown to others
    with database.session() as s:
        assert s.scalars(select(Submission.private)).all() == [True]


@pytest.mark.parametrize("on", [False, True], ids=["default: no access log", "LVZHI_WEB_ACCESS_LOG=true"])
async def test_the_access_log_of_lvzhi_serve_is_a_setting(bot_services, caplog, on: bool) -> None:
    """Off by default (the proxy logs requests; each line cost ~0.15 ms of CPU); a line per request when on."""
    import asyncio
    import logging
    import socket

    import aiohttp
    from waiting import until

    from bot.channels.cli import serve

    bot_services.settings.web_access_log = on
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    stop = asyncio.Event()
    server = asyncio.create_task(serve(bot_services, "127.0.0.1", port, False, stop, role="web"))
    caplog.set_level(logging.INFO, logger="aiohttp.access")
    try:

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", port)) == 0

        await until(listening, "lvzhi serve to listen")
        url = f"http://127.0.0.1:{port}/api/message"
        async with aiohttp.ClientSession() as http, http.post(url, json={"text": "你好"}) as r:
            assert r.status == 200
    finally:
        stop.set()
        await server
    lines = [r.getMessage() for r in caplog.records if r.name == "aiohttp.access"]
    assert bool(lines) == on and all("/api/message" in line for line in lines)
