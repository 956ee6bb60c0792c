"""`lvzhi serve`: the local web chat, plus the Telegram bot in the same event loop when a token is set."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot.services import build_services

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the serve command."""
    p = subparsers.add_parser("serve", help="启动网页聊天（及配置了令牌时的 Telegram 机器人）")
    p.add_argument("--host", default=None, help="网页监听地址（默认 LVZHI_WEB_HOST）")
    p.add_argument("--port", type=int, default=None, help="网页端口（默认 LVZHI_WEB_PORT）")
    p.add_argument("--no-telegram", action="store_true", help="即使设置了令牌也不启动 Telegram 机器人")
    p.set_defaults(func=serve_cmd)


async def serve(services, host: str, port: int, telegram: bool, stop: asyncio.Event) -> None:
    """Run the web chat and (optionally) the Telegram bot until `stop` is set."""
    from bot.channels.web.app import build_web_app

    await asyncio.to_thread(lambda: (services.db, services.answerer))  # migrate and load before serving
    runner = web.AppRunner(build_web_app(services))
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    log.info("网页聊天已启动：http://%s:%s", host, port)
    from bot.campaigns.jobs import run_forever as campaign_job
    from bot.chat.processed import prune_forever

    campaigns = asyncio.create_task(campaign_job(services.db))  # open and close campaigns on time
    pruning = asyncio.create_task(prune_forever(services.db))  # processed update keys older than 7 days
    from bot.activities.jobs import run_forever as activity_job

    activities = asyncio.create_task(  # reminders before activities, attendance into the duty record
        activity_job(services.db, services.settings.activity_reminder_hours)
    )
    tg = None
    if telegram and services.settings.telegram_token:
        from bot.channels.telegram import app as tg_app

        tg = tg_app.build_application(services)
        await tg_app.start(tg)
        services.broadcasts.attach(tg.bot)  # staff pages can start invitation broadcasts
    try:
        await stop.wait()
    finally:
        await services.broadcasts.stop()
        for job in (campaigns, pruning, activities):
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        if tg is not None:
            await tg_app.stop(tg)
        await runner.cleanup()


def serve_cmd(args: argparse.Namespace) -> int:
    """Entry point of `lvzhi serve`."""
    services = build_services()
    s = services.settings

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await serve(services, args.host or s.web_host, args.port or s.web_port, not args.no_telegram, stop)

    asyncio.run(main())
    return 0
