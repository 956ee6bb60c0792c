"""The Telegram command menu in the member's script.

Telegram's language_code cannot tell zh-Hans from zh-Hant, so the global menu (set at start) stays Simplified and a
member whose remembered script (bot.chat.script) is Traditional gets a menu of their own (BotCommandScopeChat) in
Traditional, set when their script becomes Traditional and on /start; when it turns back to Simplified their own
menu is deleted (the global one shows again). A staff chat keeps its staff commands (/queue, /reg) in either script.
Every call goes through the Sender (retries, the bot's rate limiter).
"""

from __future__ import annotations

import logging

from telegram import BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.channels.telegram.sender import Sender
from bot.chat.texts import own, say

log = logging.getLogger(__name__)
COMMANDS = ("start", "suggest", "mine", "record", "activities", "cancel", "help")  # the member menu, in order


def menu(traditional: bool, staff: bool = False) -> list[BotCommand]:
    """The member commands with their descriptions in the given script, plus the staff commands for staff."""
    commands = [BotCommand(c, say(f"cmd_{c}", traditional)) for c in COMMANDS]
    if staff:
        from bot.staff.chat import COMMANDS as STAFF_COMMANDS
        from bot.staff.texts import t

        commands += [BotCommand(c, own(t(f"cmd_{c}"), traditional)) for c in STAFF_COMMANDS]
    return commands


async def follow_script(sender: Sender, chat_id: int, traditional: bool, staff: bool) -> bool:
    """Give chat `chat_id` the menu of its script: its own Traditional menu, or back to the global Simplified one
    (a staff chat, staff=True: its own staff menu in its script). True when Telegram took it; failures are logged,
    not raised."""
    scope = BotCommandScopeChat(chat_id)
    try:
        if traditional or staff:
            commands = menu(traditional, staff)
            await sender.call(lambda: sender.bot.set_my_commands(commands, scope=scope))
        else:
            await sender.call(lambda: sender.bot.delete_my_commands(scope=scope))
    except TelegramError as exc:
        log.warning("command menu of chat %s not set: %r", chat_id, exc)
        return False
    return True
