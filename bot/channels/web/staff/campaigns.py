"""Staff web pages for campaigns: the list and create form, the report page, open/close, broadcast, exports."""

from __future__ import annotations

import html
import threading

from aiohttp import web
from sqlalchemy import func, select

from bot.campaigns import report, service
from bot.campaigns.models import Campaign, CampaignDelivery
from bot.campaigns.service import CampaignError
from bot.channels.web.edge import positive_int
from bot.channels.web.staff import campaign_view
from bot.channels.web.staff.downloads import stream_download
from bot.channels.web.staff.forms import confirm_page, confirmed
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.exports.writers import table_chunks
from bot.staff import audit
from bot.staff.texts import t
from bot.storage.models import Submission, utcnow


def _state(c: Campaign) -> dict:
    return {"status": c.status, "starts_at": service.local(c.starts_at), "ends_at": service.local(c.ends_at)}


def _split_sectors(text: str) -> list[str]:
    return [s.strip() for s in text.replace("，", "、").replace(",", "、").split("、") if s.strip()]


def _list_rows(s) -> list[dict]:
    answers = dict(
        s.execute(
            select(Submission.campaign_id, func.count())
            .where(Submission.campaign_id.is_not(None), Submission.type == "campaign")
            .group_by(Submission.campaign_id)
        ).all()
    )
    deliveries: dict[int, dict[str, int]] = {}
    for cid, state, n in s.execute(
        select(CampaignDelivery.campaign_id, CampaignDelivery.state, func.count()).group_by(
            CampaignDelivery.campaign_id, CampaignDelivery.state
        )
    ):
        deliveries.setdefault(cid, {})[state] = n
    return [
        dict(id=c.id, title=c.title, audience=service.audience_of(c).describe(), starts=service.local(c.starts_at),
             ends=service.local(c.ends_at), status=service.STATUS_LABELS.get(service.status_at(c), c.status),
             answers=answers.get(c.id, 0), **{k: deliveries.get(c.id, {}).get(k, 0)
                                              for k in ("sent", "failed", "blocked", "unknown")})
        for c in service.list_all(s)
    ]  # fmt: skip


async def _list_page(
    request: web.Request, form: dict, flash: str = "", status: int = 200, errors: dict[str, str] | None = None
) -> web.Response:
    rows, known = await _db_call(request, lambda s: (_list_rows(s), sorted(service.known_sectors(s))))
    body = web_page(
        "campaigns_list",
        rows_html=campaign_view.list_rows(rows),
        form_html=campaign_view.create_form(request["csrf"], known, form, errors or {}),
    )
    return page(request, t("web_campaigns_title"), body, status, flash)


@staff_required
async def campaigns_page(request: web.Request) -> web.Response:
    """All campaigns with answers and broadcast counts, and the create form."""
    return await _list_page(request, {})


@staff_required
async def create_campaign(request: web.Request) -> web.StreamResponse:
    """Create a campaign (the service's checks and messages); a refused form keeps what was typed."""
    form = {k: str(v)[:5000] for k, v in request["form"].items() if k != "csrf"}
    staff = request["staff"]

    def parse(key: str, end_of_day: bool = False):
        try:
            return service.parse_time(form.get(key, ""), end_of_day=end_of_day)
        except CampaignError as exc:
            raise CampaignError(str(exc), field=key) from None

    def create(s):
        starts = parse("start") if form.get("start", "").strip() else utcnow()
        ends = parse("end", end_of_day=True)
        c = service.create(
            s, form.get("title", ""), starts, ends, description=form.get("description", ""),
            audience=form.get("audience", "members").strip().lower(),
            sectors=_split_sectors(form.get("sectors", "")), created_by=staff.username,
        )  # fmt: skip
        after = {"title": c.title, "audience": service.audience_of(c).as_json(), **_state(c)}
        audit.record(s, staff.username, "campaign_create", f"campaign:{c.id}", None, after, channel="web")
        return c.id

    try:
        campaign_id = await _db_call(request, create)
    except CampaignError as exc:
        if exc.field:  # shown next to its field, which gets the cursor
            return await _list_page(request, form, "", 400, {exc.field: str(exc)})
        return await _list_page(request, form, web_page("flash_error", text=str(exc)), 400)
    raise web.HTTPSeeOther(f"/staff/campaigns/{campaign_id}?done=created", headers=HEADERS)


_THEMES: dict[tuple[str, int, int, int], tuple[list, int, dict[str, int | None]]] = {}
THEME_CACHE = 16  # campaigns whose clustering is kept in memory
_THEMES_LOCK = threading.Lock()


def _report_with_themes(s, cid: int) -> report.CampaignReport:
    """report.build, with the clustering reused while no answer was added (reloads during a broadcast are cheap)."""
    n, last = s.execute(
        select(func.count(), func.max(Submission.id)).where(
            Submission.campaign_id == cid, Submission.type == "campaign"
        )
    ).one()
    key = (str(s.get_bind().url), cid, n, last or 0)
    with _THEMES_LOCK:
        cached = _THEMES.get(key)
    if cached is None:
        rep = report.build(s, cid)
        with _THEMES_LOCK:
            if len(_THEMES) >= THEME_CACHE:
                _THEMES.pop(next(iter(_THEMES)))
            _THEMES[key] = (rep.themes, rep.unclustered, {a.receipt: a.theme for a in rep.answers})
        return rep
    rep = report.build(s, cid, cluster=False)
    rep.themes, rep.unclustered, themes = cached
    for a in rep.answers:
        a.theme = themes.get(a.receipt)
    return rep


def _flash(request: web.Request, rep: report.CampaignReport) -> str:
    done = request.query.get("done", "")
    texts = {
        "created": lambda: t("web_campaign_created", id=rep.id, title=rep.title),
        "open": lambda: t("web_campaign_opened", ends=rep.ends_at),
        "close": lambda: t("web_campaign_closed"),
    }
    return web_page("flash_ok", text=html.unescape(texts[done]())) if done in texts else ""


async def _report_page(
    request: web.Request, flash: str = "", status: int = 200, until: str = ""
) -> web.Response:
    cid = request.match_info["id"]
    bcast = services_of(request).broadcasts

    def build(s):
        rep = _report_with_themes(s, int(cid))
        c = service.get(s, rep.id)
        counts = dict(
            s.execute(
                select(CampaignDelivery.state, func.count())
                .where(CampaignDelivery.campaign_id == c.id)
                .group_by(CampaignDelivery.state)
            ).all()
        )
        return rep, c.description, c.status, counts

    try:
        rep, description, raw_status, counts = await _db_call(request, build)
    except CampaignError as exc:
        return page(request, t("web_campaigns_title"), "", 404, web_page("flash_error", text=str(exc)))
    settings = services_of(request).settings
    parts = {
        "links": campaign_view.links_html(
            service.links(rep.id, settings.bot_username, str(request.url.origin()))
        ),
        "actions": campaign_view.actions_html(rep.id, raw_status, request["csrf"], until),
        "broadcast": campaign_view.broadcast_html(rep.id, counts, request["csrf"], bcast),
    }
    pg = request.query.get("page", "1")
    number = positive_int(pg, default=1)
    if number is None or number > 100_000:
        raise web.HTTPBadRequest(text=t("web_bad_number"), headers=HEADERS)
    body = campaign_view.report_body(rep, description, parts, number)
    title = t("web_campaign_title", id=rep.id, title=rep.title)
    return page(request, title, body, status, flash or _flash(request, rep))


@staff_required
async def report_page(request: web.Request) -> web.Response:
    """The report: charts by day, sector, category and theme, themes, answers, links, actions, broadcast."""
    return await _report_page(request)


async def _change(request: web.Request, action: str, until: str = "") -> web.StreamResponse:
    """Open or close now, audited with before → after."""
    staff, cid = request["staff"], request.match_info["id"]

    def run(s):
        c = service.get(s, cid)
        before = _state(c)
        if action == "open":
            service.open_now(s, c.id, service.parse_time(until, end_of_day=True) if until else None)
        else:
            service.close_now(s, c.id)
        audit.record(
            s, staff.username, f"campaign_{action}", f"campaign:{c.id}", before, _state(c), channel="web"
        )
        return c.id

    try:
        campaign_id = await _db_call(request, run)
    except CampaignError as exc:
        return await _report_page(request, web_page("flash_error", text=str(exc)), 400, until)
    raise web.HTTPSeeOther(f"/staff/campaigns/{campaign_id}?done={action}", headers=HEADERS)


@staff_required
async def open_campaign(request: web.Request) -> web.StreamResponse:
    """Open now (optionally with a new end)."""
    return await _change(request, "open", str(request["form"].get("until", "")).strip()[:40])


@staff_required
async def close_campaign(request: web.Request) -> web.StreamResponse:
    """Close now, after the confirmation step (a POST without it changes nothing); later answers are refused."""
    cid = request.match_info["id"]
    if confirmed(request, f"campaign:{int(cid)}:close"):
        return await _change(request, "close")

    def ask(s):
        c = service.get(s, cid)
        answers = s.scalar(
            select(func.count()).where(Submission.campaign_id == c.id, Submission.type == "campaign")
        )
        return confirm_page(
            request, title=f"确认结束征集活动 #{c.id}", what=f"campaign:{c.id}:close",
            question=html.unescape(t("web_confirm_campaign_close", id=c.id, title=c.title, answers=answers)),
            button="确认立即结束", back=f"/staff/campaigns/{c.id}",
        )  # fmt: skip

    try:
        return await _db_call(request, ask)
    except CampaignError as exc:
        return await _report_page(request, web_page("flash_error", text=str(exc)), 400)


@staff_required
async def broadcast(request: web.Request) -> web.StreamResponse:
    """Start the invitation broadcast in the background of this process (audited)."""
    services, staff = services_of(request), request["staff"]
    cid = request.match_info["id"]
    resend = request["form"].get("resend_unknown") == "1"
    if not services.broadcasts.available:
        text = t("web_campaign_no_bot", command=f"lvzhi campaigns broadcast {cid}")
        return await _report_page(request, web_page("flash_error", text=html.unescape(text)), 400)
    try:
        prepared = await services.broadcasts.start(services.db, cid, resend)
    except CampaignError as exc:
        return await _report_page(request, web_page("flash_error", text=str(exc)), 400)
    after = {"recipients": prepared.total, "added": prepared.added, "resend_unknown": resend}
    await _db_call(
        request, audit.record, staff.username, "campaign_broadcast", f"campaign:{prepared.campaign_id}",
        None, after, "web",
    )  # fmt: skip
    text = t("web_campaign_broadcast_started", total=prepared.total, added=prepared.added)
    return await _report_page(request, web_page("flash_ok", text=html.unescape(text)))


@staff_required
async def export(request: web.Request) -> web.StreamResponse:
    """A campaign's answers as a streamed CSV or XLSX download (formula-like cells neutralised; audited)."""
    fmt, staff = request.match_info["fmt"], request["staff"]

    def check(s):
        c = service.get(s, request.match_info["id"])
        audit.record(s, staff.username, "campaign_export", f"campaign:{c.id}", None, {"format": fmt}, "web")
        return c.id

    try:
        cid = await _db_call(request, check)
    except CampaignError as exc:
        raise web.HTTPNotFound(text=html.unescape(str(exc)), headers=HEADERS) from None
    db = services_of(request).db

    def chunks():
        with db.session() as s:
            yield from table_chunks(report.export_rows(s, cid), report.EXPORT_HEADER, fmt, sheet="征集意见")

    return await stream_download(request, f"campaign-{cid}-answers.{fmt}", fmt, chunks)


def add_routes(app: web.Application) -> None:
    """The campaign routes (relative to /staff/)."""
    app.router.add_get("/campaigns", campaigns_page)
    app.router.add_post("/campaigns", create_campaign)
    app.router.add_get(r"/campaigns/{id:[0-9]{1,9}}", report_page)
    app.router.add_post(r"/campaigns/{id:[0-9]{1,9}}/open", open_campaign)
    app.router.add_post(r"/campaigns/{id:[0-9]{1,9}}/close", close_campaign)
    app.router.add_post(r"/campaigns/{id:[0-9]{1,9}}/broadcast", broadcast)
    app.router.add_get(r"/campaigns/{id:[0-9]{1,9}}/export.{fmt:csv|xlsx}", export)
