"""A stand-in for the Telegram Bot API at the HTTP boundary (a BaseRequest subclass), playing members."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

BOT_ID = 777000
# Faults the stand-in can answer a call with: an HTTP error (status, description, parameters), or what PTB's
# HTTPXRequest raises for a timeout or a dropped connection (httpx.TimeoutException / RemoteProtocolError).
HTTP_FAULTS = {
    "500": (500, "Internal Server Error", None),
    "502": (502, "Bad Gateway", None),
    "429": (429, "Too Many Requests: retry after 1", {"retry_after": 1}),
    "429_long": (429, "Too Many Requests: retry after 61", {"retry_after": 61}),
    "blocked": (403, "Forbidden: bot was blocked by the user", None),
    "chat_not_found": (400, "Bad Request: chat not found", None),
    "query_too_old": (400, "Bad Request: query is too old and response timeout expired or query ID is invalid",
                      None),
}  # fmt: skip
RAISED_FAULTS = {
    "timeout": lambda: TimedOut(),
    "reset": lambda: NetworkError(
        "httpx.RemoteProtocolError: Server disconnected without sending a response."
    ),
}
ALLOWED_TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre", "blockquote",
                "tg-spoiler", "span", "tg-emoji"}  # fmt: skip


class _TelegramHTMLCheck(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"tag <{tag}> not allowed")
        self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unbalanced </{tag}> (open: {self.stack})")
        else:
            self.stack.pop()

    def handle_entityref(self, name):
        if name not in ("lt", "gt", "amp", "quot"):
            self.errors.append(f"entity &{name}; not supported")


def html_errors(text: str) -> list[str]:
    """Why a text is not valid Telegram HTML (empty if valid)."""
    check = _TelegramHTMLCheck()
    check.feed(text)
    check.close()
    errors = list(check.errors)
    if check.stack:
        errors.append(f"unclosed tags {check.stack}")
    stripped = "".join(part.split(">", 1)[-1] for part in text.split("<"))
    if any(
        seg and not seg.startswith(("amp;", "lt;", "gt;", "quot;", "#")) for seg in stripped.split("&")[1:]
    ):
        errors.append("bare & in text")
    if len(text.encode("utf-16-le")) // 2 > 4096:
        errors.append("longer than 4096")
    return errors


@dataclass
class Call:
    """One Bot API call the bot made."""

    method: str
    params: dict
    at: float = field(default_factory=time.perf_counter)

    @property
    def buttons(self) -> list[list[tuple[str, str]]]:
        """(text, callback_data) rows of the inline keyboard."""
        markup = self.params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [
            [(b["text"], b.get("callback_data", "")) for b in row]
            for row in markup.get("inline_keyboard", [])
        ]


class BotApiStandIn(BaseRequest):
    """Answers the bot's HTTP calls like the Bot API; queues updates that members send."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.problems: list[str] = []
        self._updates: list[dict] = []
        self._ids = itertools.count(1)
        self._msg_ids = itertools.count(1000)
        self._new = asyncio.Event()
        self.files: dict[str, bytes] = {}
        self.blocked: set[int] = set()
        self.requests: list[Call] = []  # every call, including those answered with a fault
        self.failed: list[tuple[Call, str]] = []  # (call, fault) for the faulty answers
        self._faults: dict[str, list[tuple[str, object]]] = {}
        self._called = asyncio.Event()
        self.restarted_sequence = False
        self._answered: set[str] = set()

    def fail(self, method: str, *faults: str, after: int = 0, when=None) -> None:
        """Answer calls of `method` with these faults, in order, once `after` more calls have succeeded;
        `when(params)` limits them to the calls it accepts (e.g. the final edit of a streamed answer)."""
        for fault in faults:
            assert fault in HTTP_FAULTS or fault in RAISED_FAULTS, fault
        self._faults.setdefault(method, []).extend((f, when) for f in [""] * after + list(faults))

    def restart_sequence(self) -> None:
        """Telegram starts update ids anew (after a week without updates): ids from 1, served whatever the offset."""
        self._ids = itertools.count(1)
        self.restarted_sequence = True

    async def wait_until(self, condition, timeout: float = 30.0):
        """Wait (without fixed sleeps) until condition() is truthy, re-checked after every call; its value."""
        deadline = time.monotonic() + timeout
        while not (value := condition()):
            self._called.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._called.wait(), timeout=min(remaining, 0.5))
        return value

    async def initialize(self) -> None:  # noqa: D102
        pass

    async def shutdown(self) -> None:  # noqa: D102
        pass

    @property
    def read_timeout(self) -> float:  # noqa: D102
        return 5.0

    def _next_id(self) -> int:
        return next(self._ids)

    def push(self, update: dict) -> int:
        """Queue an update for getUpdates; returns its update_id."""
        update.setdefault("update_id", next(self._ids))
        self._updates.append(update)
        self._new.set()
        return update["update_id"]

    def redeliver(self, update: dict) -> None:
        """Serve an already-delivered update again (Telegram's at-least-once delivery)."""
        self._updates.append({**update, "_redelivered": True})
        self._new.set()

    def to_chat(self, chat_id: int, method: str | None = None) -> list[Call]:
        """Calls addressed to one chat (optionally of one method)."""
        return [
            c
            for c in self.calls
            if str(c.params.get("chat_id")) == str(chat_id) and method in (None, c.method)
        ]

    async def do_request(self, url, method, request_data: RequestData | None = None, *args, **kwargs):  # noqa: D102
        if "/file/bot" in url:
            return 200, self.files.get(url.rsplit("/", 1)[-1], b"")
        api = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        if api == "getUpdates":
            return 200, await self._get_updates(params)
        self.requests.append(Call(api, params))
        self._called.set()
        faults = self._faults.get(api)
        fault = ""
        if faults and (faults[0][1] is None or faults[0][1](params)):
            fault = faults.pop(0)[0]
        if fault:
            self.failed.append((self.requests[-1], fault))
            if fault in RAISED_FAULTS:
                raise RAISED_FAULTS[fault]()
            code, description, parameters = HTTP_FAULTS[fault]
            body = {"ok": False, "error_code": code, "description": description}
            if parameters:
                body["parameters"] = parameters
            return code, json.dumps(body).encode()
        if api == "answerCallbackQuery":  # Telegram accepts one answer per query
            if params.get("callback_query_id") in self._answered:
                return 400, json.dumps(
                    {"ok": False, "error_code": 400, "description": HTTP_FAULTS["query_too_old"][1]}
                ).encode()
            self._answered.add(params.get("callback_query_id"))
        self.calls.append(Call(api, params))
        if params.get("parse_mode") == "HTML":
            for err in html_errors(params.get("text", "")):
                self.problems.append(f"{api}: {err}: {params.get('text', '')[:80]!r}")
        for row in Call(api, params).buttons:
            for _, data in row:
                if len(data.encode()) > 64:
                    self.problems.append(f"callback_data over 64 bytes: {data!r}")
        return 200, json.dumps({"ok": True, "result": self._result(api, params)}).encode()

    async def _get_updates(self, params: dict) -> bytes:
        offset = int(params.get("offset") or 0)
        if not self._updates:
            self._new.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new.wait(), timeout=min(float(params.get("timeout") or 0), 0.5))
        ready = [
            u
            for u in self._updates
            if u["update_id"] >= offset or u.get("_redelivered") or self.restarted_sequence
        ]
        self._updates = [u for u in self._updates if u not in ready]
        clean = [{k: v for k, v in u.items() if not k.startswith("_")} for u in ready]
        return json.dumps({"ok": True, "result": clean}).encode()

    def _result(self, api: str, params: dict):
        if api == "getMe":
            return {"id": BOT_ID, "is_bot": True, "first_name": "履职助手", "username": "lvzhi_test_bot",
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}  # fmt: skip
        if api in ("sendMessage", "editMessageText"):
            chat_id = int(params["chat_id"])
            return {"message_id": next(self._msg_ids), "date": int(time.time()), "text": params.get("text", ""),
                    "chat": {"id": chat_id, "type": "private"},
                    "from": {"id": BOT_ID, "is_bot": True, "first_name": "履职助手"}}  # fmt: skip
        if api == "getFile":
            fid = params["file_id"]
            return {
                "file_id": fid,
                "file_unique_id": "u" + fid[-8:],
                "file_size": 10,
                "file_path": f"docs/{fid}",
            }
        return True
