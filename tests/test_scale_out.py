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
    after = api.sent[killed_at_sent:]
    assert after and {s.replica for s in after} == {survivor.name}  # the rest went out through the survivor
    with db.session() as s:
        assert s.scalar(select(func.count()).where(CampaignDelivery.state == "sent")) == final["sent"]


def test_long_polling_one_poller_at_a_time_and_the_other_takes_over(cluster, api) -> None:
    import time

    replicas = cluster(2)
    wait_for(lambda: api.polls, 30, "a replica polling")
    since = time.monotonic()
    wait_for(lambda: time.monotonic() - since > 2.0, 5, "two seconds of polling")
    pollers = api.pollers_since(since)
    assert len(pollers) == 1, pollers  # Telegram never sees two getUpdates consumers
    poller = next(r for r in replicas if r.name in pollers)
    other = next(r for r in replicas if r is not poller)
    for uid in range(1, 6):
        api.push_text(700_000 + uid, "/help")
    wait_for(lambda: len(api.per_chat()) == 5, 30, "five members answered")
    answers = api.per_chat()
    poller.kill()
    killed = time.monotonic()
    wait_for(lambda: other.name in api.pollers_since(killed), 30, "the other replica polling")
    took_over = min(t for t, r in api.polls if r == other.name and t >= killed) - killed
    assert took_over < 10.0
    for uid in range(6, 11):
        api.push_text(700_000 + uid, "/help")
    wait_for(lambda: len(api.per_chat()) == 10, 30, "five more members answered")
    assert api.pollers_since(killed + took_over) == {other.name}
    per_update = set(api.per_chat().values())
    assert per_update == {answers[str(700_001)]}  # every update answered the same way, none twice
