"""The periodic job of `lvzhi serve`: open campaigns at their start, close them at their end."""

from __future__ import annotations

import logging

from bot.campaigns import service
from bot.periodic import run_every
from bot.storage import Database

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 30.0  # answers are also checked at submit time, so a late job never lets one through


def sync_once(db: Database) -> dict[str, list[int]]:
    """Bring every campaign's status in line with its dates; ids opened and closed."""
    with db.session() as s:
        return service.sync_statuses(s)


async def run_forever(db: Database, interval_s: float = CHECK_INTERVAL_S) -> None:
    """Run sync_once every interval until cancelled; errors are logged, never fatal."""

    def report(changed: dict[str, list[int]]) -> None:
        for status, ids in changed.items():
            if ids:
                log.info("征集活动状态更新为 %s：%s", status, ids)

    await run_every(interval_s, lambda: sync_once(db), report, "campaign status job", db=db)
