"""Periodic jobs of `lvzhi serve`: one loop that runs a piece of blocking work every interval until cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


async def run_every(
    interval_s: float,
    work: Callable[[], T],
    report: Callable[[T], None],
    what: str,
    *,
    wait_first: bool = False,
) -> None:
    """Run `work` in a worker thread every `interval_s` seconds until cancelled, passing its result to `report`.

    An error is logged as 「<what> failed」 with its traceback and never ends the loop; cancellation does. With
    wait_first the first run comes after one interval rather than at once.
    """
    if wait_first:
        await asyncio.sleep(interval_s)
    while True:
        try:
            report(await asyncio.to_thread(work))
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", what)
        await asyncio.sleep(interval_s)
