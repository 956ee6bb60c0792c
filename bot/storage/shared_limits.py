"""Limits shared by every replica on one PostgreSQL: a send rate (GCRA) and a per-key flood counter.

Why PostgreSQL and not Redis: every replica already holds PostgreSQL connections, one reservation is a single
upsert of one row (about 0.3 ms on loopback, README "Running several replicas"), and Telegram's limit is 30
messages/s — two orders of magnitude below what one row can take — so a second stateful service would add a
part to run without adding capacity that is needed. On SQLite (one process) the in-process limiters are used.

The rate is the generic cell rate algorithm (ITU-T I.371 virtual scheduling): each key keeps `tat`, the
theoretical arrival time of the next send in the database's clock (so replicas' clocks never matter); a
reservation moves it on by 1/rate and tells the caller how long to wait before sending.
"""

from __future__ import annotations

import asyncio
import time

from sqlalchemy import text

from bot.storage.db import Database

# A counter lost in a crash is harmless: no need to wait for the WAL flush (the tables are UNLOGGED as well).
_NO_FLUSH = text("SET LOCAL synchronous_commit = off")
_RESERVE = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
    INSERT INTO rate_slots (key, tat) SELECT :key, clock.now + :step FROM clock
    ON CONFLICT (key) DO UPDATE SET tat = GREATEST(rate_slots.tat, EXCLUDED.tat - :step) + :step
    RETURNING tat - :step - :tolerance - (SELECT now FROM clock)
    """
)
_PAUSE = text(
    """
    WITH clock AS (SELECT extract(epoch FROM clock_timestamp())::float8 AS now)
    INSERT INTO rate_slots (key, tat) SELECT :key, clock.now + :seconds FROM clock
    ON CONFLICT (key) DO UPDATE SET tat = GREATEST(rate_slots.tat, EXCLUDED.tat)
    """
)
_FLOOD = text(
    """
    INSERT INTO flood_counts (key, "window", count) VALUES (:key, :window, 1)
    ON CONFLICT (key, "window") DO UPDATE SET count = flood_counts.count + 1
    RETURNING count
    """
)


def reserve(db: Database, keys: list[tuple[str, float, int]]) -> float:
    """Reserve one send on every (key, rate per second, burst) in one transaction; seconds to wait (≥ 0).

    The reservation is made at once (a later caller queues behind it), so the caller must send after waiting.
    """
    wait = 0.0
    with db.engine.begin() as conn:
        conn.execute(_NO_FLUSH)
        for key, rate, burst in keys:
            step = 1.0 / rate
            got = conn.scalar(_RESERVE, {"key": key, "step": step, "tolerance": step * (max(1, burst) - 1)})
            wait = max(wait, float(got))
    return wait


def pause(db: Database, key: str, seconds: float) -> None:
    """No reservation on `key` starts within `seconds` from now (Telegram's 429 retry_after, for all replicas)."""
    with db.engine.begin() as conn:
        conn.execute(_NO_FLUSH)
        conn.execute(_PAUSE, {"key": key, "seconds": max(0.0, seconds)})


class SharedBucket:
    """The broadcast engine's bucket (acquire/pause, like TokenBucket) over the shared rate `key`."""

    def __init__(self, db: Database, key: str, rate: float, burst: int = 1) -> None:
        self.db, self.key, self.rate, self.burst = db, key, rate, burst

    async def acquire(self) -> None:
        """Wait for this caller's slot."""
        wait = await asyncio.to_thread(reserve, self.db, [(self.key, self.rate, self.burst)])
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        """Hold every replica's sends on the key for `seconds` (blocking: a short statement)."""
        pause(self.db, self.key, seconds)


class SharedFloodLimiter:
    """FloodLimiter's `check(key)` over a counter per key and fixed window in PostgreSQL, shared by replicas.

    At most `max_events` per window of `window_s` seconds (fixed windows: up to twice that across a window's
    edge, which a flood limit tolerates); 'ok', 'warn' for the first refusal in a window, then 'drop'.
    Old windows are removed by `prune`. Blocking: one statement (~0.3 ms on loopback).
    """

    def __init__(self, db: Database, max_events: int = 30, window_s: float = 60.0, prefix: str = "") -> None:
        self.db, self.max_events, self.window_s, self.prefix = db, max_events, window_s, prefix

    def check(self, key: str, now: float | None = None) -> str:
        """'ok', 'warn' or 'drop' for one more event of `key`."""
        window = int((time.time() if now is None else now) // self.window_s)
        with self.db.engine.begin() as conn:
            conn.execute(_NO_FLUSH)
            count = conn.scalar(_FLOOD, {"key": (self.prefix + key)[:200], "window": window})
        if count <= self.max_events:
            return "ok"
        return "warn" if count == self.max_events + 1 else "drop"

    def prune(self) -> int:
        """Delete windows that ended (the number deleted)."""
        window = int(time.time() // self.window_s)
        with self.db.engine.begin() as conn:
            return conn.execute(
                text('DELETE FROM flood_counts WHERE key LIKE :p AND "window" < :w'),
                {"p": self.prefix.replace("%", r"\%") + "%", "w": window},
            ).rowcount
