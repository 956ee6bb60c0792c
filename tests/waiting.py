"""Waiting on conditions with a deadline in seconds (never a count of polls, which a loaded machine exhausts)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
DEADLINE_S = 120.0  # generous: the suite must pass while stress-ng keeps both cores busy


async def until(condition: Callable[[], T], what: str, timeout: float = DEADLINE_S, every: float = 0.05) -> T:
    """Call `condition` every `every` seconds until it returns something truthy, and return that.

    Raises AssertionError naming `what` when `timeout` seconds pass first."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        await asyncio.sleep(every)


def until_sync(condition: Callable[[], T], what: str, timeout: float = DEADLINE_S, every: float = 0.05) -> T:
    """`until` for code without an event loop (Selenium, plain HTTP clients)."""
    deadline = time.monotonic() + timeout
    while True:
        got = condition()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)
