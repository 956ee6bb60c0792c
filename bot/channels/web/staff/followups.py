"""/staff/followups: the questions members asked the office to follow up, with a 「已跟进」 button each."""

from __future__ import annotations

import html

from aiohttp import web

from bot.channels.web.edge import positive_int
from bot.channels.web.staff.pages import _db_call, page, staff_required, web_page
from bot.staff import followups
from bot.staff.accounts import StaffError
from bot.staff.texts import t
from bot.suggestions.service import TIMEZONE

CHANNELS = {"telegram": "Telegram", "web": "网页"}


def _when(moment) -> str:
    return f"{moment.astimezone(TIMEZONE):%Y-%m-%d %H:%M}" if moment else ""


async def _page(request: web.Request, flash: str = "", status: int = 200) -> web.Response:
    def load(s):
        return followups.listing(s), followups.listing(s, done=True, limit=50)

    open_rows, done_rows = await _db_call(request, load)
    rows = "".join(
        web_page("followups_row", id=r.id, asked=_when(r.asked_at), who=r.who, sector=r.sector,
                 channel=CHANNELS.get(r.channel, r.channel), question=r.question, csrf=request["csrf"])
        for r in open_rows
    ) or web_page("followups_none")  # fmt: skip
    done = "".join(
        web_page("followups_done_row", id=r.id, asked=_when(r.asked_at), who=r.who, question=r.question,
                 done=_when(r.done_at), by=r.done_by)
        for r in done_rows
    ) or web_page("followups_done_none")  # fmt: skip
    body = web_page("followups_table", count=len(open_rows), rows_html=rows, done_html=done)
    return page(request, t("web_followups_title"), body, status, flash)


@staff_required
async def followups_page(request: web.Request) -> web.Response:
    """The open questions (oldest first) and the latest ones marked done."""
    return await _page(request)


@staff_required
async def mark_done(request: web.Request) -> web.Response:
    """Mark one question followed up (audited); an unknown or already done one gets a message."""
    number = positive_int(request.match_info["id"])  # ASCII digits only, bounded ('²' is no number)
    if number is None:
        return await _page(request, web_page("flash_error", text=html.unescape(t("web_bad_number"))), 400)
    try:
        await _db_call(request, followups.mark_done, request["staff"], number)
    except StaffError as exc:
        return await _page(request, web_page("flash_error", text=html.unescape(str(exc))), 400)
    return await _page(request, web_page("flash_ok", text=html.unescape(t("web_followup_done", id=number))))


def add_routes(app: web.Application) -> None:
    """The follow-up list routes (relative to /staff/)."""
    app.router.add_get("/followups", followups_page)
    app.router.add_post("/followups/{id}/done", mark_done)
