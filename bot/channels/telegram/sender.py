"""The one way out to Telegram: messages, edits and callback answers, retried until sent or surely undeliverable.

Transient failures (HTTP 5xx, timeouts, network errors, 429 flood control) are retried with exponential back-off
and jitter (tenacity); a 429 waits the retry_after Telegram asks for. Permanent failures (403 blocked, 400 bad
request or chat not found, 401/404 token) stop at once. A message that still cannot be sent is kept in the
outbox (bot.chat.outbox): for delivery later when the failure was transient, as a record when it was permanent.
A 429 asking for more than MAX_RETRY_AFTER_S is not waited for while holding the update: the message goes to the
outbox, due when the wait is over. The Bot API has no idempotency key: a request whose answer was lost after
Telegram took it (a read timeout, a connection dropped mid-answer) may, once retried, show twice; a refused
connection, a 5xx or a 429 means the message was not taken, so it shows once.
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TypeVar

from telegram import Bot, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_any,
    wait_exponential_jitter,
)

from bot.channels.telegram.html import split_html
from bot.channels.telegram.render import keyboard
from bot.chat import outbox
from bot.chat.types import Button, Reply
from bot.storage import Database

log = logging.getLogger(__name__)
T = TypeVar("T")
MAX_BACKOFF_S = 30.0
MAX_RETRY_AFTER_S = 60.0  # a longer 429 wait is not spent holding the update: the message goes to the outbox


def is_transient(exc: BaseException) -> bool:
    """True for failures worth retrying: 429, timeouts, network errors and 5xx (PTB raises NetworkError for
    them); False for BadRequest (a NetworkError subclass in PTB), Forbidden, InvalidToken and the rest."""
    if isinstance(exc, RetryAfter | TimedOut):
        return True
    return isinstance(exc, NetworkError) and not isinstance(exc, BadRequest)


def retry_after_s(exc: RetryAfter) -> float:
    """The wait Telegram asked for, in seconds (PTB 22 gives an int or a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        wait = exc.retry_after
    return wait.total_seconds() if isinstance(wait, timedelta) else float(wait)


class Sender:
    """Sends through `bot` with retries; `db` keeps what could not be sent (outbox of the "telegram" channel).

    attempts: tries per request (≥ 1); base_s: first back-off in seconds, doubled per try up to 30 s.
    """

    channel = "telegram"

    def __init__(self, bot: Bot, db: Database, attempts: int = 5, base_s: float = 0.5) -> None:
        self.bot = bot
        self.db = db
        self.attempts = max(1, attempts)
        self._backoff = wait_exponential_jitter(multiplier=base_s, max=MAX_BACKOFF_S, jitter=base_s)

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, RetryAfter):
            return retry_after_s(exc)
        return self._backoff(state)

    @staticmethod
    def _long_flood_wait(state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        return isinstance(exc, RetryAfter) and retry_after_s(exc) > MAX_RETRY_AFTER_S

    @staticmethod
    def _log_retry(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning("Telegram request failed (try %s), retrying: %r", state.attempt_number, exc)

    async def call(self, request: Callable[[], Awaitable[T]], attempts: int | None = None) -> T:
        """Run one Bot API request, retrying transient failures; raises the last TelegramError otherwise."""
        retrying = AsyncRetrying(
            stop=stop_any(stop_after_attempt(attempts or self.attempts), self._long_flood_wait),
            wait=self._wait,
            retry=retry_if_exception(is_transient),
            before_sleep=self._log_retry,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                result = await request()
        return result

    async def message(
        self, chat_id: int | str, html: str, buttons: list[list[Button]] | None = None
    ) -> Message:
        """Send one message (≤ 4096, Telegram HTML) with retries; raises TelegramError if it cannot be sent."""
        markup = keyboard(buttons or [])
        return await self.call(
            lambda: self.bot.send_message(chat_id, html, parse_mode=ParseMode.HTML, reply_markup=markup)
        )

    async def deliver(
        self, chat_id: int | str, html: str, buttons: list[list[Button]] | None = None, first_piece: int = 0
    ) -> str:
        """Send a reply of any length (pieces at 4096, buttons on the last) from piece `first_piece`.

        Returns "sent", or "queued" (a transient failure: the unsent rest is in the outbox) or "failed" (a
        permanent one, recorded in the outbox as given up; a blocked bot marks the chat's identity).
        """
        pieces = split_html(html)
        for i in range(first_piece, len(pieces)):
            try:
                await self.message(chat_id, pieces[i], buttons if i == len(pieces) - 1 else None)
            except TelegramError as exc:
                return await self._keep(chat_id, html, buttons, i, exc)
        return "sent"

    async def _keep(
        self, chat_id: int | str, html: str, buttons: list[list[Button]] | None, sent: int, exc: TelegramError
    ) -> str:
        permanent = not is_transient(exc)
        log.warning("reply to chat %s %s: %r", chat_id, "not deliverable" if permanent else "queued", exc)
        wait = retry_after_s(exc) if isinstance(exc, RetryAfter) else 0.0
        await asyncio.to_thread(
            outbox.queue_reply, self.db, self.channel, str(chat_id), html, buttons, sent, repr(exc), permanent,
            isinstance(exc, Forbidden), wait,
        )  # fmt: skip
        return "failed" if permanent else "queued"

    async def replies(
        self,
        chat_id: int | str,
        replies: list[Reply],
        query_id: str | None = None,
        pressed_message_id: int | None = None,
    ) -> None:
        """Send the core's replies in order; a toast (or nothing) answers the pressed button once.

        A reply's edit_buttons replace the keyboard of the message whose button was pressed (pressed_message_id;
        ignored without one). Once one reply could not be sent, the later ones are kept behind it in the outbox
        (order preserved).
        """
        answered = False
        for n, reply in enumerate(replies):
            if reply.toast and query_id is not None and not answered:
                await self.answer(query_id, reply.toast)
                answered = True
            if reply.edit_buttons is not None and pressed_message_id is not None:
                await self.edit_buttons(chat_id, pressed_message_id, reply.edit_buttons)
            if not reply.html:
                continue
            result = await self.deliver(chat_id, reply.html, reply.buttons)
            if result != "sent":
                await self.queue_behind(chat_id, replies[n + 1 :], result)
                break
        if query_id is not None and not answered:
            toast = next((r.toast for r in replies if r.toast), None)
            await self.answer(query_id, toast)

    async def queue_behind(self, chat_id: int | str, replies: list[Reply], result: str) -> None:
        """Keep replies that follow one not sent ("queued": for later delivery; "failed": recorded only)."""
        why = "an earlier reply to the same update was not delivered"
        for reply in replies:
            if reply.html:
                await asyncio.to_thread(
                    outbox.queue_reply, self.db, self.channel, str(chat_id), reply.html, reply.buttons, 0, why,
                    result == "failed",
                )  # fmt: skip

    async def answer(self, query_id: str, text: str | None = None) -> bool:
        """Answer a pressed button (stops its spinner), with retries; False (logged) if it failed for good."""
        try:
            return await self.call(lambda: self.bot.answer_callback_query(query_id, text=text or None))
        except TelegramError as exc:
            log.warning("answerCallbackQuery %s failed: %r", query_id, exc)
            return False

    async def edit(
        self,
        chat_id: int | str,
        message_id: int,
        html: str,
        buttons: list[list[Button]] | None = None,
        attempts: int | None = None,
    ) -> bool:
        """Replace a message's text (HTML); True if the message now shows it ("not modified" counts).

        attempts=1 for a best-effort edit (a streamed partial text); raises nothing, failures are logged.
        """
        markup = keyboard(buttons or [])
        return await self._edit(
            lambda: self.bot.edit_message_text(
                html, chat_id=chat_id, message_id=message_id, parse_mode=ParseMode.HTML, reply_markup=markup
            ),
            "editMessageText",
            chat_id,
            attempts,
        )

    async def edit_buttons(self, chat_id: int | str, message_id: int, buttons: list[list[Button]]) -> bool:
        """Replace a message's inline keyboard (editMessageReplyMarkup), with retries; True if it now shows
        `buttons` ("not modified" counts), False (logged) when it failed for good (the message is too old, gone)."""
        markup = keyboard(buttons)
        return await self._edit(
            lambda: self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup
            ),
            "editMessageReplyMarkup",
            chat_id,
        )

    async def _edit(
        self,
        make_call: Callable[[], Awaitable[object]],
        method: str,
        chat_id: int | str,
        attempts: int | None = None,
    ) -> bool:
        """Run one edit call through `call` (retries); True when the message shows the edit ("message is not
        modified" counts), False when it failed for good (logged; a one-try edit's failure only at INFO)."""
        try:
            await self.call(make_call, attempts)
            return True
        except BadRequest as exc:
            if "not modified" in str(exc).lower():
                return True
            log.warning("%s in chat %s failed: %r", method, chat_id, exc)
        except TelegramError as exc:
            level = logging.INFO if attempts == 1 else logging.WARNING
            log.log(level, "%s in chat %s failed: %r", method, chat_id, exc)
        return False

    async def typing(self, chat_id: int | str) -> None:
        """Show 'typing…' (one try; a failure only loses the indicator)."""
        from telegram.constants import ChatAction

        try:
            await self.bot.send_chat_action(chat_id, ChatAction.TYPING)
        except TelegramError as exc:
            log.info("sendChatAction to %s failed: %r", chat_id, exc)
