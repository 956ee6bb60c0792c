"""The web chat writes a question in one transaction: the member's message, the update key, the chat turn, the
question log and the replies commit together (issue 9's serving cost); a failed answer still stores an apology
that a replay of the same key gets."""

from __future__ import annotations

import threading

import httpx
from sqlalchemy import event, func, select
from web_fixtures import serve_web_app

from bot.chat.texts import say
from bot.storage.models import ChatTurn, ProcessedUpdate, QALog, WebMessage

WRITES = ("INSERT", "UPDATE", "DELETE")
LIMITS = (
    "flood_counts",
    "rate_slots",
)  # the replicas' shared flood limits (PostgreSQL): not the chat's writes


class WriteTransactions:
    """Counts committed transactions that wrote the chat's tables (an INSERT, UPDATE or DELETE ran in them)."""

    def __init__(self, engine) -> None:
        self.count = 0
        self._lock = threading.Lock()
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)
        event.listen(engine, "rollback", lambda conn: conn.info.pop("wrote", None))

    def _statement(self, conn, _cursor, statement, *_args) -> None:
        if statement.lstrip().upper().startswith(WRITES) and not any(t in statement for t in LIMITS):
            conn.info["wrote"] = True

    def _commit(self, conn) -> None:
        if conn.info.pop("wrote", False):
            with self._lock:
                self.count += 1


def test_a_question_is_one_write_transaction(bot_services, database):
    writes = WriteTransactions(database.engine)
    with serve_web_app(bot_services) as (url, _loop), httpx.Client(base_url=url, timeout=60) as client:
        client.post(
            "/api/message", json={"text": "/help", "id": "open"}
        )  # opens the session (a write of its own)
        before = writes.count
        reply = client.post("/api/message", json={"text": "提案审查要多久？", "id": "q-1"}).json()
        assert "十五个工作日" in reply["replies"][0]["html"]
        assert writes.count - before == 1
        again = client.post("/api/message", json={"text": "提案审查要多久？", "id": "q-1"}).json()
        assert again["replies"] == reply["replies"]  # a replay: the stored replies, nothing written (below)
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(QALog)) == 1
        assert s.scalar(select(func.count()).select_from(ChatTurn)) == 1
        # the stored message is the key's record: no processed-update row besides it (one write fewer per message)
        assert s.scalar(select(func.count()).select_from(ProcessedUpdate)) == 0
        rows = s.scalars(
            select(WebMessage).where(WebMessage.update_key == "q-1").order_by(WebMessage.seq)
        ).all()
        assert [(r.seq, r.role) for r in rows] == [(0, "me"), (1, "bot")]
        assert (
            rows[0].answered_at is not None and rows[1].meta["qa_id"] == reply["replies"][0]["meta"]["qa_id"]
        )


def test_a_failed_answer_stores_the_apology_for_replays(bot_services, database, monkeypatch):
    calls: list[str] = []

    def broken(ref, event, ledger=None):
        calls.append(event.text)
        raise RuntimeError("disk full")

    monkeypatch.setattr(bot_services.assistant, "handle", broken)
    with serve_web_app(bot_services) as (url, _loop), httpx.Client(base_url=url, timeout=60) as client:
        first = client.post("/api/message", json={"text": "提案审查要多久？", "id": "x-1"}).json()
        again = client.post("/api/message", json={"text": "提案审查要多久？", "id": "x-1"}).json()
    assert [r["html"] for r in first["replies"]] == [say("apology")] and again == first
    assert calls[0] == "提案审查要多久？"  # the replay gets the stored apology whatever the Assistant does
    with database.session() as s:
        rows = s.scalars(
            select(WebMessage).where(WebMessage.update_key == "x-1").order_by(WebMessage.seq)
        ).all()
        assert [(r.seq, r.role, r.html) for r in rows] == [
            (0, "me", "提案审查要多久？"),
            (1, "bot", say("apology")),
        ]
        assert s.scalar(select(func.count()).select_from(QALog)) == 0


def test_a_replayed_question_is_not_answered_again(bot_services, database, monkeypatch):
    """A retry of a message whose first request was answered (the page's retry, another replica) gets the stored
    replies without paying for a second answer (an LLM's, say) that it would not give."""
    answered: list[str] = []
    real = bot_services.assistant.answerer.answer

    def counting(question, *args, **kwargs):
        answered.append(question)
        return real(question, *args, **kwargs)

    monkeypatch.setattr(bot_services.assistant.answerer, "answer", counting)
    with serve_web_app(bot_services) as (url, _loop), httpx.Client(base_url=url, timeout=60) as client:
        first = client.post("/api/message", json={"text": "提案审查要多久？", "id": "q-7"}).json()
        again = client.post("/api/message", json={"text": "提案审查要多久？", "id": "q-7"}).json()
        other = client.post("/api/message", json={"text": "提案审查要多久？", "id": "q-8"}).json()
    assert again["replies"] == first["replies"] and "十五个工作日" in other["replies"][0]["html"]
    assert answered == ["提案审查要多久？", "提案审查要多久？"]  # the first and the new key, not the replay
