"""Broadcast engine on a real database: rate limit, blocked members, 429 pauses, crash and resume without repeats."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from botapi_loopback import TOKEN, LoopbackBotAPI
from sqlalchemy import select
from telegram import Bot

from bot.campaigns.broadcast import Button, RecipientBlocked, RetryLater, broadcast
from bot.campaigns.deliveries import SqlDeliveryStore
from bot.campaigns.models import Campaign
from bot.campaigns.telegram_send import telegram_sender
from bot.storage.models import ChatIdentity

BUTTONS = [[Button("我要参与", data="camp:1:join")]]


def make_campaign(database, members: int) -> tuple[int, SqlDeliveryStore]:
    now = datetime.now(UTC)
    with database.session() as s:
        campaign = Campaign(title="我为青川发展献一策", starts_at=now, ends_at=now + timedelta(days=7))
        s.add(campaign)
        s.add_all(
            ChatIdentity(channel="telegram", external_id=str(1000 + i), chat_id=str(1000 + i))
            for i in range(members)
        )
        s.flush()
        campaign_id = campaign.id
        ids = list(s.execute(select(ChatIdentity.chat_id, ChatIdentity.id).order_by(ChatIdentity.id)))
    store = SqlDeliveryStore(database)
    assert store.add_recipients(campaign_id, ids) == members
    assert store.add_recipients(campaign_id, ids) == 0  # adding the audience again adds nobody twice
    return campaign_id, store


class Channel:
    """A recording send(): some chats blocked, optional 429 on chosen calls, optional latency."""

    def __init__(self, blocked=(), flood_on=(), latency=0.0) -> None:
        self.blocked, self.flood_on, self.latency = set(blocked), set(flood_on), latency
        self.received: Counter = Counter()
        self.stamps: list[float] = []
        self.calls = 0

    async def __call__(self, chat_id: str, text: str, buttons) -> str:
        self.calls += 1
        self.stamps.append(time.monotonic())
        if self.calls in self.flood_on:
            raise RetryLater(0.3)
        await asyncio.sleep(self.latency)
        if chat_id in self.blocked:
            raise RecipientBlocked("Forbidden: bot was blocked by the user")
        self.received[chat_id] += 1
        return str(self.calls)


async def test_everyone_once_blocked_marked_and_rate_respected(database) -> None:
    campaign_id, store = make_campaign(database, 120)
    channel = Channel(blocked={"1003", "1050"}, latency=0.01)
    seen: list[dict] = []
    result = await broadcast(
        campaign_id, "邀请", BUTTONS, store, channel, rate=100, progress=seen.append, progress_every_s=0.2
    )
    assert (result.sent, result.blocked, result.failed, result.unknown) == (118, 2, 0, 0)
    assert max(channel.received.values()) == 1 and len(channel.received) == 118
    with database.session() as s:
        blocked = set(s.scalars(select(ChatIdentity.chat_id).where(ChatIdentity.blocked)))
    assert blocked == {"1003", "1050"}
    # the token bucket: never more than rate × window + 1 sends in any 0.25 s window
    stamps = channel.stamps
    assert max(sum(1 for t in stamps if s0 <= t < s0 + 0.25) for s0 in stamps) <= 100 * 0.25 + 1
    assert seen and seen[-1] == {"sent": 118, "blocked": 2}
    again = await broadcast(campaign_id, "邀请", BUTTONS, store, channel, rate=100)
    assert again.sent == 118 and channel.calls == 120  # a second run sends nothing


async def test_retry_after_pauses_everyone_and_loses_nothing(database) -> None:
    campaign_id, store = make_campaign(database, 30)
    channel = Channel(flood_on={5})
    result = await broadcast(campaign_id, "邀请", BUTTONS, store, channel, rate=1000, concurrency=4)
    assert result.sent == 30 and len(channel.received) == 30 and max(channel.received.values()) == 1
    flood_at = channel.stamps[4]
    later = [t for t in channel.stamps[5:] if t > flood_at]
    assert min(later) - flood_at >= 0.28  # nobody sent during the pause


async def test_crash_mid_broadcast_resumes_without_a_second_copy(database) -> None:
    campaign_id, store = make_campaign(database, 60)
    channel = Channel(latency=0.05)
    task = asyncio.create_task(
        broadcast(campaign_id, "邀请", BUTTONS, store, channel, rate=500, concurrency=6)
    )
    while sum(channel.received.values()) < 20:
        await asyncio.sleep(0.01)
    task.cancel()  # like a crash: in-flight rows stay 'sending', nothing is cleaned up
    with pytest.raises(asyncio.CancelledError):
        await task
    in_flight = store.counts(campaign_id).get("sending", 0)
    assert 1 <= in_flight <= 6
    result = await broadcast(campaign_id, "邀请", BUTTONS, store, channel, rate=500, concurrency=6)
    assert result.reconciled == in_flight and result.unknown == in_flight
    assert result.sent + result.unknown == 60
    assert max(channel.received.values()) == 1  # at most once
    assert len(channel.received) == result.sent
    unknown = store.chats_in_state(campaign_id, "unknown")
    assert all(channel.received[c] == 0 for c in unknown)  # cancelled before the channel got them
    final = await broadcast(campaign_id, "邀请", BUTTONS, store, channel, rate=500, resend_unknown=True)
    assert final.sent == 60 and final.unknown == 0 and max(channel.received.values()) == 1


async def test_real_bot_against_loopback_api(database) -> None:
    campaign_id, store = make_campaign(database, 40)
    api = LoopbackBotAPI(blocked={"1007"}, flood_every=15, retry_after=1)
    base_url = await api.start()
    try:
        async with Bot(TOKEN, base_url=base_url) as bot:
            result = await broadcast(
                campaign_id,
                "<b>邀请</b>参与征集",
                BUTTONS,
                store,
                telegram_sender(bot),
                rate=200,
                concurrency=5,
            )
    finally:
        await api.stop()
    assert (result.sent, result.blocked, result.failed) == (39, 1, 0)
    assert api.floods >= 2 and max(api.delivered.values()) == 1 and len(api.delivered) == 39
    assert api.texts["1000"] == "<b>邀请</b>参与征集"
    assert api.markups["1000"]["inline_keyboard"][0][0]["callback_data"] == "camp:1:join"
