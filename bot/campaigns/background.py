"""Invitation broadcasts started from the staff pages, run in the background of `lvzhi serve`.

`lvzhi serve` attaches its running Telegram bot (`attach`); without one (no token, `--no-telegram`, tests of
other pages) the staff pages show the CLI command instead. At most one run per campaign in this process; the
engine itself (broadcast.py) keeps the at-most-once guarantee across processes and crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from bot.campaigns import invite
from bot.campaigns.telegram_send import telegram_sender
from bot.storage import Database

log = logging.getLogger(__name__)


@dataclass
class Broadcasts:
    """The bot to send with (None: not in this process), the runs per campaign and the last error of each."""

    bot: object | None = None
    rate: float = 25.0
    tasks: dict[int, asyncio.Task] = field(default_factory=dict)
    errors: dict[int, str] = field(default_factory=dict)

    def attach(self, bot: object | None) -> None:
        """Send through this python-telegram-bot Bot from now on (None: detach)."""
        self.bot = bot

    @property
    def available(self) -> bool:
        """Whether a broadcast can be started in this process."""
        return self.bot is not None

    def running(self, campaign_id: int) -> bool:
        """Whether a run for this campaign is under way in this process."""
        task = self.tasks.get(campaign_id)
        return task is not None and not task.done()

    async def start(self, db: Database, campaign_id: int, resend_unknown: bool = False) -> invite.Prepared:
        """Check the campaign and list its recipients now, then send in a background task; CampaignError if not."""
        if self.bot is None:
            raise RuntimeError("no Telegram bot in this process")
        prepared = await asyncio.to_thread(invite.prepare, db, campaign_id)
        if not self.running(prepared.campaign_id):
            self.errors.pop(prepared.campaign_id, None)
            send = telegram_sender(self.bot)  # type: ignore[arg-type]
            coro = invite.run(db, send, prepared.campaign_id, rate=self.rate, resend_unknown=resend_unknown)
            task = asyncio.create_task(coro, name=f"campaign-broadcast-{prepared.campaign_id}")
            task.add_done_callback(lambda t, key=prepared.campaign_id: self._done(key, t))
            self.tasks[prepared.campaign_id] = task
        return prepared

    def _done(self, campaign_id: int, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        if task.exception() is not None:
            log.error("campaign %s broadcast stopped: %r", campaign_id, task.exception())
            self.errors[campaign_id] = str(task.exception())[:300]
        else:
            log.info("campaign %s broadcast finished: %s", campaign_id, task.result()[1].counts)

    async def stop(self) -> None:
        """Cancel the runs (rows mid-send become `unknown` on the next run, never resent by themselves)."""
        for task in self.tasks.values():
            task.cancel()
        for task in self.tasks.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
