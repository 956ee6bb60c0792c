"""Staff web pages around the workflow: audit log, overdue items and reminders, regulations, replies export."""

from __future__ import annotations

import asyncio
import html
from datetime import date, datetime, time, timedelta
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.channels.web.edge import positive_int
from bot.channels.web.staff import audit_view
from bot.channels.web.staff.downloads import stream_download
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.staff import audit, audit_labels, overdue, regs
from bot.staff.accounts import StaffError
from bot.staff.export import csv_stream
from bot.staff.texts import t
from bot.suggestions.service import TIMEZONE

PER_PAGE = 50
MAX_PAGE = 100_000  # a page number beyond this is refused


def _audit_filter(query) -> tuple[audit.AuditFilter, dict[str, str]]:
    """The audit filter from the query string; a bad date is reported next to its field, not guessed."""
    f = audit.AuditFilter(actor=query.get("actor", "")[:120], target=query.get("target", "")[:200])
    if query.get("action", "") in audit_labels.action_codes():
        f.actions = (query["action"],)
    errors = {}
    for key in ("from", "to"):
        if query.get(key, "").strip():
            try:
                day = date.fromisoformat(query[key].strip())
            except ValueError:
                errors[key] = t("web_audit_bad_date")
                continue
            start = datetime.combine(day, time(), TIMEZONE)
            if key == "from":
                f.since = start
            else:
                f.until = start + timedelta(days=1)
    return f, errors


@staff_required
async def audit_page(request: web.Request) -> web.Response:
    """The audit log, newest first, paged and filtered (who, action, target, dates), each row in words."""
    pg = positive_int(request.query.get("page", ""), default=1)
    if pg is None or pg > MAX_PAGE:
        raise web.HTTPBadRequest(text=t("web_bad_number"), headers=HEADERS)
    f, errors = _audit_filter(request.query)

    def load(s):
        return audit.search(s, f, PER_PAGE + 1, (pg - 1) * PER_PAGE), audit.staff_names(s)

    entries, actors = await _db_call(request, load)
    rows = "".join(audit_view.row_html(e) for e in entries[:PER_PAGE])
    keep = {k: v for k, v in request.query.items() if k != "page" and v}
    links = []
    if pg > 1:
        links.append(f'<a id="prev" href="/staff/audit?{html.escape(urlencode({**keep, "page": pg - 1}))}">'
                     f'{t("web_prev")}</a>')  # fmt: skip
    links.append(f"第 {pg} 页")
    if len(entries) > PER_PAGE:
        links.append(f'<a id="next" href="/staff/audit?{html.escape(urlencode({**keep, "page": pg + 1}))}">'
                     f'{t("web_next")}</a>')  # fmt: skip
    filters = audit_view.filters_html(dict(request.query), actors, errors)
    table = web_page(
        "audit_table",
        rows_html=rows or f'<tr><td colspan="6">{t("web_audit_none")}</td></tr>',
        pager_html=" ".join(links),
    )
    return page(request, t("web_audit_title"), filters + table, 400 if errors else 200)


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
    db = services_of(request).db

    def chunks():
        with db.session() as s:
            yield from csv_stream(s)

    return await stream_download(request, "replies.csv", "csv", chunks)


def add_routes(app: web.Application) -> None:
    """The audit, overdue, regulations and export routes (relative to /staff/)."""
    app.router.add_get("/audit", audit_page)
    app.router.add_get("/overdue", overdue_page)
    app.router.add_post("/overdue/{receipt}", remind)
    app.router.add_get("/reg", reg_page)
    app.router.add_get("/reg/section", reg_section)
    app.router.add_get("/export/replies.csv", export_replies)
