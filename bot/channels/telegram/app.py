"""The python-telegram-bot Application: builder from settings, handlers, start and stop."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging

from telegram import Update
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

from bot.channels.telegram import handlers, member_menu
from bot.channels.telegram.notifier import deliver_forever
from bot.channels.telegram.ordering import PerChatOrder
from bot.channels.telegram.sender import Sender
from bot.storage.leases import LeaderLock

log = logging.getLogger(__name__)
COMMANDS = member_menu.COMMANDS


def build_application(
    services, request: BaseRequest | None = None, updates_request: BaseRequest | None = None
) -> Application:
    """An Application wired to the services; `request` replaces the HTTP layer (tests, benchmarks)."""
    s = services.settings
    builder = Application.builder().token(s.telegram_token or "")
    builder.base_url(s.telegram_base_url).base_file_url(s.telegram_base_file_url)
    if s.telegram_rate_limit and services.shared_limits:  # several replicas: limits in PostgreSQL
        from bot.channels.telegram.ratelimit import SharedRateLimiter

        limiter = SharedRateLimiter(
            services.db, s.telegram_max_rate, s.telegram_chat_rate, s.telegram_chat_burst
        )
        builder.rate_limiter(limiter)
    elif s.telegram_rate_limit:
        builder.rate_limiter(AIORateLimiter(max_retries=3))
    if request is not None:
        builder.request(request).get_updates_request(updates_request or request)
    builder.concurrent_updates(PerChatOrder(max(1, s.telegram_concurrent_updates)))
    app = builder.build()
    app.bot_data["services"] = services
    app.bot_data["flood"] = services.flood_limiter("tg:", s.flood_max_events)
    app.add_handler(TypeHandler(Update, handlers.skip_processed), group=-2)  # redeliveries: no API call
    app.add_handler(TypeHandler(Update, handlers.flood_guard), group=-1)
    app.add_handler(CommandHandler(list(COMMANDS), handlers.command))
    app.add_handler(MessageHandler(filters.COMMAND, handlers.command))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.text))
    app.add_handler(MessageHandler(filters.PHOTO | filters.Document.ALL, handlers.attachment))
    app.add_handler(CallbackQueryHandler(handlers.press))
    app.add_error_handler(handlers.on_error)
    return app


async def start(app: Application, receive: bool = True, send: bool = True) -> None:
    """Initialise, register the command menu, start the notifier and receive updates (polling or webhook).

    Every message, edit and callback answer goes out through the Sender in bot_data["sender"] (retries, outbox).
    receive=False (role "sender"): no updates are taken; send=False (role "web"): the outbox is left to the
    replicas that send. Long polling with several replicas: only the holder of the PostgreSQL advisory lock
    "telegram-polling" polls; the others try every settings.leader_retry_s and take over when it dies.
    """
    services = app.bot_data["services"]
    s = services.settings
    await asyncio.to_thread(lambda: services.db)  # migrate before the first update
    app.bot_data["sender"] = Sender(app.bot, services.db, s.telegram_send_attempts, s.telegram_retry_base_s)
    await app.initialize()
    # the global menu: Simplified (Telegram cannot tell a Traditional reader; they get their own, member_menu)
    menu = member_menu.menu(traditional=False)
    await app.bot_data["sender"].call(lambda: app.bot.set_my_commands(menu))
    from bot.channels.telegram.staff_menu import set_staff_menus

    await set_staff_menus(app.bot, services, COMMANDS)  # staff chats also list /queue and /reg
    await app.start()
    if send:
        app.bot_data["notifier"] = asyncio.create_task(
            deliver_forever(app.bot_data["sender"], s.notify_interval_s, s.resolved_replica_id, s.lease_s)
        )
    if not receive:
        log.info("Telegram bot started (sending only)")
    elif s.telegram_webhook_url:
        path = hashlib.sha256((s.telegram_token or "").encode()).hexdigest()[:32]
        await app.updater.start_webhook(
            listen=s.telegram_webhook_listen,
            port=s.telegram_webhook_port,
            url_path=path,
            webhook_url=f"{s.telegram_webhook_url.rstrip('/')}/{path}",
            secret_token=s.telegram_webhook_secret,
            allowed_updates=Update.ALL_TYPES,
        )
        log.info("Telegram bot started (webhook)")
    else:
        lock = LeaderLock(services.db, "telegram-polling")
        app.bot_data["leader"] = lock
        if await asyncio.to_thread(
            lock.try_acquire
        ):  # the usual case (one replica): polling when start returns
            await app.updater.start_polling(allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=30)
        app.bot_data["poller"] = asyncio.create_task(poll_while_leader(app, lock, s.leader_retry_s))
        log.info("Telegram bot started (long polling when this replica holds the polling lock)")


async def poll_while_leader(app: Application, lock: LeaderLock, retry_s: float) -> None:
    """Poll Telegram while this replica holds `lock`; stop polling when it is lost, retry every `retry_s`.

    Runs until cancelled. PostgreSQL releases the lock when the holder's connection ends (the process died), so a
    standby replica starts polling within `retry_s` seconds; an update the dead one had taken but not finished
    comes again and is answered once (processed update keys, bot/chat/processed.py).
    """
    while True:
        try:
            if app.updater.running:
                if not await asyncio.to_thread(lock.still_held):
                    log.warning("polling lock lost: this replica stops polling")
                    await app.updater.stop()
            elif await asyncio.to_thread(lock.try_acquire):
                log.info("this replica holds the polling lock: polling Telegram")
                await app.updater.start_polling(
                    allowed_updates=Update.ALL_TYPES, poll_interval=0.0, timeout=30
                )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("polling leadership check failed")
        await asyncio.sleep(retry_s)


async def stop(app: Application) -> None:
    """Stop receiving, finish the running updates, stop the notifier and shut down."""
    for name in ("poller", "notifier"):
        task = app.bot_data.pop(name, None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    if app.updater.running:
        await app.updater.stop()
    lock = app.bot_data.pop("leader", None)
    if lock is not None:
        await asyncio.to_thread(lock.release)
    if app.running:
        await app.stop()
    await app.shutdown()
