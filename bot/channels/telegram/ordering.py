"""Updates of different chats handled at the same time, those of one chat one after the other, in arrival order.

python-telegram-bot handles one update at a time by default: a member waiting for an answer (the chat's send rate,
a slow LLM, a database round trip) would hold every other member of the replica. This update processor lets up to
`max_concurrent` updates run at once and keeps each chat's updates in order (an asyncio lock per chat, taken in
the order the updates arrived), so a chat's flow state is never changed by two of its updates at once in one
process. Another replica may still take the chat's next update (webhook mode): the database keeps the state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class PerChatOrder(BaseUpdateProcessor):
    """Up to `max_concurrent` updates at once, one at a time per chat (or per user when an update has no chat);
    updates without either only wait for a slot. ValueError if `max_concurrent` < 1.

    An update first waits for its chat's earlier updates and only then takes one of the slots, so a chat that sends
    many updates while its answer is slow holds one slot, never all of them (PTB's own `process_update` takes the
    slot first: a flood from one chat would fill every slot with updates that only wait for their chat)."""

    def __init__(self, max_concurrent: int) -> None:
        super().__init__(max_concurrent)
        self._slots = asyncio.BoundedSemaphore(max_concurrent)
        # chat id -> (its lock, updates holding or waiting)
        self._locks: dict[int, tuple[asyncio.Lock, int]] = {}

    @staticmethod
    def chat_of(update: object) -> int | None:
        """The chat (else user) id an update belongs to; None for updates of neither."""
        if not isinstance(update, Update):
            return None
        if update.effective_chat is not None:
            return update.effective_chat.id
        return update.effective_user.id if update.effective_user is not None else None

    async def process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await `coroutine` once the update's chat has no earlier update running and a slot is free."""
        key = self.chat_of(update)
        if key is None:
            await self.do_process_update(update, coroutine)
            return
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:  # asyncio.Lock wakes its waiters first come, first served
                await self.do_process_update(update, coroutine)
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """Await `coroutine` in one of the `max_concurrent` slots."""
        async with self._slots:
            await coroutine

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free."""
