"""Delays for staff password guessing, per account and per client address, that a stranger cannot turn into a
long lockout of a real user.

Each failed login counts against the (normalised) username and against the client address. After `free` failures
on a key, every further failure doubles that key's wait before the next attempt: 2 s, 4 s, 8 s, … up to
`address_max_s` for an address and `account_max_s` for an account. The account's cap is short (a minute by default)
because anyone can fail logins for any username; the address's cap is long because only the guesser uses it.
A successful login clears both keys. Own code: a few dozen lines of arithmetic over a dict; a rate-limit library
would not know this policy (a per-account cap that must stay short) and would add a dependency for it.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

BASE_DELAY_S = 2.0
MAX_KEYS = 20_000  # remembered keys; the oldest are forgotten beyond this


@dataclass
class _Count:
    failures: int
    last: float


class LoginThrottle:
    """Failed-login bookkeeping in memory (one web server process); times in seconds of time.monotonic()."""

    def __init__(self, free: int = 5, account_max_s: float = 60.0, address_max_s: float = 900.0) -> None:
        self.free, self.account_max_s, self.address_max_s = free, account_max_s, address_max_s
        self._keys: dict[str, _Count] = {}
        self._lock = threading.Lock()

    def _delay(self, key: str, cap: float) -> float:
        c = self._keys.get(key)
        if c is None or c.failures < self.free:
            return 0.0
        return min(cap, BASE_DELAY_S * 2 ** (c.failures - self.free))

    def wait(self, account: str, address: str, now: float | None = None) -> float:
        """Seconds before this account may be tried from this address (0.0: now)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            waits = []
            for key, cap in ((f"u:{account}", self.account_max_s), (f"a:{address}", self.address_max_s)):
                c = self._keys.get(key)
                if c is not None:
                    waits.append(c.last + self._delay(key, cap) - now)
            return max([0.0, *waits])

    def failed(self, account: str, address: str, now: float | None = None) -> None:
        """Count one failed login against the account and the address."""
        now = time.monotonic() if now is None else now
        with self._lock:
            if len(self._keys) >= MAX_KEYS:
                for key in sorted(self._keys, key=lambda k: self._keys[k].last)[: MAX_KEYS // 4]:
                    del self._keys[key]
            for key in (f"u:{account}", f"a:{address}"):
                c = self._keys.get(key)
                horizon = self.address_max_s * 2  # a key quiet this long starts again from zero
                if c is None or now - c.last > horizon:
                    self._keys[key] = _Count(1, now)
                else:
                    c.failures, c.last = c.failures + 1, now

    def succeeded(self, account: str, address: str) -> None:
        """A correct password: both counts start again."""
        with self._lock:
            self._keys.pop(f"u:{account}", None)
            self._keys.pop(f"a:{address}", None)
