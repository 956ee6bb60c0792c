"""The periodic job of `lvzhi serve`: reminders the day before, and attendance into the duty record at the end."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select

from bot.activities import attendance, notices
from bot.activities.models import Activity
from bot.periodic import run_every
from bot.storage import Database
from bot.storage.models import utcnow

log = logging.getLogger(__name__)
CHECK_INTERVAL_S = 60.0
RECORD_WINDOW = timedelta(days=30)  # ended activities re-synced into the duty record for this long


def tick(db: Database, reminder_hours: float = 24.0, now: datetime | None = None) -> dict[str, int]:
    """One run: remind unanswered invitees of activities starting within `reminder_hours` (once each), and
    record attendance of activities ended within RECORD_WINDOW. Counts {"reminded": n, "recorded": n}."""
    now = now or utcnow()
    counts = {"reminded": 0, "recorded": 0}
    with db.session() as s:
        soon = s.scalars(
            select(Activity).where(
                Activity.status == "scheduled",
                Activity.starts_at > now,
                Activity.starts_at <= now + timedelta(hours=reminder_hours),
            )
        )
        for activity in soon:
            counts["reminded"] += notices.send_reminders(s, activity)
        ended = s.scalars(
            select(Activity).where(Activity.ends_at <= now, Activity.ends_at > now - RECORD_WINDOW)
        )
        for activity in ended:
            counts["recorded"] += attendance.sync_records(s, activity, now)
    return counts


async def run_forever(db: Database, reminder_hours: float, interval_s: float = CHECK_INTERVAL_S) -> None:
    """Run tick every interval until cancelled (bot.periodic.run_every: errors logged, never fatal; one replica at
    a time on PostgreSQL)."""

    def report(counts: dict[str, int]) -> None:
        if counts["reminded"]:
            log.info("活动提醒已排队：%s 人", counts["reminded"])

    await run_every(interval_s, lambda: tick(db, reminder_hours), report, "activity job", db=db)
