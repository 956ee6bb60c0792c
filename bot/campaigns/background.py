"""Invitation broadcasts started from the staff pages, run in the background of `lvzhi serve`.

`lvzhi serve` attaches its running Telegram bot (`attach`); without one (no token, `--no-telegram`, tests of
other pages) the staff pages show the CLI command instead. At most one run per campaign in this process; the
engine itself (broadcast.py) keeps the at-most-once guarantee across processes and crashes.

Several replicas: a run holds the lease "broadcast:<campaign id>" (bot/storage/leases.py), renewed every third of
`lease_s`, so one replica sends a campaign at a time. Every replica with a bot runs `resume_forever`: a campaign
with recipients still pending and no live holder (its replica died mid-run) is taken over after the lease; the
dead replica's rows in flight become `unknown` (reported, never resent), the pending rest is sent by the survivor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

from sqlalchemy import select

from bot.campaigns import invite, service
from bot.campaigns.models import CampaignDelivery
from bot.storage import Database
from bot.storage.leases import acquire_lease, lease_holder, release_lease

log = logging.getLogger(__name__)


@dataclass
class Broadcasts:
    """The bot to send with (None: not in this process), the runs per campaign and the last error of each.

    owner: this replica's id in the broadcast leases; lease_s: seconds a dead replica's run stays its own.
    """

    bot: object | None = None
    rate: float = 25.0
    owner: str = "local"
    lease_s: float = 60.0
    sends: bool = True  # False on a replica of role "web": a started broadcast is sent by a "sender" replica
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
        if not self.sends:  # the recipients are listed: a sender replica's resume_forever picks them up
            return prepared
        if not self.running(prepared.campaign_id):
            self.errors.pop(prepared.campaign_id, None)
            from bot.campaigns.telegram_send import telegram_sender  # python-telegram-bot: only with a bot

            send = telegram_sender(self.bot)  # type: ignore[arg-type]
            coro = self._leased_run(db, send, prepared.campaign_id, resend_unknown)
            task = asyncio.create_task(coro, name=f"campaign-broadcast-{prepared.campaign_id}")
            task.add_done_callback(lambda t, key=prepared.campaign_id: self._done(key, t))
            self.tasks[prepared.campaign_id] = task
        return prepared

    async def _leased_run(self, db: Database, send, campaign_id: int, resend_unknown: bool):
        """invite.run while holding the campaign's lease (renewed); None if another replica holds it."""
        name = f"broadcast:{campaign_id}"
        if not await asyncio.to_thread(acquire_lease, db, name, self.owner, self.lease_s):
            log.info("campaign %s is being sent by another replica", campaign_id)
            return None
        run = asyncio.create_task(
            invite.run(db, send, campaign_id, rate=self.rate, resend_unknown=resend_unknown)
        )

        async def keep() -> None:
            while not run.done():
                await asyncio.sleep(self.lease_s / 3)
                if not await asyncio.to_thread(acquire_lease, db, name, self.owner, self.lease_s):
                    log.error("campaign %s: lease lost, stopping this replica's run", campaign_id)
                    run.cancel()

        keeper = asyncio.create_task(keep())
        try:
            return await run
        finally:
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
            await asyncio.to_thread(release_lease, db, name, self.owner)  # also when stopped: rows mid-send
            # become `unknown` when the next holder reconciles them

    async def resume_once(self, db: Database) -> list[int]:
        """Start runs for campaigns with pending recipients that no live replica is sending (not closed ones);
        the campaign ids started here (their run may still find the lease taken and end at once)."""
        if self.bot is None:
            return []
        cids = await asyncio.to_thread(unfinished_campaigns, db)
        started = []
        for cid in cids:
            if self.running(cid) or await asyncio.to_thread(lease_holder, db, f"broadcast:{cid}"):
                continue  # sent here, or by a live replica: nothing to take over
            try:
                await self.start(db, cid)
            except service.CampaignError as exc:
                log.info("campaign %s not resumed: %s", cid, exc)
                continue
            started.append(cid)
        return started

    async def resume_forever(self, db: Database, interval_s: float) -> None:
        """resume_once every interval until cancelled; errors are logged, never fatal."""
        while True:
            try:
                await self.resume_once(db)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("resuming campaign broadcasts failed")
            await asyncio.sleep(interval_s)

    def _done(self, campaign_id: int, task: asyncio.Task) -> None:
        if task.cancelled():
            return
        if task.exception() is None and task.result() is None:
            return  # another replica holds the campaign
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


def unfinished_campaigns(db: Database) -> list[int]:
    """Campaigns with recipients still `pending` (a broadcast was started and not finished)."""
    with db.session() as s:
        return list(
            s.scalars(
                select(CampaignDelivery.campaign_id)
                .distinct()
                .where(CampaignDelivery.state == "pending")
                .order_by(CampaignDelivery.campaign_id)
            )
        )
