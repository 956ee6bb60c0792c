"""`lvzhi serve`: the local web chat, plus the Telegram bot in the same event loop (uvloop's) when a token is set."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

import uvloop
from aiohttp import web

from bot.services import build_services

log = logging.getLogger(__name__)
ROLES = ("all", "web", "sender")


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the serve command."""
    p = subparsers.add_parser("serve", help="启动网页聊天（及配置了令牌时的 Telegram 机器人）")
    p.add_argument("--host", default=None, help="网页监听地址（默认 LVZHI_WEB_HOST）")
    p.add_argument("--port", type=int, default=None, help="网页端口（默认 LVZHI_WEB_PORT）")
    p.add_argument("--no-telegram", action="store_true", help="即使设置了令牌也不启动 Telegram 机器人")
    p.add_argument(
        "--role",
        choices=ROLES,
        default="all",
        help="多副本部署：all 全部；web 只接收并回答（网页、工作人员页面、Telegram 更新）；"
        "sender 只发送（通知队列、邀请群发、定时任务）",
    )
    p.set_defaults(func=serve_cmd)


async def serve(
    services, host: str, port: int, telegram: bool, stop: asyncio.Event, role: str = "all"
) -> None:
    """Run the web chat and (optionally) the Telegram bot until `stop` is set.

    role "all": everything; "web": the web chat, staff pages and Telegram updates (answers), no outbox delivery,
    broadcasts or periodic jobs; "sender": the outbox, broadcasts (also taking over a dead replica's) and the
    periodic jobs, no web listener and no updates. Periodic jobs run on one replica at a time (advisory locks).
    """
    from bot.campaigns.jobs import run_forever as campaign_job
    from bot.chat.processed import prune_forever
    from bot.periodic import run_every

    answers, sends = role in ("all", "web"), role in ("all", "sender")
    if answers:  # the database, the answerer and the dense index opened before the port opens
        await asyncio.to_thread(lambda: (services.db, services.answerer, services.knowledge.warm_up_dense()))
    else:
        await asyncio.to_thread(lambda: services.db)
    runner = None
    if answers:
        from bot.channels.web.app import build_web_app

        access_log = logging.getLogger("aiohttp.access") if services.settings.web_access_log else None
        runner = web.AppRunner(build_web_app(services), access_log=access_log)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        log.info("网页聊天已启动：http://%s:%s（副本 %s）", host, port, services.settings.resolved_replica_id)
    jobs = []
    if sends:
        jobs.append(asyncio.create_task(campaign_job(services.db)))  # open and close campaigns on time
        jobs.append(
            asyncio.create_task(prune_forever(services.db))
        )  # processed update keys older than 7 days
        from bot.activities.jobs import run_forever as activity_job

        jobs.append(  # reminders before activities, attendance into the duty record
            asyncio.create_task(activity_job(services.db, services.settings.activity_reminder_hours))
        )
        if services.shared_limits:
            flood = services.flood_limiter("", 0)
            jobs.append(
                asyncio.create_task(run_every(3600.0, flood.prune, lambda n: None, "pruning flood counts"))
            )
    tg = None
    services.broadcasts.sends = sends
    if telegram and services.settings.telegram_token:
        from bot.channels.telegram import app as tg_app

        tg = tg_app.build_application(services)
        await tg_app.start(tg, receive=answers, send=sends)
        services.broadcasts.attach(tg.bot)  # staff pages can start invitation broadcasts
        if sends:  # a broadcast whose replica died is taken over after its lease
            interval = services.settings.work_check_interval_s
            jobs.append(asyncio.create_task(services.broadcasts.resume_forever(services.db, interval)))
    try:
        await stop.wait()
    finally:
        for job in jobs:
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        await services.broadcasts.stop()
        if tg is not None:
            await tg_app.stop(tg)
        if runner is not None:
            await runner.cleanup()
        if "answer_pool" in services.__dict__:  # its jobs are done: their requests and updates have ended
            await asyncio.to_thread(services.answer_pool.shutdown)


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
        host, port = args.host or s.web_host, args.port or s.web_port
        await serve(services, host, port, not args.no_telegram, stop, args.role)

    # libuv's event loop: ~0.2 ms less CPU per member's message than asyncio's own (README, "Serving cost")
    uvloop.run(main())
    return 0
