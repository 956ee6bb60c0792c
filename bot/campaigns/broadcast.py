"""Resumable, rate-limited broadcast of a campaign invitation, independent of the messaging channel.

Delivery is AT-MOST-ONCE. A row is marked `sending` in the database before the send call and `sent`,
`failed` or `blocked` after it. A crash between the two leaves the row `sending`; on resume such rows become
`unknown` and are NOT sent again, because the Bot API has no idempotency key and a message may already have
arrived. The office's rule is "never a second copy", so a handful of possibly-missed recipients (at most
`concurrency` per crash) is the cheaper error; they are counted and listed for staff, who can resend them
(`resend_unknown=True`). Rows still `pending` are simply continued. A 429 (retry later) means the message
was not sent, so it is retried after the pause.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from bot.campaigns.ratelimit import TokenBucket


@dataclass(frozen=True)
class Button:
    """A channel-neutral button: a callback payload or a link."""

    text: str
    data: str | None = None
    url: str | None = None


class RetryLater(Exception):
    """The channel asks to pause all sending for `seconds` (Telegram's 429 RetryAfter); nothing was sent."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"retry after {seconds} s")
        self.seconds = seconds


class RecipientBlocked(Exception):
    """The recipient blocked the bot or left (Telegram's 403 Forbidden)."""


class SendFailed(Exception):
    """A failed send; `maybe_delivered` when the outcome is unknown (e.g. a timeout after the request left)."""

    def __init__(self, reason: str, maybe_delivered: bool = False) -> None:
        super().__init__(reason)
        self.maybe_delivered = maybe_delivered


Send = Callable[[str, str, Sequence[Sequence[Button]]], Awaitable[str | None]]


@dataclass(frozen=True)
class Claimed:
    """A recipient claimed for sending."""

    delivery_id: int
    chat_id: str


class DeliveryStore(Protocol):
    """What the engine needs from storage (SqlDeliveryStore is the real one)."""

    def reconcile(self, campaign_id: int, resend_unknown: bool) -> int: ...
    def claim(self, campaign_id: int) -> Claimed | None: ...
    def finish(self, delivery_id: int, state: str, message_id: str = "", error: str = "") -> None: ...
    def mark_blocked(self, chat_id: str) -> None: ...
    def counts(self, campaign_id: int) -> dict[str, int]: ...


@dataclass
class BroadcastResult:
    """Counts per state after a run, and the time it took."""

    counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    reconciled: int = 0

    @property
    def sent(self) -> int:
        """Delivered."""
        return self.counts.get("sent", 0)

    @property
    def failed(self) -> int:
        """Refused by the channel for another reason (e.g. chat not found)."""
        return self.counts.get("failed", 0)

    @property
    def blocked(self) -> int:
        """The member blocked the bot."""
        return self.counts.get("blocked", 0)

    @property
    def unknown(self) -> int:
        """Interrupted mid-send (crash or timeout): maybe delivered, never resent automatically."""
        return self.counts.get("unknown", 0)

    @property
    def total(self) -> int:
        """All recipients of the campaign."""
        return sum(self.counts.values())


Progress = Callable[[dict[str, int]], Any]


async def broadcast(
    campaign_id: int,
    text: str,
    buttons: Sequence[Sequence[Button]],
    store: DeliveryStore,
    send: Send,
    *,
    rate: float = 30.0,
    concurrency: int = 8,
    max_retries: int = 5,
    progress: Progress | None = None,
    progress_every_s: float = 1.0,
    resend_unknown: bool = False,
) -> BroadcastResult:
    """Send to every pending recipient of the campaign; safe to call again after a crash."""
    started = time.monotonic()
    reconciled = store.reconcile(campaign_id, resend_unknown)
    bucket = TokenBucket(rate)
    last_report = [0.0]

    async def report(force: bool = False) -> None:
        now = time.monotonic()
        if progress is not None and (force or now - last_report[0] >= progress_every_s):
            last_report[0] = now
            outcome = progress(store.counts(campaign_id))
            if inspect.isawaitable(outcome):
                await outcome

    async def worker() -> None:
        while True:
            await bucket.acquire()
            claimed = store.claim(campaign_id)
            if claimed is None:
                return
            await _deliver(claimed, text, buttons, store, send, bucket, max_retries)
            await report()

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    await report(force=True)
    return BroadcastResult(
        counts=store.counts(campaign_id), seconds=time.monotonic() - started, reconciled=reconciled
    )


async def _deliver(
    claimed: Claimed,
    text: str,
    buttons: Sequence[Sequence[Button]],
    store: DeliveryStore,
    send: Send,
    bucket: TokenBucket,
    max_retries: int,
) -> None:
    """One recipient: send, pausing everyone on RetryLater, and record the outcome."""
    for attempt in range(max_retries + 1):
        try:
            message_id = await send(claimed.chat_id, text, buttons)
        except RetryLater as exc:
            if attempt == max_retries:
                store.finish(claimed.delivery_id, "failed", error=f"多次被限流：{exc}")
                return
            bucket.pause(exc.seconds)
            await bucket.acquire()
            continue
        except RecipientBlocked as exc:
            store.finish(claimed.delivery_id, "blocked", error=str(exc))
            store.mark_blocked(claimed.chat_id)
            return
        except SendFailed as exc:
            store.finish(claimed.delivery_id, "unknown" if exc.maybe_delivered else "failed", error=str(exc))
            return
        store.finish(claimed.delivery_id, "sent", message_id=str(message_id or ""))
        return
