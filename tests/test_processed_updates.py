"""Processed update keys: pruned after 7 days (every channel), and the web chat's keys still stop a double send."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import func, select, update
from web_fixtures import serve_web_app

from bot.chat.processed import KEEP, claim, prune, telegram_key
from bot.storage.models import ProcessedUpdate, QALog, WebMessage, utcnow


def keys(database) -> set[tuple[str, str]]:
    with database.session() as s:
        return {(p.channel, p.update_key) for p in s.scalars(select(ProcessedUpdate))}


def test_pruning_removes_old_keys_only(database):
    now = utcnow()
    with database.session() as s:
        s.add_all(
            [
                ProcessedUpdate(channel="telegram", update_key="777:1", processed_at=now - timedelta(days=8)),
                ProcessedUpdate(channel="telegram", update_key="777:2", processed_at=now - KEEP + timedelta(hours=1)),
                ProcessedUpdate(channel="telegram", update_key="15", processed_at=now - timedelta(days=30)),  # old form
                ProcessedUpdate(channel="web", update_key="m-old", processed_at=now - timedelta(days=10)),
                ProcessedUpdate(channel="web", update_key="m-new", processed_at=now),
            ]
        )  # fmt: skip
    assert prune(database) == 3
    assert keys(database) == {("telegram", "777:2"), ("web", "m-new")}
    assert prune(database) == 0


def test_a_key_is_claimed_once_and_again_only_after_it_expired(database):
    key = telegram_key("777000:SECRET", 5)
    assert key == "777000:5" and telegram_key("654321:OTHER", 5) != key
    with database.session() as s:
        assert claim(s, "telegram", key)
    with database.session() as s:
        assert not claim(s, "telegram", key)  # a redelivery
        assert claim(s, "web", key)  # channels do not share keys
    with database.session() as s:
        s.execute(update(ProcessedUpdate).values(processed_at=utcnow() - timedelta(days=8)))
    with database.session() as s:
        assert claim(s, "telegram", key)  # expired, not yet pruned: a restarted id sequence is answered
    with database.session() as s:
        assert not claim(s, "telegram", key)  # and claimed afresh


def test_the_web_chat_answers_a_message_id_once(bot_services, database):
    with serve_web_app(bot_services) as (url, _loop), httpx.Client(base_url=url, timeout=30) as client:
        first = client.post("/api/message", json={"text": "提案审查要多久？", "id": "msg-1"}).json()
        assert "十五个工作日" in first["replies"][0]["html"]
        again = client.post("/api/message", json={"text": "提案审查要多久？", "id": "msg-1"}).json()
        # the page sent the same message twice: the first answer is given again, nothing is answered twice
        assert again["replies"] == first["replies"]
        with database.session() as s:
            assert s.scalar(select(func.count()).select_from(QALog)) == 1
        with (
            database.session() as s
        ):  # the stored message is the key's record (no processed-update key besides)
            stored = select(func.count()).where(WebMessage.update_key == "msg-1", WebMessage.seq == 0)
            assert s.scalar(stored) == 1
        other = client.post("/api/message", json={"text": "提案审查要多久？", "id": "msg-2"}).json()
        assert "十五个工作日" in other["replies"][0]["html"]
