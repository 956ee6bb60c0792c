"""Periodic jobs of `lvzhi serve`: one loop that runs a piece of blocking work every interval until cancelled."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from bot.storage import Database

log = logging.getLogger(__name__)
T = TypeVar("T")


async def run_every(
    interval_s: float,
    work: Callable[[], T],
    report: Callable[[T], None],
    what: str,
    *,
    wait_first: bool = False,
    db: Database | None = None,
) -> None:
    """Run `work` in a worker thread every `interval_s` seconds until cancelled, passing its result to `report`.

    An error is logged as 「<what> failed」 with its traceback and never ends the loop; cancellation does. With
    wait_first the first run comes after one interval rather than at once. With `db`, a run is skipped (nothing
    reported) while another replica on the same PostgreSQL runs the job named `what`
    (bot.storage.leases.run_exclusive), so several replicas never run one job at once.
    """
    from bot.storage.leases import run_exclusive

    if wait_first:
        await asyncio.sleep(interval_s)
    while True:
        try:
            if db is None:
                report(await asyncio.to_thread(work))
            else:
                ran, result = await asyncio.to_thread(run_exclusive, db, what, work)
                if ran:
                    report(result)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s failed", what)
        await asyncio.sleep(interval_s)
