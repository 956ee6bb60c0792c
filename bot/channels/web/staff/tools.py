"""Staff web pages around the workflow: audit log, overdue items and reminders, regulations, replies export."""

from __future__ import annotations

import asyncio
import html
import json
from urllib.parse import quote

from aiohttp import web

from bot.channels.web.edge import positive_int
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.staff import audit, overdue, regs
from bot.staff.accounts import StaffError
from bot.staff.export import csv_stream
from bot.staff.texts import t
from bot.suggestions.service import TIMEZONE

PER_PAGE = 50
MAX_PAGE = 100_000  # a page number beyond this is refused


def _times(repeats: int) -> str:
    """A folded row's count of attempts (anonymous views of one address in one minute)."""
    return f"（共 {repeats} 次）" if repeats > 1 else ""


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False) if value is not None else ""


@staff_required
async def audit_page(request: web.Request) -> web.Response:
    """The audit log, newest first, paged."""
    pg = positive_int(request.query.get("page", ""), default=1)
    if pg is None or pg > MAX_PAGE:
        raise web.HTTPBadRequest(text=t("web_bad_number"), headers=HEADERS)
    entries = await _db_call(request, lambda s: audit.latest(s, PER_PAGE + 1, (pg - 1) * PER_PAGE))
    rows = "".join(
        f"<tr><td>{e.at.astimezone(TIMEZONE):%Y-%m-%d %H:%M:%S}</td><td>{html.escape(e.actor)}</td>"
        f"<td>{html.escape(e.channel)}</td><td class='action'>{html.escape(e.action)}</td><td>{html.escape(e.target)}{_times(e.repeats)}</td>"
        f"<td>{html.escape(_json(e.before))}</td><td>{html.escape(_json(e.after))}</td></tr>"
        for e in entries[:PER_PAGE]
    )
    links = []
    if pg > 1:
        links.append(f'<a href="/staff/audit?page={pg - 1}">{t("web_prev")}</a>')
    if len(entries) > PER_PAGE:
        links.append(f'<a href="/staff/audit?page={pg + 1}">{t("web_next")}</a>')
    return page(
        request, t("web_audit_title"), web_page("audit_table", rows_html=rows, pager_html=" ".join(links))
    )


async def _overdue_page(request: web.Request, flash: str = "", status: int = 200) -> web.Response:
    days = services_of(request).settings.reply_due_days
    items = await _db_call(request, overdue.overdue, days)
    rows = "".join(
        web_page("overdue_row", receipt=i.receipt, title=i.title, status=i.status, days=i.days_over, lead=i.lead,
                 contact=i.contact, staff=i.staff, reminders=i.reminders, csrf=request["csrf"])
        for i in items
    )  # fmt: skip
    body = web_page("overdue_table", days=days, rows_html=rows)
    return page(request, t("web_overdue_title"), body, status, flash)


@staff_required
async def overdue_page(request: web.Request) -> web.Response:
    """Items with no reply after LVZHI_REPLY_DUE_DAYS, with a reminder button each."""
    return await _overdue_page(request)


@staff_required
async def remind(request: web.Request) -> web.Response:
    """Send and record a reminder for one overdue item."""
    try:
        who = await _db_call(request, overdue.remind, request["staff"], request.match_info["receipt"])
    except StaffError as exc:
        return await _overdue_page(request, web_page("flash_error", text=html.unescape(str(exc))), 400)
    return await _overdue_page(request, web_page("flash_ok", text=t("web_reminded", who="、".join(who))))


@staff_required
async def reg_page(request: web.Request) -> web.Response:
    """Matching articles in the documents' exact words, with a link to the whole section."""
    query = request.query.get("q", "").strip()[:200]
    body = web_page("reg_form", query=query)
    if query:
        kb = services_of(request).knowledge
        passages = await asyncio.to_thread(regs.find, kb, query)
        if not passages:
            body += web_page("flash_error", text=html.unescape(t("reg_none", query=query)))
        for p in passages:
            body += web_page("reg_passage", title=p.title, section=p.section, text=p.text,
                             chunk_id_q=quote(p.chunk_id, safe=""))  # fmt: skip
    return page(request, t("web_reg_title"), body)


@staff_required
async def reg_section(request: web.Request) -> web.Response:
    """The whole section around a passage, in document order."""
    kb = services_of(request).knowledge
    chunk_id = request.query.get("id", "")
    chunks = await asyncio.to_thread(regs.section, kb, chunk_id)
    if not chunks:
        flash = web_page("flash_error", text=html.unescape(t("reg_gone")))
        return page(request, t("web_reg_section_title"), "", 404, flash)
    title = html.escape(f"《{chunks[0].title}》{chunks[0].section.split(' > ')[0]}")
    body = "".join(web_page("reg_section", section=c.section, text=c.text) for c in chunks)
    return page(request, title, body)


@staff_required
async def export_replies(request: web.Request) -> web.StreamResponse:
    """Replies and ratings as a streamed CSV download."""
    headers = {**HEADERS, "Content-Disposition": 'attachment; filename="replies.csv"'}
    resp = web.StreamResponse(headers={**headers, "Content-Type": "text/csv; charset=utf-8"})
    await resp.prepare(request)
    db = services_of(request).db
    queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=8)
    loop = asyncio.get_running_loop()

    def produce() -> None:
        try:
            with db.session() as s:
                for chunk in csv_stream(s):
                    asyncio.run_coroutine_threadsafe(queue.put(chunk), loop).result()
        finally:
            asyncio.run_coroutine_threadsafe(queue.put(None), loop).result()

    producer = asyncio.create_task(asyncio.to_thread(produce))
    while (chunk := await queue.get()) is not None:
        await resp.write(chunk)
    await producer
    await resp.write_eof()
    return resp


def add_routes(app: web.Application) -> None:
    """The audit, overdue, regulations and export routes (relative to /staff/)."""
    app.router.add_get("/audit", audit_page)
    app.router.add_get("/overdue", overdue_page)
    app.router.add_post("/overdue/{receipt}", remind)
    app.router.add_get("/reg", reg_page)
    app.router.add_get("/reg/section", reg_section)
    app.router.add_get("/export/replies.csv", export_replies)
