"""The Telegram side of broadcasts: a `send` callable over python-telegram-bot's Bot, errors translated."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.campaigns.broadcast import Button, RecipientBlocked, RetryLater, Send, SendFailed


def keyboard(buttons: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup | None:
    """Inline keyboard from channel-neutral buttons."""
    rows = [
        [
            InlineKeyboardButton(b.text, url=b.url)
            if b.url
            else InlineKeyboardButton(b.text, callback_data=b.data)
            for b in row
        ]
        for row in buttons
    ]
    return InlineKeyboardMarkup(rows) if rows else None


def telegram_sender(bot: Bot, parse_mode: str | None = ParseMode.HTML) -> Send:
    """A `send(chat_id, text, buttons)` for the broadcast engine."""

    async def send(chat_id: str, text: str, buttons: Sequence[Sequence[Button]]) -> str | None:
        try:
            message = await bot.send_message(
                chat_id, text, parse_mode=parse_mode, reply_markup=keyboard(buttons)
            )
        except RetryAfter as exc:
            with warnings.catch_warnings():  # int → timedelta deprecation of PTB 22; both are handled
                warnings.simplefilter("ignore", PTBDeprecationWarning)
                wait = exc.retry_after
            raise RetryLater(wait.total_seconds() if isinstance(wait, timedelta) else float(wait)) from exc
        except Forbidden as exc:
            raise RecipientBlocked(exc.message) from exc
        except TimedOut as exc:  # the request may have reached Telegram
            raise SendFailed(f"超时：{exc.message}", maybe_delivered=True) from exc
        except BadRequest as exc:
            raise SendFailed(exc.message) from exc
        except TelegramError as exc:  # NetworkError before a response: treat as failed, not resent
            raise SendFailed(exc.message, maybe_delivered=True) from exc
        return str(message.message_id)

    return send
