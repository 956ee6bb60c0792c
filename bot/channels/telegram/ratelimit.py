"""A python-telegram-bot rate limiter whose limits are shared by every replica (bot/storage/shared_limits.py).

Every Bot API call that carries a chat_id reserves a slot on the bot's overall rate ("tg:all",
settings.telegram_max_rate, Telegram's 30 messages/s) and on the chat's ("tg:chat:<id>": private chats
settings.telegram_chat_rate with a small burst, groups 20 per minute — Telegram Bots FAQ, "My bot is hitting
limits"), waits its turn and sends. A 429 pauses the overall rate for every replica for the retry_after asked.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram.error import RetryAfter
from telegram.ext import BaseRateLimiter

from bot.channels.telegram.sender import retry_after_s
from bot.storage import Database, shared_limits

log = logging.getLogger(__name__)
GROUP_RATE = 20 / 60.0  # messages/s to one group chat
OVERALL = "tg:all"


class SharedRateLimiter(BaseRateLimiter[None]):
    """Throttles calls with a chat_id by the shared limits; a 429 is retried up to `max_retries` times."""

    def __init__(
        self, db: Database, rate: float, chat_rate: float, chat_burst: int, max_retries: int = 3
    ) -> None:
        self.db, self.rate, self.chat_rate, self.chat_burst = db, rate, chat_rate, chat_burst
        self.max_retries = max_retries

    async def initialize(self) -> None:  # noqa: D102
        pass

    async def shutdown(self) -> None:  # noqa: D102
        pass

    def keys(self, chat_id: Any) -> list[tuple[str, float, int]]:
        """The (key, rate, burst) reservations of one call to `chat_id` (None: the overall one only)."""
        keys = [(OVERALL, self.rate, 1)]
        if chat_id is not None:
            group = str(chat_id).startswith("-")
            keys.append(
                (
                    f"tg:chat:{chat_id}",
                    GROUP_RATE if group else self.chat_rate,
                    1 if group else self.chat_burst,
                )
            )
        return keys

    async def process_request(self, callback, args, kwargs, endpoint, data, rate_limit_args):  # noqa: D102
        chat_id = data.get("chat_id")
        limited = chat_id is not None or endpoint in ("answerCallbackQuery",)
        for attempt in range(self.max_retries + 1):
            if limited:
                wait = await asyncio.to_thread(shared_limits.reserve, self.db, self.keys(chat_id))
                if wait > 0:
                    await asyncio.sleep(wait)
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                seconds = retry_after_s(exc)
                log.warning("429 from Telegram: every replica pauses %.1f s", seconds)
                await asyncio.to_thread(shared_limits.pause, self.db, OVERALL, seconds)
        raise AssertionError("unreachable")
