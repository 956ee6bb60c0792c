"""Staff web pages of duty activities: list and create, the overview (answers, attendance, leave approvals,
reminders, check-in QR code and links, edit, cancel, export) and a member's attendance over a year."""

from __future__ import annotations

import html

import segno
from aiohttp import web

from bot.activities import attendance, chat, notices, overview, service
from bot.activities.opinions import open_call
from bot.activities.service import ActivityError
from bot.channels.web.edge import positive_int
from bot.channels.web.staff.downloads import stream_download
from bot.channels.web.staff.forms import confirm_page, confirmed
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.exports.writers import table_chunks
from bot.staff import audit
from bot.staff.texts import t
from bot.storage.models import utcnow

FORM_FIELDS = ("type", "title", "start", "end", "place", "description", "attachments", "audience", "to",
               "deadline", "approval")  # fmt: skip


def _types(request: web.Request) -> list[str]:
    return service.load_types(services_of(request).settings.activity_types_file)


def _options(values: list[tuple[str, str]], selected: str) -> str:
    return "".join(
        f'<option value="{html.escape(v, quote=True)}"{" selected" if v == selected else ""}>{html.escape(label)}</option>'
        for v, label in values
    )


def _form_html(
    request: web.Request, form: dict, action: str = "/staff/activities", edit: bool = False
) -> str:
    types = _types(request)
    return web_page(
        "activity_form", csrf=request["csrf"], action=action, heading="修改活动" if edit else "创建活动",
        types_html=_options([(x, x) for x in types], form.get("type", types[0])), title=form.get("title", ""),
        start=form.get("start", ""), end=form.get("end", ""), place=form.get("place", ""),
        description=form.get("description", ""), attachments=form.get("attachments", ""),
        audiences_html=_options(list(service.AUDIENCES.items()), form.get("audience", "members")),
        to=form.get("to", ""), deadline=form.get("deadline", ""),
        approval_checked="checked" if form.get("approval", "1") == "1" else "",
        submit="保存修改（时间、地点变更会通知受邀委员）" if edit else "创建并通知受邀委员",
    )  # fmt: skip


def _list_rows(s) -> list[dict]:
    rows = []
    for a in service.list_all(s):
        ov = overview.build(s, a)
        rows.append(dict(
            id=a.id, type=a.type, title=a.title, when=service.when(a), place=a.place,
            status="已取消" if a.status == "cancelled" else "正常", invited=len(ov.rows),
            attend=ov.by_answer["attend"], leave=ov.by_answer["leave"], none=ov.by_answer["none"],
            attended=ov.by_outcome["attended"],
        ))  # fmt: skip
    return rows


async def _list_page(request: web.Request, form: dict, flash: str = "", status: int = 200) -> web.Response:
    rows = await _db_call(request, _list_rows)
    body = web_page(
        "activity_list",
        rows_html="\n".join(web_page("activity_row", **r) for r in rows) or t("web_none"),
        form_html=_form_html(request, form),
    )
    return page(request, t("web_activities_title"), body, status, flash)


@staff_required
async def list_page(request: web.Request) -> web.Response:
    """All activities with their counts, and the create form."""
    return await _list_page(request, {})


def _typed(request: web.Request) -> dict:
    form = request["form"]
    out = {k: str(form.get(k, ""))[:5000] for k in FORM_FIELDS}
    out["approval"] = "1" if form.get("approval") == "1" else "0"
    return out


def _attachments(text: str) -> list[dict]:
    return [{"name": line.strip()[:200]} for line in text.splitlines() if line.strip()][:20]


@staff_required
async def create(request: web.Request) -> web.StreamResponse:
    """Create an activity and queue its notices (audited); a refused form keeps what was typed."""
    form, staff, types = _typed(request), request["staff"], _types(request)

    def run(s):
        deadline = form["deadline"].strip()
        a = service.create(
            s, type=form["type"], title=form["title"], starts_at=service.parse_time(form["start"]),
            ends_at=service.parse_time(form["end"]), place=form["place"],
            audience=service.make_audience(s, form["audience"], service.split_names(form["to"])),
            rsvp_deadline=service.parse_time(deadline) if deadline else None,
            leave_needs_approval=form["approval"] == "1", description=form["description"],
            attachments=_attachments(form["attachments"]), created_by=staff.username, types=types,
        )  # fmt: skip
        queued = notices.send_notices(s, a)
        after = {"title": a.title, "type": a.type, "when": service.when(a), "place": a.place,
                 "audience": a.audience, "notices": queued}  # fmt: skip
        audit.record(s, staff.username, "activity_create", f"activity:{a.id}", None, after, channel="web")
        return a.id

    try:
        activity_id = await _db_call(request, run)
    except ActivityError as exc:
        return await _list_page(request, form, web_page("flash_error", text=str(exc)), 400)
    raise web.HTTPSeeOther(f"/staff/activities/{activity_id}?done=created", headers=HEADERS)


def _people(rows: list[overview.Row], csrf: str, activity_id: int, remind: bool = False) -> str:
    if not rows:
        return f"<p>{t('web_none')}</p>"
    items = []
    for r in rows:
        mark = "0" if r.attended_at else "1"
        items.append(web_page(
            "activity_person", id=activity_id, member_id=r.member_id, name=r.name, sector=r.sector,
            answer=overview.ANSWERS[r.answer] + (f"（{overview.LEAVE_STATES[r.leave_state]}）" if r.leave_state else ""),
            reason=r.leave_reason, attended=r.attended_at or "—", outcome=overview.OUTCOMES[r.outcome], csrf=csrf,
            mark=mark, mark_label="撤销出勤" if r.attended_at else "补登出席",
        ))  # fmt: skip
    return web_page("activity_people", rows_html="\n".join(items))


def _leave_rows(rows: list[overview.Row], csrf: str, activity_id: int) -> str:
    pending = [r for r in rows if r.answer == "leave" and r.leave_state == "pending"]
    return (
        "\n".join(
            web_page(
                "activity_leave_row",
                id=activity_id,
                member_id=r.member_id,
                name=r.name,
                sector=r.sector,
                reason=r.leave_reason,
                csrf=csrf,
            )  # fmt: skip
            for r in pending
        )
        or f"<p>{t('web_none')}</p>"
    )


def _audience_names(a) -> str:
    """What the edit form's 'to' field shows: sectors, committees or the chosen members' ids."""
    data = a.audience or {}
    names = data.get("sectors") or data.get("committees") or [str(x) for x in data.get("members") or []]
    return "、".join(names)


def _qr(url: str) -> str:
    """An inline SVG QR code of the check-in link (segno)."""
    return segno.make(url, error="m").svg_inline(scale=5, title="签到二维码", svgid="checkin-qr")


async def _overview(request: web.Request, flash: str = "", status: int = 200, edit_form: dict | None = None):
    settings = services_of(request).settings
    key = request.match_info["id"]

    def build(s):
        a = service.get(s, key)
        return a, overview.build(s, a), service.audience_of(a).describe()

    try:
        a, ov, audience = await _db_call(request, build)
    except ActivityError as exc:
        return page(request, t("web_activities_title"), "", 404, web_page("flash_error", text=str(exc)))
    csrf = request["csrf"]
    links = chat.links(a, settings.bot_username, settings.public_url or str(request.url.origin()))
    qr_target = links.get("telegram") or links.get("web")
    form = edit_form or {
        "type": a.type, "title": a.title, "start": service.local(a.starts_at), "end": service.local(a.ends_at),
        "place": a.place, "description": a.description, "deadline": service.local(a.rsvp_deadline),
        "approval": "1" if a.leave_needs_approval else "0",
        "attachments": "\n".join(x.get("name", "") for x in a.attachments or []),
        "audience": (a.audience or {}).get("kind", "members"),
        "to": _audience_names(a),
    }  # fmt: skip
    body = web_page(
        "activity_page", id=a.id, type=a.type, when=service.when(a), place=a.place, audience=audience,
        status="已取消" if a.status == "cancelled" else "正常", deadline=service.local(a.rsvp_deadline),
        approval="需审批" if a.leave_needs_approval else "无需审批", description=a.description,
        attachments="、".join(x.get("name", "") for x in a.attachments or []) or "无",
        invited=len(ov.rows), attend=ov.by_answer["attend"], leave=ov.by_answer["leave"],
        none=ov.by_answer["none"], pending=ov.pending_leave, attended=ov.by_outcome["attended"],
        excused=ov.by_outcome["leave"], absent=ov.by_outcome["absent"], not_yet=ov.by_outcome["pending"],
        csrf=csrf, code=a.checkin_code, qr_html=_qr(qr_target) if qr_target else "",
        links_html="".join(
            f'<li><a id="checkin-{k}" href="{html.escape(u, quote=True)}">{html.escape(u)}</a></li>'
            for k, u in links.items()
        ),
        leave_html=_leave_rows(ov.rows, csrf, a.id),
        unanswered_html=_people([r for r in ov.rows if r.answer == "none"], csrf, a.id),
        attending_html=_people(ov.of_answer("attend"), csrf, a.id),
        leaving_html=_people(ov.of_answer("leave"), csrf, a.id),
        opinions_html=_opinions_html(a, csrf),
        edit_html=_form_html(request, form, f"/staff/activities/{a.id}/edit", edit=True) if a.status != "cancelled" else "",
    )  # fmt: skip
    done = request.query.get("done", "")
    texts = {"created": t("web_activity_created", id=a.id), "edited": t("web_activity_edited"),
             "cancelled": t("web_activity_cancelled"), "decided": t("web_activity_decided"),
             "marked": t("web_activity_marked")}  # fmt: skip
    if not flash and done in texts:
        flash = web_page("flash_ok", text=html.unescape(texts[done]))
    if not flash and done == "reminded":
        count = positive_int(request.query.get("n", "0"), default=0) or 0
        flash = web_page("flash_ok", text=html.unescape(t("web_activity_reminded", count=count)))
    return page(request, t("web_activity_title", id=a.id, title=a.title), body, status, flash)


def _opinions_html(a, csrf: str) -> str:
    if a.campaign_id is not None:
        body = web_page("activity_opinions_link", campaign=a.campaign_id)
    elif a.status == "cancelled" or utcnow() < a.starts_at:
        return ""
    else:
        body = web_page("activity_opinions_form", id=a.id, csrf=csrf, end="")
    return web_page("activity_opinions", body_html=body)


@staff_required
async def opinions(request: web.Request) -> web.StreamResponse:
    """Open a call for opinions (a campaign) tied to the activity and invite its invitees (audited)."""
    staff, end = request["staff"], str(request["form"].get("end", "")).strip()[:40]

    def run(s):
        a = service.get(s, request.match_info["id"])
        campaign, queued = open_call(s, a, service.parse_time(end, end_of_day=True), staff.username)
        audit.record(s, staff.username, "activity_opinions", f"activity:{a.id}", None,
                     {"campaign": campaign.id, "invited": queued}, "web")  # fmt: skip
        return campaign.id

    try:
        campaign_id = await _db_call(request, run)
    except ActivityError as exc:
        return await _overview(request, web_page("flash_error", text=str(exc)), 400)
    raise web.HTTPSeeOther(f"/staff/campaigns/{campaign_id}", headers=HEADERS)


@staff_required
async def overview_page(request: web.Request) -> web.Response:
    """One activity: counts and lists by answer and attendance, leave approvals, QR, edit, cancel, export."""
    return await _overview(request)


async def _act(request: web.Request, run, done: str) -> web.StreamResponse:
    try:
        extra = await _db_call(request, run)
    except ActivityError as exc:
        return await _overview(request, web_page("flash_error", text=str(exc)), 400)
    suffix = f"&n={extra}" if done == "reminded" else ""
    raise web.HTTPSeeOther(
        f"/staff/activities/{request.match_info['id']}?done={done}{suffix}", headers=HEADERS
    )


@staff_required
async def edit(request: web.Request) -> web.StreamResponse:
    """Save changes; a move of time or place tells every invitee once (audited)."""
    form, staff, types = _typed(request), request["staff"], _types(request)

    def run(s):
        def when(text):
            return service.parse_time(text) if text.strip() else None

        a, change = service.edit(
            s, request.match_info["id"], type=form["type"], types=types, title=form["title"],
            starts_at=when(form["start"]), ends_at=when(form["end"]), place=form["place"], description=form["description"], rsvp_deadline=when(form["deadline"]),
            leave_needs_approval=form["approval"] == "1",
            audience=service.make_audience(s, form["audience"], service.split_names(form["to"])),
        )  # fmt: skip
        a.attachments = _attachments(form["attachments"])
        queued = notices.send_change(s, a, change)
        notices.send_notices(s, a)  # members newly invited by a wider audience
        attendance.sync_records(s, a)  # a past activity moved into the future loses its absences
        before = {"when": change.old_when, "place": change.old_place}
        after = {"fields": list(change.fields), "when": service.when(a), "place": a.place, "notices": queued}
        audit.record(s, staff.username, "activity_edit", f"activity:{a.id}", before, after, channel="web")

    try:
        await _db_call(request, run)
    except ActivityError as exc:
        return await _overview(request, web_page("flash_error", text=str(exc)), 400, form)
    raise web.HTTPSeeOther(f"/staff/activities/{request.match_info['id']}?done=edited", headers=HEADERS)


@staff_required
async def cancel(request: web.Request) -> web.StreamResponse:
    """Cancel; invitees told once (audited). Irreversible: a confirmation step first."""
    staff, reason = request["staff"], str(request["form"].get("reason", "")).strip()[:300]
    activity_id = request.match_info["id"]
    if not confirmed(request, f"activity:{activity_id}:cancel"):
        return confirm_page(
            request, title="取消履职活动", what=f"activity:{activity_id}:cancel",
            question="取消后将通知全部受邀委员，且不能恢复。确定取消这项活动吗？", button="确认取消活动",
            back=f"/staff/activities/{activity_id}", fields=dict(request["form"]),
        )  # fmt: skip

    def run(s):
        a = service.cancel(s, request.match_info["id"])
        queued = notices.send_cancel(s, a, reason)
        attendance.sync_records(s, a)
        audit.record(s, staff.username, "activity_cancel", f"activity:{a.id}", None,
                     {"reason": reason, "notices": queued}, channel="web")  # fmt: skip

    return await _act(request, run, "cancelled")


@staff_required
async def remind(request: web.Request) -> web.StreamResponse:
    """Remind those who have not answered (at most once a minute per member; audited)."""
    staff = request["staff"]

    def run(s):
        a = service.get(s, request.match_info["id"])
        if a.status == "cancelled":
            raise ActivityError(f"活动「{a.title}」已取消")
        count = notices.send_reminders(s, a, f"remind:{utcnow():%Y%m%d%H%M}")
        audit.record(s, staff.username, "activity_remind", f"activity:{a.id}", None, {"count": count}, "web")
        return count

    return await _act(request, run, "reminded")


@staff_required
async def decide(request: web.Request) -> web.StreamResponse:
    """Approve or return a leave request with a note; the member hears back (audited)."""
    staff, form = request["staff"], request["form"]
    approve = form.get("decision") == "approve"
    note = str(form.get("note", "")).strip()[:500]
    member_id = int(request.match_info["member"])

    def run(s):
        a = service.get(s, request.match_info["id"])
        attendance.decide_leave(s, a, member_id, approve, staff.username, note)
        audit.record(s, staff.username, "activity_leave_" + ("approve" if approve else "return"),
                     f"activity:{a.id}:member:{member_id}", {"leave_state": "pending"}, {"note": note}, "web")  # fmt: skip

    return await _act(request, run, "decided")


@staff_required
async def mark(request: web.Request) -> web.StreamResponse:
    """Mark attendance by hand, or take it back (audited with before and after)."""
    staff, present = request["staff"], request["form"].get("present") == "1"
    member_id = int(request.match_info["member"])

    def run(s):
        a = service.get(s, request.match_info["id"])
        _, before, after = attendance.mark(s, a, member_id, present)
        audit.record(s, staff.username, "activity_attendance", f"activity:{a.id}:member:{member_id}", before,
                     after, "web")  # fmt: skip

    return await _act(request, run, "marked")


@staff_required
async def export(request: web.Request) -> web.StreamResponse:
    """The invitees' answers and attendance as CSV or XLSX (formula-like cells neutralised; audited)."""
    fmt, staff = request.match_info["fmt"], request["staff"]

    def rows(s):
        a = service.get(s, request.match_info["id"])
        audit.record(s, staff.username, "activity_export", f"activity:{a.id}", None, {"format": fmt}, "web")
        return a.id, overview.export_rows(overview.build(s, a))

    try:
        activity_id, data = await _db_call(request, rows)
    except ActivityError as exc:
        raise web.HTTPNotFound(text=str(exc), headers=HEADERS) from None
    return await stream_download(
        request, f"activity-{activity_id}.{fmt}", fmt,
        lambda: table_chunks(data, overview.EXPORT_HEADER, fmt, sheet="活动出勤"),
    )  # fmt: skip


@staff_required
async def member_page(request: web.Request) -> web.Response:
    """A member's activities over a year with answer and attendance (?year=, default this year)."""
    year = positive_int(request.query.get("year", str(utcnow().year)), default=utcnow().year)
    if year is None or not 2000 <= year <= 2100:
        raise web.HTTPBadRequest(text=t("web_bad_number"), headers=HEADERS)
    member_id = int(request.match_info["member"])

    def build(s):
        return overview.member_of(s, member_id), overview.member_year(s, member_id, year)

    member, lines = await _db_call(request, build)
    if member is None:
        return page(request, t("web_activities_title"), "", 404, web_page("flash_error", text="没有这位委员"))
    rows = "\n".join(
        web_page(
            "activity_year_row",
            date=x.on,
            id=x.activity_id,
            type=x.type,
            title=x.title,
            answer=x.answer,
            outcome=x.outcome,
        )  # fmt: skip
        for x in lines
    )
    counts = {k: sum(1 for x in lines if x.outcome == v) for k, v in overview.OUTCOMES.items()}
    body = web_page("activity_member_year", rows_html=rows or t("web_none"), total=len(lines), **counts)
    return page(request, t("web_activity_member_title", name=member.name, year=year), body)


def add_routes(app: web.Application) -> None:
    """The activity routes (relative to /staff/)."""
    app.router.add_get("/activities", list_page)
    app.router.add_post("/activities", create)
    app.router.add_get(r"/activities/{id:[0-9]{1,9}}", overview_page)
    app.router.add_post(r"/activities/{id:[0-9]{1,9}}/edit", edit)
    app.router.add_post(r"/activities/{id:[0-9]{1,9}}/cancel", cancel)
    app.router.add_post(r"/activities/{id:[0-9]{1,9}}/remind", remind)
    app.router.add_post(r"/activities/{id:[0-9]{1,9}}/leave/{member:[0-9]{1,9}}", decide)
    app.router.add_post(r"/activities/{id:[0-9]{1,9}}/attend/{member:[0-9]{1,9}}", mark)
    app.router.add_post(r"/activities/{id:[0-9]{1,9}}/opinions", opinions)
    app.router.add_get(r"/activities/{id:[0-9]{1,9}}/export.{fmt:csv|xlsx}", export)
    app.router.add_get(r"/activities/member/{member:[0-9]{1,9}}", member_page)
