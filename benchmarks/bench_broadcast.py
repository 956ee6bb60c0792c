"""Benchmark: broadcast to 5,000 members through a loopback Bot API with python-telegram-bot's real Bot.

Some chats answer 403 (blocked), every N-th call answers 429 with retry_after; optionally the run is
interrupted midway (like a crash) and resumed. Prints time, messages per second, repeats and losses.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, select
from telegram import Bot
from telegram.request import HTTPXRequest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from botapi_loopback import TOKEN, LoopbackBotAPI  # noqa: E402

from bot.campaigns.broadcast import Button, broadcast  # noqa: E402
from bot.campaigns.deliveries import SqlDeliveryStore  # noqa: E402
from bot.campaigns.models import Campaign  # noqa: E402
from bot.campaigns.telegram_send import telegram_sender  # noqa: E402
from bot.storage import Database  # noqa: E402
from bot.storage.models import ChatIdentity  # noqa: E402


def setup(db: Database, members: int) -> tuple[int, SqlDeliveryStore]:
    """A campaign and `members` chat identities as its audience."""
    now = datetime.now(UTC)
    with db.session() as s:
        campaign = Campaign(title="我为青川发展献一策", starts_at=now, ends_at=now + timedelta(days=7))
        s.add(campaign)
        s.execute(
            insert(ChatIdentity),
            [
                {"channel": "telegram", "external_id": str(10_000 + i), "chat_id": str(10_000 + i)}
                for i in range(members)
            ],
        )
        s.flush()
        campaign_id = campaign.id
        audience = list(s.execute(select(ChatIdentity.chat_id, ChatIdentity.id)))
    store = SqlDeliveryStore(db)
    store.add_recipients(campaign_id, audience)
    return campaign_id, store


async def run(args: argparse.Namespace) -> None:
    """Start the stand-in, broadcast (with an optional crash and resume) and print the figures."""
    blocked = {str(10_000 + i) for i in range(0, args.members, args.block_every)}
    api = LoopbackBotAPI(blocked=blocked, flood_every=args.flood_every, retry_after=1, latency_s=args.latency)
    base_url = await api.start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")
        db.migrate()
        campaign_id, store = setup(db, args.members)
        request = HTTPXRequest(connection_pool_size=args.concurrency + 2)
        async with Bot(TOKEN, base_url=base_url, request=request) as bot:
            send = telegram_sender(bot)
            buttons = [[Button("我要参与", data=f"camp:{campaign_id}:join")]]
            started = time.perf_counter()
            kwargs = {"rate": args.rate, "concurrency": args.concurrency}
            if args.crash_after:
                task = asyncio.create_task(
                    broadcast(campaign_id, "<b>邀请</b>", buttons, store, send, **kwargs)
                )
                while api.calls < args.crash_after:
                    await asyncio.sleep(0.05)
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
                print(f"interrupted after {api.calls} API calls; resuming")
            result = await broadcast(campaign_id, "<b>邀请</b>", buttons, store, send, **kwargs)
            elapsed = time.perf_counter() - started
        db.dispose()
    await api.stop()
    twice = sum(1 for c in api.delivered.values() if c > 1)
    lost = args.members - result.sent - result.blocked - result.failed - result.unknown
    never_reached = args.members - len(blocked) - len(api.delivered)
    print(f"members: {args.members}, rate limit {args.rate}/s, concurrency {args.concurrency}")
    print(f"time: {elapsed:.1f} s, messages per second: {(result.sent + result.blocked) / elapsed:.1f}")
    print(f"sent {result.sent}, blocked {result.blocked}, failed {result.failed}, unknown {result.unknown}")
    print(
        f"429 answers: {api.floods}; delivered twice: {twice}; rows lost: {lost}; unreached non-blocked: {never_reached}"
    )


def main() -> None:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--members", type=int, default=5000)
    parser.add_argument("--rate", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--block-every", type=int, default=50, help="every N-th member has blocked the bot")
    parser.add_argument("--flood-every", type=int, default=1000, help="every N-th API call answers 429")
    parser.add_argument("--latency", type=float, default=0.05, help="stand-in latency per call, seconds")
    parser.add_argument("--crash-after", type=int, default=0, help="interrupt after N API calls, then resume")
    asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    main()
