"""Streamed downloads of the staff pages: bytes made in a worker thread, written to the response with back-pressure."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator

from aiohttp import web

from bot.channels.web.staff.pages import HEADERS

MIME = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


async def stream_download(
    request: web.Request, filename: str, fmt: str, chunks: Callable[[], Iterator[bytes]]
) -> web.StreamResponse:
    """Send `filename` as an attachment of type `fmt` ("csv"/"xlsx"); chunks() runs in a worker thread (it may open
    its own database session) and at most 8 pieces wait in memory at a time."""
    resp = web.StreamResponse(
        headers={
            **HEADERS,
            "Content-Type": MIME[fmt],
            "Content-Disposition": f'attachment; filename="{filename}"',
        }
    )
    await resp.prepare(request)
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    loop = asyncio.get_running_loop()

    def put(chunk: bytes | None) -> None:
        asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()

    def work() -> None:
        try:
            for chunk in chunks():
                put(chunk)
        finally:
            put(None)

    producer = asyncio.create_task(asyncio.to_thread(work))
    while (chunk := await queue.get()) is not None:
        await resp.write(chunk)
    await producer
    await resp.write_eof()
    return resp
