"""Rendering core replies as Telegram messages: HTML pieces and inline keyboards."""

from __future__ import annotations

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit, ParseMode

from bot.channels.telegram.html import split_html
from bot.chat.types import Button, Reply


def keyboard(rows: list[list[Button]]) -> InlineKeyboardMarkup | None:
    """An inline keyboard; callback data longer than Telegram allows is refused."""
    if not rows:
        return None
    for row in rows:
        for b in row:
            if len(b.data.encode()) > InlineKeyboardButtonLimit.MAX_CALLBACK_DATA:
                raise ValueError(f"callback_data too long: {b.data!r}")
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.label, callback_data=b.data) for b in row] for row in rows]
    )


async def send_replies(
    bot: Bot, chat_id: int | str, replies: list[Reply], query: CallbackQuery | None = None
) -> None:
    """Send each reply (split at 4096, keyboard on the last piece); a toast answers the button press."""
    answered = False
    for reply in replies:
        if reply.toast and query is not None and not answered:
            await query.answer(reply.toast)
            answered = True
        if not reply.html:
            continue
        pieces = split_html(reply.html)
        for i, piece in enumerate(pieces):
            markup = keyboard(reply.buttons) if i == len(pieces) - 1 else None
            await bot.send_message(chat_id, piece, parse_mode=ParseMode.HTML, reply_markup=markup)
    if query is not None and not answered:
        await query.answer()
