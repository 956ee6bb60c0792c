"""Per-user flood limit shared by channels: a sliding window of recent events per user."""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque

MAX_KEYS = 10_000  # keys remembered before quiet ones are dropped


class FloodLimiter:
    """Allows at most `max_events` per `window_s` seconds per key; safe to call from several threads (Telegram's and
    the web's checks run in worker threads, as the shared PostgreSQL limiter's statement must)."""

    def __init__(self, max_events: int = 30, window_s: float = 60.0) -> None:
        self.max_events = max_events
        self.window_s = window_s
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._warned: dict[str, float] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> str:
        """'ok', 'warn' (first refusal in a window: tell the user) or 'drop'."""
        with self._lock:  # the time read inside: each key's deque stays in time order
            return self._check(key, time.monotonic() if now is None else now)

    def _check(self, key: str, now: float) -> str:
        if len(self._events) > MAX_KEYS:  # many one-off keys (addresses, cookies): forget the quiet ones
            for k in [k for k, d in self._events.items() if not d or now - d[-1] > self.window_s]:
                del self._events[k]
                self._warned.pop(k, None)
        q = self._events[key]
        while q and now - q[0] > self.window_s:
            q.popleft()
        if len(q) < self.max_events:
            q.append(now)
            self._warned.pop(key, None)
            return "ok"
        if now - self._warned.get(key, -1e9) > self.window_s:
            self._warned[key] = now
            return "warn"
        return "drop"
