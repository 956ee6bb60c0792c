"""Staff see /queue and /reg in their own Telegram command menu (a per-chat scope); members never do."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select
from telegram import Bot, BotCommand, BotCommandScopeChat
from telegram.error import TelegramError

from bot.chat import script
from bot.chat.texts import own, say
from bot.staff.accounts import admin_ids
from bot.staff.chat import COMMANDS as STAFF_COMMANDS
from bot.staff.models import StaffAccount
from bot.staff.texts import t

log = logging.getLogger(__name__)


def staff_chat_ids(services) -> list[str]:
    """Telegram ids of active staff accounts and bootstrap admins."""
    with services.db.session() as s:
        ids = s.scalars(select(StaffAccount.telegram_id).where(StaffAccount.active.is_(True)))
        found = {i for i in ids if i}
    return sorted(found | admin_ids(services.settings.admin_telegram_ids))


async def set_staff_menus(bot: Bot, services, member_commands: tuple[str, ...]) -> int:
    """Give each staff chat the member menu plus the staff commands, in the chat's remembered script; the number
    of chats set."""
    done = 0
    for chat_id in await asyncio.to_thread(staff_chat_ids, services):
        trad = await asyncio.to_thread(script.of_chat, services.db, "telegram", chat_id)
        commands = [BotCommand(c, say(f"cmd_{c}", trad)) for c in member_commands]
        commands += [BotCommand(c, own(t(f"cmd_{c}"), trad)) for c in STAFF_COMMANDS]
        try:
            await bot.set_my_commands(commands, scope=BotCommandScopeChat(int(chat_id)))
            done += 1
        except TelegramError as exc:  # e.g. the staff member never opened a chat with the bot
            log.warning("staff menu for chat %s not set: %s", chat_id, exc)
    return done
