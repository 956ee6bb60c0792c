"""An asyncio token bucket: at most `rate` acquisitions per second overall, with a shared pause."""

from __future__ import annotations

import asyncio
import time


class TokenBucket:
    """Tokens refill at `rate` per second up to `capacity`; `pause` stops everyone for a while (HTTP 429)."""

    def __init__(self, rate: float, capacity: float = 1.0) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.capacity = max(1.0, capacity)
        self._tokens = self.capacity
        self._stamp = time.monotonic()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def pause(self, seconds: float) -> None:
        """No token is handed out for `seconds` from now (the longest pause wins)."""
        self._paused_until = max(self._paused_until, time.monotonic() + max(0.0, seconds))
        self._tokens = 0.0

    async def acquire(self) -> None:
        """Wait for a token; callers are served one at a time, in order."""
        async with self._lock:
            while True:
                now = time.monotonic()
                if now < self._paused_until:
                    await asyncio.sleep(self._paused_until - now)
                    self._stamp = time.monotonic()
                    continue
                self._tokens = min(self.capacity, self._tokens + (now - self._stamp) * self.rate)
                self._stamp = now
                if self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                await asyncio.sleep((1.0 - self._tokens) / self.rate)
