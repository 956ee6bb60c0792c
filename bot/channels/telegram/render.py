"""Rendering core replies for Telegram: inline keyboards (HTML pieces: html.py; sending: sender.py)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import InlineKeyboardButtonLimit

from bot.chat.types import Button


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
