"""The python-telegram-bot Application: builder from settings, handlers, start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from telegram import BotCommand, Update
from telegram.ext import (
    AIORateLimiter,
    Application,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

from bot.channels.flood import FloodLimiter
from bot.channels.telegram import handlers
from bot.channels.telegram.notifier import deliver_forever
from bot.channels.telegram.sender import Sender
from bot.chat.texts import say

log = logging.getLogger(__name__)
COMMANDS = ("start", "suggest", "mine", "record", "activities", "cancel", "help")


def build_application(
    services, request: BaseRequest | None = None, updates_request: BaseRequest | None = None
) -> Application:
    """An Application wired to the services; `request` replaces the HTTP layer (tests, benchmarks)."""
    s = services.settings
    builder = Application.builder().token(s.telegram_token or "")
    builder.base_url(s.telegram_base_url).base_file_url(s.telegram_base_file_url)
    if s.telegram_rate_limit:
        builder.rate_limiter(AIORateLimiter(max_retries=3))
    if request is not None:
        builder.request(request).get_updates_request(updates_request or request)
    app = builder.build()
    app.bot_data["services"] = services
    app.bot_data["flood"] = FloodLimiter(s.flood_max_events, s.flood_window_s)
    app.add_handler(TypeHandler(Update, handlers.skip_processed), group=-2)  # redeliveries: no API call
    app.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)
    app.add_handler(CommandHandler(list(COMMANDS), handlers.command))
    app.add_handler(MessageHandler(filters.COMMAND, handlers.command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, handlers.attachment))
    app.add_handler(CallbackQueryHandler(handlers.press))
    app.add_error_handler(handlers.on_error)
    return app


async def start(app: Application) -> None:
    """Initialise, register the command menu, start the notifier and receive updates (polling or webhook).

    Every message, edit and callback answer goes out through the Sender in bot_data["sender"] (retries, outbox).
    """
    services = app.bot_data["services"]
    s = services.settings
    await asyncio.to_thread(lambda: services.db)  # migrate before the first update
    app.bot_data["sender"] = Sender(app.bot, services.db, s.telegram_send_attempts, s.telegram_retry_base_s)
    await app.initialize()
    menu = [BotCommand(c, say(f"cmd_{c}")) for c in COMMANDS]
    await app.bot_data["sender"].call(lambda: app.bot.set_my_commands(menu))
    from bot.channels.telegram.staff_menu import set_staff_menus

    await set_staff_menus(app.bot, services, COMMANDS)  # staff chats also list /queue and /reg
    await app.start()
    app.bot_data["notifier"] = asyncio.create_task(
        deliver_forever(app.bot_data["sender"], s.notify_interval_s)
    )
    if s.telegram_webhook_url:
        path = hashlib.sha256((s.telegram_token or "").encode()).hexdigest()[:32]
        await app.updater.start_webhook(
            listen=s.telegram_webhook_listen,
            port=s.telegram_webhook_port,
            url_path=path,
            webhook_url=f"{s.telegram_webhook_url.rstrip('/')}/{path}",
            secret_token=s.telegram_webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
    else:
        await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=30)
    log.info("Telegram bot started (%s)", "webhook" if s.telegram_webhook_url else "long polling")


async def stop(app: Application) -> None:
    """Stop receiving, finish the running updates, stop the notifier and shut down."""
    if app.updater.running:
        await app.updater.stop()
    task = app.bot_data.pop("notifier", None)
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if app.running:
        await app.stop()
    await app.shutdown()
