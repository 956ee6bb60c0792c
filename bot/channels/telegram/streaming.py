"""Stream an LLM answer into Telegram by editing one message at a bounded rate."""

from __future__ import annotations

import asyncio
import html
import logging
import time
from collections.abc import AsyncIterator, Callable

from telegram import Message
from telegram.constants import MessageLimit, ParseMode
from telegram.error import BadRequest, RetryAfter

from bot.answering.types import Answer
from bot.prompts import render

log = logging.getLogger(__name__)
CURSOR = " ▌"


def _partial_html(text: str) -> str:
    """A partial answer as safe Telegram HTML, cut to the message limit."""
    limit = MessageLimit.MAX_TEXT_LENGTH - len(CURSOR) - 1
    escaped = html.escape(text)
    return (escaped[-limit:] if len(escaped) > limit else escaped) + CURSOR


async def _edit(message: Message, text: str, parse_mode: str | None, must: bool = False) -> bool:
    """Edit the message; False when flood control refused a partial edit (a final one waits and retries)."""
    try:
        await message.edit_text(text, parse_mode=parse_mode)
        return True
    except RetryAfter as exc:
        log.info("Telegram flood control: retry after %ss", exc.retry_after)
        if not must:
            return False
        delay = (
            exc.retry_after.total_seconds() if hasattr(exc.retry_after, "total_seconds") else exc.retry_after
        )
        await asyncio.sleep(float(delay))
        await message.edit_text(text, parse_mode=parse_mode)
        return True
    except BadRequest as exc:
        if "not modified" in str(exc).lower():
            return True
        raise


async def stream_to_message(
    reply_to: Message,
    items: AsyncIterator[str | Answer],
    render_final: Callable[[Answer], str | list[str]],
    min_interval_s: float = 1.2,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[Answer, list[Message]]:
    """Post a placeholder reply, edit it with the growing text at most once per min_interval_s, then the final HTML."""
    placeholder = await reply_to.reply_text(render("llm_streaming"))
    last_edit = clock()
    shown = ""
    final: Answer | None = None
    async for item in items:
        if isinstance(item, Answer):
            final = item
            break
        if item != shown and clock() - last_edit >= min_interval_s:
            if await _edit(placeholder, _partial_html(item), ParseMode.HTML):
                shown = item
            last_edit = clock()
    if final is None:
        raise RuntimeError("the answer stream ended without a final Answer")
    parts = render_final(final)
    parts = [parts] if isinstance(parts, str) else list(parts)
    wait = min_interval_s - (clock() - last_edit)
    if shown and wait > 0:
        await asyncio.sleep(wait)  # keep the bounded rate for the final edit too
    await _edit(placeholder, parts[0], ParseMode.HTML, must=True)
    sent = [placeholder]
    for part in parts[1:]:
        sent.append(await reply_to.reply_text(part, parse_mode=ParseMode.HTML))
    return final, sent
