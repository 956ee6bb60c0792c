"""Staff web pages for the review workflow: the filtered, paged queue and an item with its legal actions."""

from __future__ import annotations

import html
import math
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.channels.web.edge import positive_int
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.staff import offer_flags, review
from bot.staff.accounts import StaffError
from bot.staff.item_view import member_label, when
from bot.staff.queue import QueueFilter, queue, sectors
from bot.staff.texts import t
from bot.storage.models import Attachment, Submission
from bot.suggestions.types import catalog

PER_PAGE = 20
MAX_PAGE = 100_000  # a page number beyond this is refused (the offset would be absurd)


def _options(pairs: list[tuple[str, str]], selected: str) -> str:
    from html import escape

    out = [f'<option value="">{t("web_all")}</option>']
    for value, label in pairs:
        sel = " selected" if value == selected else ""
        out.append(f'<option value="{escape(value)}"{sel}>{escape(label)}</option>')
    return "".join(out)


def _filter(query) -> tuple[QueueFilter, list[str]]:
    """The queue filter from the query string; bad values are reported, not guessed."""
    cat = catalog()
    f, bad = QueueFilter(), []
    f.type = query.get("type", "") if query.get("type", "") in {x.key for x in cat.types} else ""
    f.status = query.get("status", "") if query.get("status", "") in cat.statuses else ""
    f.category, f.sector = query.get("category", "")[:100], query.get("sector", "")[:100]
    if query.get("campaign", "").strip():
        number = positive_int(query["campaign"])
        if number is not None:
            f.campaign = number
        else:
            bad.append("征集活动编号")
    for key, attr in (("from", "date_from"), ("to", "date_to")):
        if query.get(key):
            try:
                setattr(f, attr, date.fromisoformat(query[key]))
            except ValueError:
                bad.append("日期")
    return f, bad


@staff_required
async def queue_page(request: web.Request) -> web.Response:
    """The review queue with filters and paging."""
    f, bad = _filter(request.query)
    pg = positive_int(request.query.get("page", ""), default=1)
    if pg is None or pg > MAX_PAGE:
        raise web.HTTPBadRequest(text=t("web_bad_number"), headers=HEADERS)
    rows, total, sector_list = await _db_call(request, lambda s: (*queue(s, f, pg, PER_PAGE), sectors(s)))
    cat = catalog()
    categories = sorted({c for x in cat.types for c in x.categories})
    filters = web_page(
        "queue_filters",
        types_html=_options([(x.key, x.name) for x in cat.types], f.type),
        statuses_html=_options(list(cat.statuses.items()), f.status),
        categories_html=_options([(c, c) for c in categories], f.category),
        sectors_html=_options([(x, x) for x in sector_list], f.sector),
        campaign=request.query.get("campaign", ""), date_from=request.query.get("from", ""),
        date_to=request.query.get("to", ""), total=total,
    )  # fmt: skip
    lines = [
        web_page("queue_row", receipt=i.receipt_no, type_name=cat.get(i.type).name, status=cat.status_label(i.status),
                 title=i.title, category=i.category, member=m.name if m else "公众", sector=m.sector if m else "",
                 date=when(i.created_at))
        for i, m in rows
    ]  # fmt: skip
    pages = max(1, math.ceil(total / PER_PAGE))
    keep = {k: v for k, v in request.query.items() if k != "page" and v}
    links = []
    if pg > 1:
        links.append(f'<a href="/staff/?{urlencode({**keep, "page": pg - 1})}">{t("web_prev")}</a>')
    links.append(f"{pg}/{pages}")
    if pg < pages:
        links.append(f'<a id="next" href="/staff/?{urlencode({**keep, "page": pg + 1})}">{t("web_next")}</a>')
    table = web_page(
        "queue_table", rows_html="\n".join(lines), pager_html=" ".join(links).replace("&", "&amp;")
    )
    flash = web_page("flash_error", text=t("web_bad_filter", what="、".join(bad))) if bad else ""
    return page(request, t("web_queue_title"), filters + table, 400 if bad else 200, flash)


def _attachment_li(a: Attachment) -> str:
    from html import escape

    name = escape(a.file_name or a.file_id)
    link = f'<a href="/staff/attachment/{a.id}">{name}</a>' if a.local_path else name
    return f"<li>{link}（{escape(a.kind)}）</li>"


def _item_body(s, item: Submission, csrf: str, form: dict) -> str:
    cat = catalog()
    stype = cat.get(item.type)
    from html import escape

    fields = "".join(
        f"<tr><th>{escape(f.label)}</th><td>{escape(item.fields.get(f.key) or '')}</td></tr>"
        for f in stype.fields
    )
    attachments = "".join(_attachment_li(a) for a in item.attachments) or f"<li>{t('web_none')}</li>"
    assignments = (
        "".join(
            f"<li>{t('role_' + a.role)}：{escape(a.body)} {escape(a.contact)}</li>"
            for a in review.assignments(s, item)
        )
        or f"<li>{t('web_none')}</li>"
    )
    replies = (
        "".join(
            f"<li>{t('grade_' + r.grade) if r.grade else '-'}（{when(r.created_at)}，{escape(r.staff)}）："
            f"{escape(r.text)}<br>委员评价：<b class='rating'>{escape(r.rating or t('not_rated'))}</b></li>"
            for r in review.replies(s, item)
        )
        or f"<li>{t('web_none')}</li>"
    )
    history = "".join(
        f"<tr><td>{when(h.created_at)}</td><td>{escape(cat.status_label(h.from_status or '') or '—')}</td>"
        f"<td>{escape(cat.status_label(h.to_status))}</td><td>{escape(h.reason)}</td><td>{escape(h.actor)}</td></tr>"
        for h in item.history
    )
    return web_page(
        "item", status=cat.status_label(item.status), type_name=stype.name, member=member_label(s, item),
        date=when(item.created_at), category_label=stype.category_label, category=item.category or "-",
        fields_html=fields, attachments_html=attachments, assignments_html=assignments, replies_html=replies,
        history_html=history, actions_html=_actions(item, csrf, form),
    )  # fmt: skip


def _actions(item: Submission, csrf: str, form: dict) -> str:
    """One form per legal action; a failed form keeps what the staff member typed."""
    cat = catalog()
    out = []
    for action in review.actions_for(item):
        label = t(f"act_{action}")
        if action == "decline":
            conv = "".join(
                f'<option value="{k}"{" selected" if form.get("convert_to") == k else ""}>{cat.get(k).name}</option>'
                for k in review.CONVERSIONS.get(item.type, ())
            )
            out.append(web_page("action_decline", csrf=csrf, label=label, reason=form.get("reason", ""),
                                conversions_html=conv))  # fmt: skip
        elif action == "assign":
            out.append(web_page("action_assign", csrf=csrf, label=label, lead=form.get("lead", ""),
                                assisting=form.get("assisting", ""), contact=form.get("contact", "")))  # fmt: skip
        elif action == "reply":
            grades = "".join(
                f'<option value="{g}"{" selected" if form.get("grade") == g else ""}>{t("grade_" + g)}</option>'
                for g in review.GRADES
            )
            out.append(web_page("action_reply", csrf=csrf, label=label, reply=form.get("reply", ""),
                                grades_html=grades))  # fmt: skip
        else:
            out.append(web_page("action_simple", csrf=csrf, action=action, label=label))
    flag = "offer_show" if item.offer_hidden else "offer_hide"  # not a workflow move: always available
    out.append(web_page("action_simple", csrf=csrf, action=flag, label=t(f"act_{flag}")))
    return "\n".join(out)


async def _render_item(request: web.Request, receipt: str, flash: str = "", status: int = 200, form=None):
    def build(s):
        item = review.load(s, receipt)
        return item.receipt_no, _item_body(s, item, request["csrf"], form or {})

    try:
        number, body = await _db_call(request, build)
    except StaffError as exc:
        return page(
            request,
            t("web_item_title", receipt=receipt),
            "",
            404,
            web_page("flash_error", text=html.unescape(str(exc))),
        )
    return page(request, t("web_item_title", receipt=number), body, status, flash)


@staff_required
async def item_page(request: web.Request) -> web.Response:
    """An item with every field, attachments, status history, and its legal actions."""
    done = request.query.get("done", "")
    flash = (
        web_page("flash_ok", text=t("web_done", action=t(f"act_{done}")))
        if done in review.ACTION_TARGETS or done in offer_flags.ACTIONS
        else ""
    )
    return await _render_item(request, request.match_info["receipt"], flash)


@staff_required
async def item_action(request: web.Request) -> web.StreamResponse:
    """Run one action from the item page; an illegal move or bad input is shown and nothing is lost."""
    form = {k: str(v)[:5000] for k, v in request["form"].items() if k != "csrf"}
    receipt, action = request.match_info["receipt"], form.get("action", "")
    data = review.ActionInput(
        reason=form.get("reason", ""), convert_to=form.get("convert_to", ""), lead=form.get("lead", ""),
        assisting=[a for a in form.get("assisting", "").replace(",", "、").replace("，", "、").split("、")],
        contact=form.get("contact", ""), reply=form.get("reply", ""), grade=form.get("grade", ""),
    )  # fmt: skip
    staff = request["staff"]
    try:
        if action in offer_flags.ACTIONS:
            await _db_call(request, offer_flags.set_offer_hidden, staff, receipt, offer_flags.ACTIONS[action])
        else:
            await _db_call(request, review.perform, staff, receipt, action, data)
    except StaffError as exc:
        return await _render_item(
            request, receipt, web_page("flash_error", text=html.unescape(str(exc))), 400, form
        )
    raise web.HTTPSeeOther(f"/staff/item/{receipt.strip().upper()}?done={action}")


@staff_required
async def attachment(request: web.Request) -> web.StreamResponse:
    """An attachment's file, downloaded by the bot into data_dir/attachments (nothing outside it is served)."""
    att_id = request.match_info["id"]
    number = positive_int(att_id)
    row = await _db_call(request, lambda s: s.get(Attachment, number)) if number is not None else None
    root = (services_of(request).settings.data_dir / "attachments").resolve()
    path = Path(row.local_path).resolve() if row is not None and row.local_path else None
    if path is None or not path.is_relative_to(root) or not path.is_file():
        raise web.HTTPNotFound(text=t("web_no_file"), headers=HEADERS)
    name = quote(row.file_name or path.name)
    headers = {**HEADERS, "Content-Disposition": f"attachment; filename*=UTF-8''{name}"}
    return web.FileResponse(path, headers=headers)


def add_routes(app: web.Application) -> None:
    """The queue and item routes (relative to /staff/)."""
    app.router.add_get("/", queue_page)
    app.router.add_get("/item/{receipt}", item_page)
    app.router.add_post("/item/{receipt}", item_action)
    app.router.add_get("/attachment/{id}", attachment)
