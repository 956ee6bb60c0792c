"""Work shared by several replicas on one database: leases with expiry, per-job locks and a leader lock.

All three are PostgreSQL's own mechanisms where it has them — row locks (`SELECT … FOR UPDATE SKIP LOCKED`,
used by the claimers in bot/chat/outbox.py), advisory locks (`pg_try_advisory_xact_lock` for one run of a
periodic job, session `pg_try_advisory_lock` for the long-polling leader, released by PostgreSQL itself when the
holder's connection drops) — plus a small lease table for work that outlives one transaction (a broadcast).
On SQLite one process is assumed: every lock is granted.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from sqlalchemy import Connection, delete, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.storage.db import Database
from bot.storage.models import WorkLease, utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")


def lock_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for a name (first 8 bytes of its SHA-256)."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def acquire_lease(db: Database, name: str, owner: str, seconds: float) -> bool:
    """Take or renew the lease `name` for `seconds`; True if `owner` holds it now.

    Granted when nobody holds it, when `owner` already holds it (renewal) or when the holder's lease expired
    (its replica died or stalled). The conditional UPDATE runs under the row lock, so two replicas never both win.
    """
    now = utcnow()
    until = now + timedelta(seconds=seconds)
    with db.session() as s:
        won = s.execute(
            update(WorkLease)
            .where(WorkLease.name == name, (WorkLease.owner == owner) | (WorkLease.expires_at < now))
            .values(owner=owner, expires_at=until)
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            return True
        if s.get(WorkLease, name) is not None:
            return False
        try:
            with s.begin_nested():
                s.add(WorkLease(name=name, owner=owner, expires_at=until))
            return True
        except IntegrityError:  # another replica created it first
            return False


def release_lease(db: Database, name: str, owner: str) -> None:
    """Give the lease up (only if `owner` holds it)."""
    with db.session() as s:
        s.execute(delete(WorkLease).where(WorkLease.name == name, WorkLease.owner == owner))


def lease_holder(db: Database, name: str) -> str | None:
    """The replica holding an unexpired lease `name`, or None."""
    with db.session() as s:
        return s.scalar(
            select(WorkLease.owner).where(WorkLease.name == name, WorkLease.expires_at >= utcnow())
        )


def job_lock(s: Session, name: str) -> bool:
    """Lock the periodic job `name` for the session's transaction; False if another replica runs it now.

    PostgreSQL: `pg_try_advisory_xact_lock`, released at commit or rollback. SQLite: always True.
    """
    if s.get_bind().dialect.name != "postgresql":
        return True
    return bool(s.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": lock_key("job:" + name)}))


class LeaderLock:
    """A session-level advisory lock held on a connection of its own (e.g. "the replica that polls Telegram").

    `try_acquire()` → True once held; `still_held()` checks the connection is alive (a lost connection means
    PostgreSQL has released the lock and another replica may hold it now); `release()` gives it up. When the
    holder dies, PostgreSQL ends its session and releases the lock at once. On SQLite: always held.
    Blocking calls: run them in a worker thread from async code.
    """

    def __init__(self, db: Database, name: str) -> None:
        self.db = db
        self.name = name
        self.key = lock_key("leader:" + name)
        self._conn: Connection | None = None
        self.held = False

    def try_acquire(self) -> bool:
        """Try once (no waiting); True if this replica now holds the lock."""
        if self.db.dialect != "postgresql":
            self.held = True
            return True
        if self.held and self.still_held():
            return True
        self._close()
        conn = self.db.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        if conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": self.key}):
            self._conn, self.held = conn, True
            return True
        conn.close()
        return False

    def still_held(self) -> bool:
        """True while the lock's connection answers (it is dropped and False returned otherwise)."""
        if self.db.dialect != "postgresql":
            return self.held
        if self._conn is None:
            return False
        try:
            self._conn.execute(text("SELECT 1"))
            return True
        except Exception as exc:  # the connection is gone: so is the lock
            log.warning("leader lock %s lost: %r", self.name, exc)
            self._close()
            return False

    def release(self) -> None:
        """Unlock and close the connection."""
        if self._conn is not None:
            try:
                self._conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": self.key})
            except Exception as exc:
                log.info("leader lock %s: unlock failed (connection gone): %r", self.name, exc)
        self._close()

    def _close(self) -> None:
        self.held = False
        if self._conn is not None:
            try:
                self._conn.invalidate()  # never return a lock-holding connection to the pool
                self._conn.close()
            except Exception as exc:
                log.debug("closing leader connection: %r", exc)
            self._conn = None


def serialise(s: Session, name: str) -> None:
    """Wait for and take the advisory transaction lock `name` (PostgreSQL): short critical sections such as a
    claim run one replica at a time and see each other's committed claims. SQLite: nothing to do."""
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock_key("serial:" + name)})


def run_exclusive(db: Database, name: str, work: Callable[[], T]) -> tuple[bool, T | None]:
    """Run `work` unless another replica is running the job `name` right now: (ran, its result).

    PostgreSQL: a session advisory lock (`pg_try_advisory_lock`) on a connection held for the run, released
    after it (and by PostgreSQL if this replica dies). SQLite: always runs.
    """
    if db.dialect != "postgresql":
        return True, work()
    key = lock_key("job:" + name)
    with db.engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        if not conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": key}):
            return False, None
        try:
            return True, work()
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": key})
