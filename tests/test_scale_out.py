"""Several `lvzhi serve` replicas (real processes) on one PostgreSQL: work claimed once, one poller, shared limits,
a knowledge base switched without restart, a member's flow across replicas behind nginx (issue 12)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from replica_harness import BotApiServer, Replica, replica_env, wait_for
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from bot.campaigns.deliveries import SqlDeliveryStore
from bot.campaigns.models import Campaign, CampaignDelivery
from bot.storage import Database
from bot.storage.leases import lease_holder
from bot.storage.models import ChatIdentity, Notification

pytestmark = pytest.mark.slow


@pytest.fixture
def pg_db(pg_base_url):
    """A fresh, migrated PostgreSQL database of its own on the test server; (url, Database)."""
    name = f"lvzhi_scale_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg_base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_base_url).set(database=name).render_as_string(hide_password=False)
    db = Database(url)
    db.migrate()
    yield url, db
    db.dispose()
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def api():
    """The Bot API stand-in the replicas share."""
    server = BotApiServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def cluster(tmp_path, pg_db, api):
    """start(n, **settings) → n replicas of role "all" on the test database, ready; all stopped at the end."""
    url, _ = pg_db
    started: list[Replica] = []

    def start(n: int = 2, **extra) -> list[Replica]:
        replicas = [
            Replica(f"r{i}", tmp_path, replica_env(url, api, f"r{i}", tmp_path / "index", tmp_path, **extra))
            for i in range(1, n + 1)
        ]
        for r in replicas:
            started.append(r.start())
        for r in replicas:
            r.wait_ready()
        return replicas

    yield start
    for r in started:
        r.stop()


def _identities(db: Database, n: int, first: int = 500_000) -> list[tuple[str, int]]:
    with db.session() as s:
        rows = [
            ChatIdentity(channel="telegram", external_id=str(first + i), chat_id=str(first + i))
            for i in range(n)
        ]
        s.add_all(rows)
        s.flush()
        return [(r.chat_id, r.id) for r in rows]


def _max_in_window(stamps: list[float], window: float = 1.0) -> int:
    stamps = sorted(stamps)
    best, j = 0, 0
    for i, t in enumerate(stamps):
        while stamps[j] < t - window:
            j += 1
        best = max(best, i - j + 1)
    return best


def test_notifications_queued_while_two_replicas_run_are_each_delivered_once_within_the_rate(
    cluster, pg_db, api
) -> None:
    _, db = pg_db
    rate = 100
    cluster(2, LVZHI_TELEGRAM_MAX_RATE=rate)
    idents = _identities(db, 250)
    texts = []
    for batch in range(4):  # queued in four batches while both replicas deliver
        with db.session() as s:
            for n, (chat, ident) in enumerate(idents):
                body = f"通知 {batch}-{n}：您的提案已立案。"
                texts.append(body)
                s.add(
                    Notification(
                        identity_id=ident, channel="telegram", chat_id=chat, kind="status", html=body
                    )
                )
    assert len(texts) == 1000

    def delivered() -> bool:
        with db.session() as s:
            return s.scalar(select(func.count()).where(Notification.sent_at.is_(None))) == 0

    wait_for(delivered, 120, "all 1,000 notifications sent")
    got = [s.text for s in api.sent if s.text.startswith("通知 ")]
    assert sorted(got) == sorted(texts)  # each exactly once: none lost, none twice
    by = api.sent_by()
    assert by["r1"] > 0 and by["r2"] > 0, by  # both replicas delivered a share
    stamps = [s.at for s in api.sent if s.text.startswith("通知 ")]
    # the combined rate of both replicas stays within the bot's limit (GCRA in PostgreSQL, burst 1)…
    assert _max_in_window(stamps) <= rate * 1.05 + 1
    # …and the limit is what paced them (1,000 messages at 100/s take about 10 s)
    assert max(stamps) - min(stamps) >= 1000 / rate * 0.9


def test_broadcast_survives_a_replica_killed_halfway_without_a_second_copy(cluster, pg_db, api) -> None:
    _, db = pg_db
    api.latency_s = 0.03  # every send is in flight for a while: a kill catches some mid-send
    replicas = cluster(2, LVZHI_TELEGRAM_MAX_RATE=200, LVZHI_BROADCAST_RATE=200)
    now = datetime.now(UTC)
    with db.session() as s:
        campaign = Campaign(
            title="我为青川发展献一策",
            status="open",
            starts_at=now - timedelta(hours=1),
            ends_at=now + timedelta(days=3),
        )
        s.add(campaign)
        s.flush()
        cid = campaign.id
    recipients = _identities(db, 2000)
    store = SqlDeliveryStore(db)
    assert store.add_recipients(cid, recipients) == 2000  # what the staff page's 「发送邀请」 does first

    def counts() -> dict[str, int]:
        return store.counts(cid)

    wait_for(lambda: counts().get("sent", 0) >= 1000, 120, "half of the broadcast sent")
    holder = lease_holder(db, f"broadcast:{cid}")
    victim = next(r for r in replicas if r.name == holder)
    survivor = next(r for r in replicas if r is not victim)
    victim.kill()
    killed_at_sent = len(api.sent)
    in_flight = set(store.chats_in_state(cid, "sending"))  # the dead replica's rows mid-send
    assert in_flight, "the kill caught no send in flight (latency too small?)"

    def finished() -> bool:
        c = counts()
        return c.get("pending", 0) == 0 and c.get("sending", 0) == 0

    wait_for(finished, 120, "the survivor finishing the broadcast")
    final = counts()
    per_chat = api.per_chat()
    assert max(per_chat.values()) == 1  # nobody got the invitation twice
    assert (
        set(store.chats_in_state(cid, "unknown")) == in_flight
    )  # in flight at the kill: unknown, not resent
    assert final.get("sent", 0) + len(in_flight) == 2000
    for chat in store.chats_in_state(cid, "sent"):
        assert per_chat[chat] == 1
    # a send the victim made just before the kill is recorded when the stand-in's latency is over, possibly after
    # `killed_at_sent` was read: those are the in-flight chats; every other later send is the survivor's
    after = [s for s in api.sent[killed_at_sent:] if s.chat_id not in in_flight]
    assert after and {s.replica for s in after} == {survivor.name}  # the rest went out through the survivor
    with db.session() as s:
        assert s.scalar(select(func.count()).where(CampaignDelivery.state == "sent")) == final["sent"]


def test_long_polling_one_poller_at_a_time_and_the_other_takes_over(cluster, api) -> None:
    import time

    replicas = cluster(2)
    wait_for(lambda: api.polls, 120, "a replica polling")
    since = time.monotonic()
    wait_for(lambda: time.monotonic() - since > 2.0, 5, "two seconds of polling")
    pollers = api.pollers_since(since)
    assert len(pollers) == 1, pollers  # Telegram never sees two getUpdates consumers
    poller = next(r for r in replicas if r.name in pollers)
    other = next(r for r in replicas if r is not poller)
    for uid in range(1, 6):
        api.push_text(700_000 + uid, "/help")
    wait_for(lambda: len(api.per_chat()) == 5, 120, "five members answered")
    answers = api.per_chat()
    poller.kill()
    killed = time.monotonic()
    wait_for(lambda: other.name in api.pollers_since(killed), 30, "the other replica polling")
    took_over = min(t for t, r in api.polls if r == other.name and t >= killed) - killed
    assert took_over < 10.0
    for uid in range(6, 11):
        api.push_text(700_000 + uid, "/help")
    wait_for(lambda: len(api.per_chat()) == 10, 120, "five more members answered")
    assert api.pollers_since(killed + took_over) == {other.name}
    per_update = set(api.per_chat().values())
    assert per_update == {answers[str(700_001)]}  # every update answered the same way, none twice


TRAINING = """青川市政协委员学习培训办法

第一条 为加强委员学习培训，制定本办法。

第二条 委员学习培训由委员工作委员会组织实施。

第三条 委员每年参加集中学习培训不少于四十学时，因故不能参加的应当书面请假。
"""
VISITS = """青川市政协委员联系界别群众办法

第一条 为密切委员同界别群众的联系，制定本办法。

第二条 委员每季度至少走访界别群众一次，走访情况记入履职档案。
"""


def _ingest(folder, env: dict) -> None:
    import subprocess
    import sys

    from replica_harness import REPO

    out = subprocess.run(
        [sys.executable, "-m", "bot.cli", "ingest", str(folder)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout[-2000:] + out.stderr[-2000:]


def _ask(base: str, question: str) -> str:
    import requests

    replies = requests.post(f"{base}/api/message", json={"text": question}, timeout=60).json()["replies"]
    return "\n".join(r["html"] for r in replies)


def test_ingest_on_one_node_is_answered_by_both_and_a_flow_crosses_replicas_behind_nginx(
    tmp_path, pg_db, cluster
) -> None:
    import os

    import chromadb
    import requests
    from replica_harness import REPO, ChromaServer, Nginx

    chroma = ChromaServer(tmp_path / "chroma-data").start()
    try:
        docs = tmp_path / "docs"
        docs.mkdir()
        (docs / "培训办法.txt").write_text(TRAINING, encoding="utf-8")
        index = tmp_path / "index"
        node = {
            **os.environ, "PYTHONPATH": str(REPO), "LVZHI_INDEX_DIR": str(index),
            "LVZHI_DATA_DIR": str(tmp_path / "ingest"), "LVZHI_CHROMA_URL": chroma.url, "LVZHI_DENSE_INDEX": "true",
            "LVZHI_VECTORS_IN_BACKGROUND": "false", "HF_HUB_OFFLINE": "1",
        }  # fmt: skip
        _ingest(docs, node)
        replicas = cluster(2, LVZHI_CHROMA_URL=chroma.url, LVZHI_DENSE_INDEX="true")
        for r in replicas:
            assert "四十学时" in _ask(r.url, "委员每年参加集中学习培训多少学时？")
        # a new document ingested on one node (the vectors go to the Chroma server, the lexical index gets a new
        # version): both running replicas answer from it, no restart
        (docs / "联系办法.txt").write_text(VISITS, encoding="utf-8")
        _ingest(docs, node)
        for r in replicas:
            wait_for(
                lambda r=r: "每季度至少走访" in _ask(r.url, "委员多久走访一次界别群众？"),
                30,
                f"{r.name} switched",
            )
        client = chromadb.HttpClient(host="127.0.0.1", port=chroma.port)
        vectors = sum(client.get_collection(c.name).count() for c in client.list_collections())
        assert vectors >= 5 and not (index / "chroma").exists()  # the vectors live in the server only
        assert len([p for p in (index / "lexical").iterdir() if p.is_dir()]) == 2  # two versions, one CURRENT

        nginx = Nginx([r.url.removeprefix("http://") for r in replicas], tmp_path).start()
        try:
            member = requests.Session()
            upstreams = []

            def step(kind: str, value: str) -> str:
                body = {"text": value} if kind == "text" else {"data": value}
                resp = member.post(
                    f"{nginx.url}/api/{'message' if kind == 'text' else 'press'}", json=body, timeout=60
                )
                assert resp.status_code == 200, resp.text
                upstreams.append(resp.headers["X-Lvzhi-Upstream"])
                return "\n".join(r["html"] for r in resp.json()["replies"])

            step("text", "/suggest")
            for data in ("f:t:micro", "f:c:1", "f:k"):
                step("press", data)
            step("text", "建议在地铁站增加无障碍电梯，方便老人出行。")
            assert "请核对您的<b>微建议</b>" in step("press", "f:d")
            receipt = step("press", "f:s")
            assert "WJ-" in receipt
            assert len(set(upstreams)) == 2  # the flow went through both replicas
        finally:
            nginx.stop()
        from bot.storage.models import Submission

        with pg_db[1].session() as s:
            item = s.scalars(select(Submission)).one()
        assert (
            item.fields["content"] == "建议在地铁站增加无障碍电梯，方便老人出行。"
            and item.receipt_no in receipt
        )
    finally:
        chroma.stop()


def test_webhook_updates_through_nginx_reach_any_replica_and_are_answered_once(tmp_path, pg_db, api) -> None:
    import hashlib

    import requests
    from replica_harness import TOKEN, Nginx, free_port

    url, _ = pg_db
    hooks = [free_port(), free_port()]
    replicas = []
    try:
        for i, port in enumerate(hooks, start=1):
            env = replica_env(
                url, api, f"w{i}", tmp_path / "index", tmp_path, LVZHI_TELEGRAM_WEBHOOK_URL="https://lvzhi.example.org/telegram",
                LVZHI_TELEGRAM_WEBHOOK_PORT=port, LVZHI_TELEGRAM_WEBHOOK_SECRET="s3cret",
            )  # fmt: skip
            replicas.append(Replica(f"w{i}", tmp_path, env).start())
        for r in replicas:
            r.wait_ready()
        nginx = Nginx(
            [r.url.removeprefix("http://") for r in replicas], tmp_path, [f"127.0.0.1:{p}" for p in hooks]
        ).start()
        try:
            hook = f"{nginx.url}/telegram/{hashlib.sha256(TOKEN.encode()).hexdigest()[:32]}"
            headers = {"X-Telegram-Bot-Api-Secret-Token": "s3cret"}
            updates = [api.text_update(800_000 + n, "/help") for n in range(20)]
            for update in updates:
                assert requests.post(hook, json=update, headers=headers, timeout=30).status_code == 200
            assert requests.post(hook, json=updates[0], timeout=30).status_code == 403  # no secret: refused
            for update in updates[:5]:  # Telegram redelivers: round robin takes these to the other replica
                assert requests.post(hook, json=update, headers=headers, timeout=30).status_code == 200
            wait_for(lambda: len(api.per_chat()) == 20, 120, "twenty members answered")
            wait_for(
                lambda: sum(r.log().count("duplicate update") for r in replicas) == 5, 60, "redeliveries seen"
            )
        finally:
            nginx.stop()
        per_chat = api.per_chat()
        assert len(set(per_chat.values())) == 1  # every member answered alike: the redelivered ones once
        assert set(api.sent_by()) == {"w1", "w2"}  # both replicas took updates
        for update in updates[:5]:
            uid, chat = update["update_id"], str(update["message"]["chat"]["id"])
            answered_by = {s.replica for s in api.sent if s.chat_id == chat}
            ignored_by = {
                r.name
                for r in replicas
                if f"duplicate update {uid} ignored" in r.log()
                or f"telegram/{TOKEN.split(':')[0]}:{uid} ignored" in r.log()
            }
            assert len(answered_by) == 1 and len(ignored_by) == 1 and answered_by != ignored_by
    finally:
        for r in replicas:
            r.stop()


def test_roles_web_answers_and_sends_nothing_queued_sender_delivers_and_serves_no_web(
    tmp_path, pg_db, api
) -> None:
    import requests

    url, db = pg_db
    web_env = replica_env(url, api, "web", tmp_path / "index", tmp_path)
    web, sender = Replica("web", tmp_path, web_env, role="web"), None
    try:
        web.start().wait_ready()
        sender = Replica(
            "snd", tmp_path, replica_env(url, api, "snd", tmp_path / "index", tmp_path), role="sender"
        )
        sender.start().wait_ready()
        from bot.chat.texts import say

        assert say("help").strip()[:20] in _ask(web.url, "/help")  # the web replica answers the web chat
        with pytest.raises(requests.ConnectionError):
            requests.get(sender.url + "/", timeout=2)  # the sender serves no web
        idents = _identities(db, 30)
        with db.session() as s:
            for chat, ident in idents:
                s.add(
                    Notification(identity_id=ident, channel="telegram", chat_id=chat, html=f"角色通知 {chat}")
                )

        def delivered() -> bool:
            with db.session() as s:
                return s.scalar(select(func.count()).where(Notification.sent_at.is_(None))) == 0

        wait_for(delivered, 120, "the outbox delivered")
        notes = [s for s in api.sent if s.text.startswith("角色通知")]
        assert len(notes) == 30 and {s.replica for s in notes} == {"snd"}  # only the sender delivers
        assert {r for _, r in api.polls} == {"web"}  # only the web replica takes updates
    finally:
        for r in (web, sender):
            if r is not None:
                r.stop()
