"""The pieces that let replicas share work, in one process on SQLite and PostgreSQL: outbox claims, leases, job and
leader locks, shared limits, the versioned lexical index and the knowledge base's switch (issue 12)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from replica_harness import wait_for
from sqlalchemy import update

from bot.chat import outbox
from bot.storage.leases import LeaderLock, acquire_lease, lease_holder, release_lease, run_exclusive
from bot.storage.models import ChatIdentity, Notification, utcnow


def _notes(database, chats: list[str]) -> list[int]:
    with database.session() as s:
        ids = []
        for n, chat in enumerate(chats):
            ident = ChatIdentity(channel="telegram", external_id=f"{chat}-{n}", chat_id=chat)
            s.add(ident)
            s.flush()
            note = Notification(identity_id=ident.id, channel="telegram", chat_id=chat, html=f"消息{n}")
            s.add(note)
            s.flush()
            ids.append(note.id)
        return ids


def test_outbox_claims_never_overlap_and_keep_a_chats_order(database) -> None:
    ids = _notes(database, ["1", "2", "1", "3"])
    a = outbox.claim(database, "telegram", "A", lease_s=60, limit=2)
    assert [n.id for n in a] == ids[:2]
    b = outbox.claim(database, "telegram", "B", lease_s=60)
    # chat 1's second message waits behind its first (held by A); chat 3's is free
    assert [n.id for n in b] == [ids[3]]
    assert outbox.claim(database, "telegram", "B", lease_s=60) == [n for n in b]  # B renews its own
    assert outbox.start_piece(database, ids[0], "A", 0) and not outbox.start_piece(database, ids[0], "B", 0)


def test_a_message_left_in_flight_by_a_dead_replica_is_unknown_and_never_resent(database) -> None:
    ids = _notes(database, ["5", "6"])
    claimed = outbox.claim(database, "telegram", "dead", lease_s=60)
    assert {n.id for n in claimed} == set(ids)
    assert outbox.start_piece(database, ids[0], "dead", 0)  # …and the process died during the send
    with database.session() as s:  # its lease runs out
        s.execute(update(Notification).values(claimed_until=utcnow() - timedelta(seconds=1)))
    taken = outbox.claim(database, "telegram", "alive", lease_s=60)
    assert [n.id for n in taken] == [ids[1]]  # the untouched one is delivered by the survivor
    assert not outbox.start_piece(database, ids[0], "dead", 1)  # the dead one can no longer send it
    with database.session() as s:
        lost = s.get(Notification, ids[0])
        assert lost.failed_at is not None and lost.sent_at is None and outbox.INTERRUPTED in lost.last_error
    assert outbox.unknown_count(database, "telegram") == 1
    assert outbox.claim(database, "telegram", "alive2", lease_s=60) == []


def test_a_lease_is_held_by_one_replica_until_it_expires(database) -> None:
    assert acquire_lease(database, "broadcast:1", "r1", 60)
    assert not acquire_lease(database, "broadcast:1", "r2", 60)
    assert acquire_lease(database, "broadcast:1", "r1", 0.01)  # renewed, shortly
    wait_for(lambda: acquire_lease(database, "broadcast:1", "r2", 60), 5, "r1's lease expiring")
    assert lease_holder(database, "broadcast:1") == "r2"
    release_lease(database, "broadcast:1", "r1")  # not the holder: nothing happens
    assert lease_holder(database, "broadcast:1") == "r2"
    release_lease(database, "broadcast:1", "r2")
    assert lease_holder(database, "broadcast:1") is None


def test_a_periodic_job_runs_on_one_replica_at_a_time(database) -> None:
    inside, release = threading.Event(), threading.Event()

    def slow() -> str:
        inside.set()
        release.wait(10)
        return "done"

    results = []
    worker = threading.Thread(target=lambda: results.append(run_exclusive(database, "job", slow)))
    worker.start()
    inside.wait(10)
    second = run_exclusive(database, "job", lambda: "also")
    release.set()
    worker.join(10)
    assert results == [(True, "done")]
    if database.dialect == "postgresql":
        assert second == (False, None)  # another replica skipped the run
    else:
        assert second == (True, "also")  # SQLite: one process, no lock
    assert run_exclusive(database, "job", lambda: "again") == (True, "again")


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_the_polling_lock_has_one_holder_and_passes_on_when_it_is_gone(database) -> None:
    first, second = LeaderLock(database, "telegram-polling"), LeaderLock(database, "telegram-polling")
    assert first.try_acquire() and first.still_held()
    assert not second.try_acquire()
    first._conn.invalidate()  # the holder's connection drops (its process died): PostgreSQL frees the lock
    first._conn = None
    assert not first.still_held()
    wait_for(second.try_acquire, 10, "PostgreSQL ending the dead session")  # its backend exits asynchronously
    second.release()


@pytest.mark.parametrize("db_url", ["postgresql"], indirect=True)
def test_shared_rate_and_flood_limits(database) -> None:
    from bot.storage.shared_limits import SharedFloodLimiter, pause, reserve

    waits = [reserve(database, [("tg:all", 10.0, 1)]) for _ in range(5)]
    # GCRA at 10/s: the first goes at once, each next one 0.1 s after the previous reservation
    assert waits[0] <= 0.0 and all(0.05 < b - a < 0.15 for a, b in zip(waits, waits[1:], strict=False))
    pause(database, "tg:all", 2.0)
    assert reserve(database, [("tg:all", 10.0, 1)]) > 1.5  # a 429 holds every replica
    burst = [reserve(database, [("tg:chat:9", 1.0, 3)]) for _ in range(4)]
    assert max(burst[:3]) <= 0.0 < burst[3]  # three to one chat at once, then one a second
    flood = SharedFloodLimiter(database, max_events=3, window_s=60, prefix="t:")
    other = SharedFloodLimiter(database, max_events=3, window_s=60, prefix="t:")  # another replica
    verdicts = [flood.check("m1", now=120.0), other.check("m1", now=121.0), flood.check("m1", now=122.0)]
    assert verdicts == ["ok"] * 3
    assert [other.check("m1", now=123.0), flood.check("m1", now=124.0)] == ["warn", "drop"]
    assert flood.check("m1", now=181.0) == "ok"  # the next window
    assert flood.check("m2", now=124.0) == "ok"


def test_a_lexical_index_version_is_read_whole_and_the_knowledge_base_switches(
    tmp_path, make_settings
) -> None:
    from bot.knowledge.base import KnowledgeBase
    from bot.knowledge.lexical import CURRENT, LexicalIndex, current_version
    from bot.knowledge.types import Chunk

    settings = make_settings(dense_index=False)
    lexical_dir = settings.resolved_index_dir / "lexical"
    first = LexicalIndex.open(lexical_dir)
    first.add(
        [
            Chunk(
                "a:0:x",
                "a",
                "青川市政协委员学习培训办法",
                "第三条",
                "委员每年参加学习培训不少于四十学时。",
                0,
            )
        ]
    )
    first.save()
    v1 = current_version(lexical_dir)
    kb = KnowledgeBase.open(settings)
    assert kb.lexical.version == v1 and kb.search("学习培训学时")[0].doc == "a"
    # a writer that has written a version but not flipped CURRENT yet: nobody reads it
    writer = LexicalIndex.open(lexical_dir)
    writer.add(
        [
            Chunk(
                "b:0:y",
                "b",
                "青川市政协委员联系界别群众办法",
                "第二条",
                "委员每季度至少走访界别群众一次。",
                0,
            )
        ]
    )
    writer._build()
    half = lexical_dir / "v9999999999999999999"
    half.mkdir()
    (half / "chunks.jsonl").write_text("{", encoding="utf-8")  # half-written
    assert not kb.reload() and kb.lexical.version == v1
    assert LexicalIndex.open(lexical_dir).version == v1
    writer.save()  # complete, then the pointer flips
    assert (lexical_dir / CURRENT).read_text(encoding="utf-8").strip() == writer.version != v1
    kb._next_check = 0.0
    passages = kb.search("委员多久走访界别群众")  # the per-question check notices the new version
    assert kb.lexical.version == writer.version and passages[0].doc == "b"
    assert kb.titles == ["青川市政协委员学习培训办法", "青川市政协委员联系界别群众办法"]
