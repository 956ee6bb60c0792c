"""Runs the real Application (polling through the Bot API stand-in) and simulated members."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import Counter

from telegram import Update
from tg_standin import BOT_ID, BotApiStandIn, Call

from bot.channels.telegram import app as tg_app


class Harness:
    """One bot process: build, start (polling), restart and stop the Application."""

    def __init__(self, services, standin: BotApiStandIn | None = None) -> None:
        self.services = services
        self.api = standin or BotApiStandIn()
        self.app = None
        self.processed: Counter[int] = Counter()
        self._changed = asyncio.Event()

    def _track(self, app) -> None:
        """Count each update once the Application has fully processed it (test hook around process_update)."""
        original = app.process_update

        async def process_update(update: object) -> None:
            try:
                await original(update)
            finally:
                if isinstance(update, Update):
                    self.processed[update.update_id] += 1
                    self._changed.set()

        app.process_update = process_update

    async def start(self) -> None:
        """Build a fresh Application and start polling."""
        self.app = tg_app.build_application(self.services, self.api)
        self._track(self.app)
        await tg_app.start(self.app)

    async def stop(self) -> None:
        """Stop polling and shut the Application down."""
        await tg_app.stop(self.app)

    async def restart(self) -> None:
        """Simulate a bot restart: a new Application over the same database."""
        await self.stop()
        await self.start()

    async def deliver(self, update: dict, times: int = 1, redeliver: bool = False) -> list[Call]:
        """Push an update and wait until the Application has handled it; the API calls it caused."""
        before = len(self.api.calls)
        if redeliver:
            self.api.redeliver(update)
        else:
            self.api.push(update)
        target = self.processed[update["update_id"]] + times
        deadline = time.monotonic() + 120  # a condition, not a sleep: generous for a loaded machine
        while self.processed[update["update_id"]] < target:
            self._changed.clear()
            await asyncio.wait_for(self._changed.wait(), timeout=max(0.01, deadline - time.monotonic()))
        return self.api.calls[before:]


class SimMember:
    """A Telegram user in a private chat with the bot."""

    _msg = itertools.count(1)
    _cb = itertools.count(1)

    def __init__(self, harness: Harness, user_id: int, name: str = "委员") -> None:
        self.h = harness
        self.id = user_id
        self.user = {"id": user_id, "is_bot": False, "first_name": name, "language_code": "zh-hans"}
        self.chat = {"id": user_id, "type": "private", "first_name": name}
        self.last_update: dict = {}

    def _message(self, **extra) -> dict:
        msg = {"message_id": next(self._msg), "date": int(time.time()), "chat": self.chat, "from": self.user}
        msg.update(extra)
        return {"update_id": self.h.api._next_id(), "message": msg}

    async def _go(self, update: dict) -> list[Call]:
        self.last_update = update
        return await self.h.deliver(update)

    async def text(self, text: str) -> list[Call]:
        """Send a text message."""
        return await self._go(self._message(text=text))

    async def command(self, name: str, arg: str = "") -> list[Call]:
        """Send /name [arg]."""
        text = f"/{name}" + (f" {arg}" if arg else "")
        ent = [{"type": "bot_command", "offset": 0, "length": len(name) + 1}]
        return await self._go(self._message(text=text, entities=ent))

    async def press(self, data: str, message_id: int = 1) -> list[Call]:
        """Press an inline button with this callback data (on the bot's message `message_id`)."""
        bot = {"id": BOT_ID, "is_bot": True, "first_name": "履职助手"}
        msg = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": self.chat,
            "from": bot,
            "text": "…",
        }
        cq = {
            "id": str(next(self._cb)),
            "from": self.user,
            "chat_instance": f"ci{self.id}",
            "data": data,
            "message": msg,
        }
        return await self._go({"update_id": self.h.api._next_id(), "callback_query": cq})

    async def photo(self, file_id: str) -> list[Call]:
        """Send a photo (the stand-in serves its bytes)."""
        self.h.api.files[f"{file_id}"] = b"\xff\xd8photo"
        size = {
            "file_id": file_id,
            "file_unique_id": "u" + file_id[-8:],
            "width": 10,
            "height": 10,
            "file_size": 7,
        }
        return await self._go(self._message(photo=[size]))

    async def document(self, file_id: str, name: str) -> list[Call]:
        """Send a document."""
        self.h.api.files[f"{file_id}"] = b"%PDF-1.4 test"
        doc = {"file_id": file_id, "file_unique_id": "u" + file_id[-8:], "file_name": name, "file_size": 13}
        return await self._go(self._message(document=doc))

    async def redeliver_last(self) -> list[Call]:
        """Telegram delivers the last update again."""
        return await self.h.deliver(self.last_update, redeliver=True)


def sent(calls: list[Call]) -> list[Call]:
    """Only the sendMessage calls."""
    return [c for c in calls if c.method == "sendMessage"]


def all_data(call: Call) -> list[str]:
    """Every callback_data of a message's keyboard."""
    return [d for row in call.buttons for _, d in row]
