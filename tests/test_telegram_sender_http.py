"""The sender over real HTTP: python-telegram-bot's own HTTPXRequest against a loopback server that drops the
connection, answers after the read timeout, answers 500 or 403. What PTB makes of real network faults is retried;
a refusal is not."""

from __future__ import annotations

import asyncio
import json
import re
from urllib.parse import parse_qs

from sqlalchemy import select
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.channels.telegram.sender import Sender
from bot.members.service import identity_for
from bot.storage.models import ChatIdentity, Notification

TOKEN = "424242:LOOPBACK"


class FlakyBotAPI:
    """Loopback HTTP/1.1 server; each sendMessage takes the next step of `script` (then "ok"):
    "reset" closes the connection unanswered, "slow" answers nothing until after the client's read timeout,
    "500" / "403" answer that error, "ok" sends the message."""

    def __init__(self, script: list[str]) -> None:
        self.script = list(script)
        self.steps: list[str] = []
        self.texts: list[str] = []
        self.server: asyncio.Server | None = None

    async def start(self) -> str:
        """Listen on a free loopback port; the Bot API base URL."""
        self.server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        return f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/bot"

    async def stop(self) -> None:
        """Close the server."""
        self.server.close()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length:\s*(\d+)", head)
        body = await reader.readexactly(int(length.group(1)) if length else 0)
        method = head.split(b" ")[1].decode().rsplit("/", 1)[-1]
        if method == "getMe":
            return await self._answer(writer, 200, {"ok": True, "result": {"id": 424242, "is_bot": True,
                                                                           "first_name": "履职助手", "username": "b"}})  # fmt: skip
        step = self.script.pop(0) if self.script else "ok"
        self.steps.append(step)
        if step == "reset":
            writer.transport.abort()
            return
        if step == "slow":  # no answer: wait until the client gives up (read timeout 0.2 s) and hangs up
            await reader.read()
            writer.close()
            return
        if step in ("500", "403"):
            description = (
                "Internal Server Error" if step == "500" else "Forbidden: bot was blocked by the user"
            )
            return await self._answer(writer, int(step), {"ok": False, "error_code": int(step),
                                                          "description": description})  # fmt: skip
        params = {k: v[0] for k, v in parse_qs(body.decode()).items()}  # PTB posts a form
        self.texts.append(params.get("text", ""))
        message = {"message_id": len(self.texts), "date": 0, "chat": {"id": 42, "type": "private"},
                   "text": params.get("text", "")}  # fmt: skip
        await self._answer(writer, 200, {"ok": True, "result": message})

    @staticmethod
    async def _answer(writer: asyncio.StreamWriter, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        writer.write(
            f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n".encode()
            + data
        )
        await writer.drain()
        writer.close()


async def _bot(api: FlakyBotAPI) -> Bot:
    request = HTTPXRequest(read_timeout=0.2, connect_timeout=2.0, write_timeout=2.0)
    bot = Bot(TOKEN, base_url=await api.start(), request=request)
    await bot.initialize()
    return bot


async def test_a_dropped_connection_a_timeout_and_a_500_are_retried_until_sent(database):
    api = FlakyBotAPI(["reset", "slow", "500"])
    bot = await _bot(api)
    try:
        message = await Sender(bot, database, attempts=4, base_s=0.01).message(42, "提案审查要多久？")
    finally:
        await bot.shutdown()
        await api.stop()
    assert api.steps == ["reset", "slow", "500", "ok"]
    assert api.texts == ["提案审查要多久？"] and message.text == "提案审查要多久？"


async def test_a_blocked_chat_is_tried_once_and_recorded(database):
    with database.session() as s:
        identity_for(s, "telegram", "42", "42", "委员")
    api = FlakyBotAPI(["403"])
    bot = await _bot(api)
    try:
        result = await Sender(bot, database, attempts=4, base_s=0.01).deliver(42, "您的提案已受理。")
    finally:
        await bot.shutdown()
        await api.stop()
    assert result == "failed" and api.steps == ["403"] and api.texts == []
    with database.session() as s:
        note = s.scalars(select(Notification)).one()
        assert note.html == "您的提案已受理。" and note.failed_at is not None and "blocked" in note.last_error
        assert s.scalars(select(ChatIdentity)).one().blocked
