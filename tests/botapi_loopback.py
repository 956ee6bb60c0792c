"""A loopback HTTP stand-in for the Bot API (aiohttp): sendMessage with blocked chats and occasional 429."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field

from aiohttp import web

TOKEN = "123456:LOOPBACK"


@dataclass
class LoopbackBotAPI:
    """Answers getMe and sendMessage; chats in `blocked` get 403; every `flood_every`-th call gets a 429."""

    blocked: set[str] = field(default_factory=set)
    flood_every: int = 0
    retry_after: int = 1
    latency_s: float = 0.0
    delivered: Counter = field(default_factory=Counter)
    texts: dict[str, str] = field(default_factory=dict)
    markups: dict[str, dict] = field(default_factory=dict)
    calls: int = 0
    floods: int = 0
    runner: web.AppRunner | None = None
    port: int = 0

    async def start(self) -> str:
        """Start on a free loopback port; the base_url for telegram.Bot."""
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{self.port}/bot"

    async def stop(self) -> None:
        """Stop the server."""
        if self.runner is not None:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        form = dict(await request.post()) if request.can_read_body else {}
        if method == "getMe":
            return _ok({"id": 42, "is_bot": True, "first_name": "履职助手", "username": "lvzhi_bot"})
        if method != "sendMessage":
            return _error(404, f"Not Found: method {method}")
        self.calls += 1
        if self.latency_s:
            await asyncio.sleep(self.latency_s)
        if self.flood_every and self.calls % self.flood_every == 0:
            self.floods += 1
            return _error(
                429, f"Too Many Requests: retry after {self.retry_after}", {"retry_after": self.retry_after}
            )
        chat = str(form["chat_id"])
        if chat in self.blocked:
            return _error(403, "Forbidden: bot was blocked by the user")
        self.delivered[chat] += 1
        self.texts[chat] = str(form["text"])
        if "reply_markup" in form:
            self.markups[chat] = json.loads(str(form["reply_markup"]))
        message = {
            "message_id": self.calls,
            "date": 0,
            "chat": {"id": int(chat), "type": "private"},
            "text": form["text"],
        }
        return _ok(message)


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str, parameters: dict | None = None) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=code)
