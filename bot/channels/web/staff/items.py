"""Staff web pages for the review workflow: the filtered, paged queue and an item with its legal actions."""

from __future__ import annotations

import html
import math
from datetime import date
from pathlib import Path
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.channels.web.edge import positive_int
from bot.channels.web.staff.forms import confirm_page, confirmed, field_vars
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.staff import offer_flags, review
from bot.staff.accounts import StaffError
from bot.staff.item_view import member_label, when
from bot.staff.queue import QueueFilter, queue, sectors
from bot.staff.texts import t
from bot.storage.models import Attachment, Submission
from bot.suggestions.types import catalog

PER_PAGE = 20
CONFIRM = {"accept", "decline", "close"}  # item actions that cannot be undone: confirmed first (issue 11)
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
    # one type's own categories once it is chosen; before that, every type's (教育 / 教育文化 / 文化教育 side by side)
    categories = (
        list(cat.get(f.type).categories) if f.type else sorted({c for x in cat.types for c in x.categories})
    )
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


def _item_body(s, item: Submission, csrf: str, form: dict, errors: dict[str, str]) -> str:
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
        history_html=history, actions_html=_actions(item, csrf, form, errors),
    )  # fmt: skip


def _options_of(pairs: list[tuple[str, str]], selected: str) -> str:
    from html import escape

    return "".join(
        f'<option value="{escape(k, quote=True)}"{" selected" if selected == k else ""}>{escape(v)}</option>'
        for k, v in pairs
    )


def _actions(item: Submission, csrf: str, form: dict, errors: dict[str, str]) -> str:
    """The legal actions grouped by what they need: buttons that need nothing first (those that cannot be undone
    ask for confirmation), then one form per action with inputs, each holding only its own fields (the reason
    belongs to 不予立案; the grade only to the types whose replies are graded). A refused form keeps what was typed
    and shows the error next to its field."""
    cat = catalog()
    receipt = item.receipt_no
    direct, forms = [], []
    for action in review.actions_for(item):
        label = t(f"act_{action}")
        if action == "decline":
            conversions = [(k, cat.get(k).name) for k in review.CONVERSIONS.get(item.type, ())]
            convert = (
                web_page("action_decline_convert", **field_vars(errors, "convert_to"),
                         conversions_html=_options_of(conversions, form.get("convert_to", "")))
                if conversions else ""
            )  # fmt: skip
            forms.append(web_page("action_decline", csrf=csrf, receipt=receipt, label=label,
                                  reason=form.get("reason", ""), convert_html=convert,
                                  **field_vars(errors, "reason")))  # fmt: skip
        elif action == "assign":
            forms.append(web_page("action_assign", csrf=csrf, receipt=receipt, label=label,
                                  lead=form.get("lead", ""), assisting=form.get("assisting", ""),
                                  contact=form.get("contact", ""), **field_vars(errors, "lead")))  # fmt: skip
        elif action == "reply":
            grades = [(g, t("grade_" + g)) for g in review.GRADES]
            grade = (
                web_page("action_reply_grade", grades_html=_options_of(grades, form.get("grade", "")),
                         **field_vars(errors, "grade"))
                if review.reply_graded(item) else ""
            )  # fmt: skip
            forms.append(web_page("action_reply", csrf=csrf, receipt=receipt, label=label,
                                  reply=form.get("reply", ""), grade_html=grade,
                                  **field_vars(errors, "reply")))  # fmt: skip
        else:
            shown = f"{label}…" if action in CONFIRM else label
            direct.append(web_page("action_simple", csrf=csrf, receipt=receipt, action=action, label=shown))
    flag = "offer_show" if item.offer_hidden else "offer_hide"  # not a workflow move: always available
    offer = web_page("action_simple", csrf=csrf, receipt=receipt, action=flag, label=t(f"act_{flag}"))
    return web_page(
        "action_groups", direct_html="\n".join(direct), forms_html="\n".join(forms), offer_html=offer
    )


async def _render_item(
    request: web.Request, receipt: str, flash: str = "", status: int = 200, form=None, errors=None
):
    def build(s):
        item = review.load(s, receipt)
        return item.receipt_no, _item_body(s, item, request["csrf"], form or {}, errors or {})

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


def _confirmation(request: web.Request, item: Submission, action: str, form: dict) -> web.Response:
    """The confirmation step of an action that cannot be undone: what it does to which item, with its inputs."""
    from html import escape

    cat = catalog()
    path = review.target_of(item, action) or [item.status]
    label = html.unescape(t(f"act_{action}"))
    details = [("状态", f"{cat.status_label(item.status)} → {cat.status_label(path[-1])}")]
    if form.get("reason", "").strip():
        details.append(("理由", form["reason"].strip()))
    if form.get("convert_to", "") in review.CONVERSIONS.get(item.type, ()):
        details.append(("同时转为", cat.get(form["convert_to"]).name))
    rows = "".join(f"<tr><th>{escape(k)}</th><td>{escape(v)}</td></tr>" for k, v in details)
    return confirm_page(
        request, title=f"确认{label}", what=f"item:{item.receipt_no}:{action}",
        question=_plain("web_confirm_item", receipt=item.receipt_no, title=item.title, action=label),
        details_html=f'<table class="fields" id="confirm-details">{rows}</table>', button=f"确认{label}",
        back=f"/staff/item/{item.receipt_no}", fields={k: v for k, v in form.items() if k != "confirm"},
    )  # fmt: skip


def _plain(name: str, /, **variables: object) -> str:
    """A staff template rendered as plain text (confirm_page escapes it)."""
    return html.unescape(t(name, **variables))


@staff_required
async def item_action(request: web.Request) -> web.StreamResponse:
    """Run one action from the item page; an illegal move or bad input is shown next to its field and nothing is
    lost; an action that cannot be undone (CONFIRM) first shows the confirmation step and runs only when confirmed."""
    form = {k: str(v)[:5000] for k, v in request["form"].items() if k != "csrf"}
    receipt, action = request.match_info["receipt"], form.get("action", "")
    data = review.ActionInput(
        reason=form.get("reason", ""), convert_to=form.get("convert_to", ""), lead=form.get("lead", ""),
        assisting=[a for a in form.get("assisting", "").replace(",", "、").replace("，", "、").split("、")],
        contact=form.get("contact", ""), reply=form.get("reply", ""), grade=form.get("grade", ""),
    )  # fmt: skip
    staff = request["staff"]
    try:
        if action in CONFIRM and not confirmed(request, f"item:{receipt.strip().upper()}:{action}"):
            return await _db_call(
                request,
                lambda s: _confirmation(request, review.check(s, receipt, action, data), action, form),
            )
        if action in offer_flags.ACTIONS:
            await _db_call(request, offer_flags.set_offer_hidden, staff, receipt, offer_flags.ACTIONS[action])
        else:
            await _db_call(request, review.perform, staff, receipt, action, data)
    except StaffError as exc:
        message = html.unescape(str(exc))
        if exc.field:
            return await _render_item(request, receipt, "", 400, form, {exc.field: message})
        return await _render_item(request, receipt, web_page("flash_error", text=message), 400, form)
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
