"""insert_once: INSERT … ON CONFLICT DO NOTHING, on SQLite and PostgreSQL, including two transactions at once."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.storage.insert_once import insert_once
from bot.storage.models import ProcessedUpdate


def test_a_key_is_inserted_once(database):
    with database.session() as s:
        assert insert_once(s, ProcessedUpdate, channel="web", update_key="k1")
        assert not insert_once(s, ProcessedUpdate, channel="web", update_key="k1")  # same transaction
        assert insert_once(s, ProcessedUpdate, channel="telegram", update_key="k1")  # another key
    with database.session() as s:
        assert not insert_once(s, ProcessedUpdate, channel="web", update_key="k1")  # committed before
        rows = s.scalars(select(ProcessedUpdate).order_by(ProcessedUpdate.channel)).all()
        assert [(r.channel, r.update_key) for r in rows] == [("telegram", "k1"), ("web", "k1")]
        assert all(r.processed_at is not None for r in rows)  # the model's default applied


def test_concurrent_inserts_of_one_key_insert_one_row(database):
    inserted: list[bool] = []
    start = threading.Barrier(4)

    def worker() -> None:
        start.wait(30)
        with database.session() as s:
            inserted.append(insert_once(s, ProcessedUpdate, channel="web", update_key="race"))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(inserted) == [False, False, False, True]
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(ProcessedUpdate)) == 1


def test_a_rolled_back_insert_leaves_the_key_free(database):
    try:
        with database.session() as s:
            assert insert_once(s, ProcessedUpdate, channel="web", update_key="undone")
            raise RuntimeError("the rest of the transaction failed")
    except RuntimeError:
        pass
    with database.session() as s:
        assert insert_once(s, ProcessedUpdate, channel="web", update_key="undone")
