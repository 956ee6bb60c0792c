"""Staff pages of the knowledge desk: the questions log (/staff/questions), its export, the knowledge gaps, and the
official answers (办公室答复) staff write, edit and withdraw. Queries and changes live in bot/staff/questions.py and
bot/staff/official.py; this module only reads requests and renders pages."""

from __future__ import annotations

import asyncio
import html
from datetime import date
from urllib.parse import urlencode

from aiohttp import web

from bot.answering.official import TermWeights
from bot.channels.web.edge import positive_int
from bot.channels.web.staff.downloads import stream_download
from bot.channels.web.staff.pages import HEADERS, _db_call, page, services_of, staff_required, web_page
from bot.exports.writers import table_chunks
from bot.staff import audit, official, questions
from bot.staff.accounts import StaffError
from bot.staff.texts import t

ANSWER_HEAD = 40  # characters of an answer shown before it is opened
CANDIDATES = 8  # passages offered for quoting


def _bad(what: str) -> web.HTTPBadRequest:
    return web.HTTPBadRequest(text=html.unescape(t("web_bad_filter", what=what)), headers=HEADERS)


def _day(value: str, what: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _bad(what) from None


def _filter(query) -> questions.LogFilter:
    """The log filter of a query string; HTTP 400 (Chinese) for a value that is not one of the choices."""
    channel, decision = query.get("channel", ""), query.get("decision", "")
    if channel and channel not in questions.CHANNELS:
        raise _bad("渠道")
    if decision and decision not in questions.DECISIONS:
        raise _bad("处理")
    return questions.LogFilter(
        declined=query.get("declined") == "1", voted_down=query.get("down") == "1",
        date_from=_day(query.get("from", ""), "开始日期"), date_to=_day(query.get("to", ""), "结束日期"),
        doc=query.get("doc", "")[:200], channel=channel, decision=decision,
    )  # fmt: skip


def _filter_query(f: questions.LogFilter, **extra: object) -> str:
    pairs = {"declined": "1" if f.declined else "", "down": "1" if f.voted_down else "",
             "from": f.date_from.isoformat() if f.date_from else "", "to": f.date_to.isoformat() if f.date_to else "",
             "doc": f.doc, "channel": f.channel, "decision": f.decision, **extra}  # fmt: skip
    return urlencode({k: v for k, v in pairs.items() if v not in ("", None)})


def _options(choices: list[tuple[str, str]], chosen: str) -> str:
    return "".join(
        web_page("questions_option", value=v, label=label, selected="selected" if v == chosen else "")
        for v, label in choices
    )


def _local(moment) -> str:
    from bot.answering.official import TIMEZONE

    return f"{moment.astimezone(TIMEZONE):%Y-%m-%d %H:%M}"


def _decision_html(row: questions.LogRow) -> str:
    label = html.escape(html.unescape(t(f"web_questions_decision_{row.decision}")))
    if row.decision == "official" and row.official_id:
        return label + "<br>" + web_page("questions_official_link", id=row.official_id)
    return label


def _row_html(row: questions.LogRow) -> str:
    cites = "".join(web_page("questions_cite", link=c["link"], label=c["label"]) for c in row.citations)
    head = row.answer.replace("\n", " ")[:ANSWER_HEAD] + ("…" if len(row.answer) > ANSWER_HEAD else "")
    return web_page(
        "questions_row", id=row.id, decision=row.decision, at=_local(row.at), channel=row.channel,
        who=row.who or html.unescape(t("web_questions_guest")), question=row.question, answer_head=head,
        answer=row.answer, decision_html=_decision_html(row), cites_html=cites,
        vote={1: "👍", -1: "👎"}.get(row.vote or 0, ""), ms=round(row.ms),
    )  # fmt: skip


def _tabs() -> str:
    return web_page("questions_tabs")


def _doc_choices(request: web.Request, cited: list[str]) -> list[tuple[str, str]]:
    try:
        titles = dict(
            services_of(request).knowledge._doc_titles
        )  # {doc id: title}, cached by the knowledge base
    except Exception:  # an index that cannot be opened still leaves the log readable
        titles = {}
    ids = sorted(set(titles) | set(cited), key=lambda d: (titles.get(d, d), d))
    return [("", html.unescape(t("web_all")))] + [(d, titles.get(d, d)) for d in ids]


@staff_required
async def log_page(request: web.Request) -> web.Response:
    """The questions log, newest first, filtered, 50 a page (keyset: ?before=<id>)."""
    f = _filter(request.query)
    before = positive_int(request.query.get("before", ""))
    if request.query.get("before") and before is None:
        raise web.HTTPBadRequest(text=html.unescape(t("web_bad_number")), headers=HEADERS)

    def load(s):
        return questions.page(s, f, before), questions.cited_documents(s)

    (rows, next_before), cited = await _db_call(request, load)
    everything = html.unescape(t("web_all"))
    channel_choices = [("", everything), ("telegram", "Telegram"), ("web", "网页")]
    decision_choices = [("", everything)] + [
        (d, html.unescape(t(f"web_questions_decision_{d}"))) for d in questions.DECISIONS
    ]
    filters = web_page(
        "questions_filters", declined_checked="checked" if f.declined else "",
        down_checked="checked" if f.voted_down else "",
        date_from=f.date_from.isoformat() if f.date_from else "", date_to=f.date_to.isoformat() if f.date_to else "",
        doc_options_html=_options(_doc_choices(request, cited), f.doc),
        channel_options_html=_options(channel_choices, f.channel),
        decision_options_html=_options(decision_choices, f.decision), query=_filter_query(f),
    )  # fmt: skip
    body_rows = "".join(_row_html(r) for r in rows) or web_page("questions_empty")
    pager = []
    if before is not None:
        pager.append(web_page("questions_first", query=_filter_query(f)))
    if next_before is not None:
        pager.append(web_page("questions_next", query=_filter_query(f, before=next_before)))
    body = _tabs() + filters + web_page("questions_table", rows_html=body_rows, pager_html=" ".join(pager))
    return page(request, t("web_questions_title"), body)


@staff_required
async def export(request: web.Request) -> web.StreamResponse:
    """The filtered log as a streamed CSV or XLSX download (cells guarded as bot/exports does; audited)."""
    f, fmt, staff = _filter(request.query), request.match_info["fmt"], request["staff"]
    await _db_call(request, audit.record, staff.username, "questions_export", "questions",
                   None, {"format": fmt, "filter": _filter_query(f)}, "web")  # fmt: skip
    db = services_of(request).db

    def chunks():
        with db.session() as s:
            yield from table_chunks(
                questions.export_rows(s, f), questions.EXPORT_HEADER, fmt, sheet="提问记录"
            )

    return await stream_download(request, f"questions.{fmt}", fmt, chunks)


def _weights(request: web.Request) -> TermWeights:
    try:
        lexical = services_of(request).knowledge.lexical
    except Exception:  # without an index every word weighs the same
        return TermWeights()
    return TermWeights(lexical.idf, len(lexical))


@staff_required
async def gaps_page(request: web.Request) -> web.Response:
    """The knowledge gaps: declined and voted-down questions grouped by meaning, with counts and the latest one."""
    weight = await asyncio.to_thread(_weights, request)
    found = await _db_call(request, questions.gaps, weight)
    rows = []
    for g in found:
        action = (
            web_page("questions_gap_done", id=g.official_id)
            if g.official_id
            else web_page("questions_gap_write", qa=g.latest.id)
        )
        rows.append(web_page(
            "questions_gap_row", question=g.latest.question, phrasings="；".join(g.phrasings[1:]), count=g.count,
            declined=g.declined, down=g.voted_down, at=_local(g.latest.at), action_html=action,
        ))  # fmt: skip
    body = _tabs() + web_page(
        "questions_gaps_table",
        pool=questions.GAP_POOL,
        rows_html="".join(rows) or web_page("questions_gaps_empty"),
    )
    return page(request, t("web_questions_gaps_title"), body)


@staff_required
async def official_list(request: web.Request) -> web.Response:
    """Every official answer with its state and how often it answered."""
    found = await _db_call(request, official.listing)
    rows = "".join(
        web_page(
            "official_row",
            id=a.id,
            question=a.question,
            phrasings=len(a.phrasings()),
            kind=html.unescape(t(f"web_questions_kind_{a.kind}")),
            date=_local(a.updated_at)[:10],
            status=a.status,
            status_label=html.unescape(t(f"web_questions_status_{a.status}")),
            used=used,
        )  # fmt: skip
        for a, used in found
    )
    body = _tabs() + web_page("official_list", rows_html=rows or web_page("official_empty"))
    return page(request, t("web_official_title"), body)


def _candidates(request: web.Request, search: str, chosen: list[str]) -> list:
    """Chunks to offer for quoting: the chosen ones first, then the best passages for the search text."""
    kb = services_of(request).knowledge
    out, seen = [], set()
    for chunk_id in chosen:
        chunk = kb.chunk(chunk_id)
        if chunk is not None and chunk_id not in seen:
            out.append(chunk)
            seen.add(chunk_id)
    if search.strip():
        for p in kb.search(search.strip()[:200], CANDIDATES):
            chunk = kb.chunk(p.chunk_id)
            if chunk is not None and p.chunk_id not in seen:
                out.append(chunk)
                seen.add(p.chunk_id)
    return out


async def _form(request: web.Request, *, action: str, title: str, draft: official.Draft, search: str,
                status: int = 200, flash: str = "", extra_html: str = "") -> web.Response:  # fmt: skip
    chunks = await asyncio.to_thread(_candidates, request, search, draft.chunk_ids)
    chosen = set(draft.chunk_ids)
    passages = "".join(
        web_page(
            "official_passage",
            chunk_id=c.chunk_id,
            n=n,
            title=c.title,
            section=c.section,
            text=c.text,
            checked="checked" if c.chunk_id in chosen else "",
        )  # fmt: skip
        for n, c in enumerate(chunks, 1)
    ) or web_page("official_no_passages")
    qa = draft.from_qa_id or ""
    search_form = web_page("official_search", action=request.path, qa=qa, gap=request.query.get("gap", ""),
                           search=search)  # fmt: skip
    form = web_page(
        "official_form", action=action, csrf=request["csrf"], qa=qa, question=draft.question,
        variants="\n".join(draft.variants), text_checked="checked" if draft.kind != "quote" else "",
        quote_checked="checked" if draft.kind == "quote" else "", text=draft.text, source=draft.source,
        passages_html=passages,
    )  # fmt: skip
    return page(request, title, _tabs() + extra_html + search_form + form, status, flash)


def _qa_param(value: str) -> int | None:
    return positive_int(value or "")


@staff_required
async def new_form(request: web.Request) -> web.Response:
    """The form for a new official answer, prefilled from a log entry (?qa=<id>) or a gap (&gap=1: the gap's other
    phrasings become variants); ?search= finds passages to quote."""
    qa_id = _qa_param(request.query.get("qa", ""))
    draft = official.Draft(question="", from_qa_id=qa_id)
    if qa_id is not None:
        row = await _db_call(request, questions.entry, qa_id)
        if row is not None:
            draft.question = row.question.strip()[: official.MAX_QUESTION]
            if request.query.get("gap") == "1":
                weight = await asyncio.to_thread(_weights, request)
                found = await _db_call(request, questions.gaps, weight)
                group = next((g for g in found if g.latest.id == qa_id), None)
                draft.variants = group.phrasings[1:] if group else []
    search = request.query.get("search", "") or draft.question
    return await _form(request, action="/staff/questions/official/new", title=t("web_official_new_title"),
                       draft=draft, search=search)  # fmt: skip


@staff_required
async def create(request: web.Request) -> web.StreamResponse:
    """Save a new official answer (PRG to its page); the form again with the error next to it when refused."""
    form, staff = request["form"], request["staff"]
    draft = official.Draft.from_form(form, _qa_param(str(form.get("qa", ""))))
    kb = services_of(request).knowledge
    try:
        row = await _db_call(request, lambda s: official.create(s, staff.username, draft, kb).id)
    except StaffError as exc:
        flash = web_page("flash_error", text=html.unescape(str(exc)))
        return await _form(request, action="/staff/questions/official/new", title=t("web_official_new_title"),
                           draft=draft, search=draft.question, status=400, flash=flash)  # fmt: skip
    raise web.HTTPSeeOther(f"/staff/questions/official/{row}?saved=1", headers=HEADERS)


def _status_html(a, used: int) -> str:
    return web_page("official_status", status=html.unescape(t(f"web_questions_status_{a.status}")),
                    date=_local(a.updated_at)[:10], who=a.updated_by, used=used)  # fmt: skip


async def _edit_page(request: web.Request, oid: int, status: int = 200, flash: str = "",
                     draft: official.Draft | None = None) -> web.Response:  # fmt: skip
    def load(s):
        a = official.get(s, oid)
        used = dict((r.id, n) for r, n in official.listing(s)).get(a.id, 0)
        d = official.Draft(a.question, list(a.variants or []), a.kind, a.text, a.source, list(a.chunk_ids or []),
                           a.from_qa_id)  # fmt: skip
        return d, _status_html(a, used) + (
            web_page("official_withdraw", id=a.id, csrf=request["csrf"]) if a.status == "active" else ""
        )

    try:
        stored, extra = await _db_call(request, load)
    except StaffError as exc:
        raise web.HTTPNotFound(text=html.unescape(str(exc)), headers=HEADERS) from None
    shown = draft or stored
    search = request.query.get("search", "") or shown.question
    return await _form(request, action=f"/staff/questions/official/{oid}", title=t("web_official_edit_title", id=oid),
                       draft=shown, search=search, status=status, flash=flash, extra_html=extra)  # fmt: skip


def _oid(request: web.Request) -> int:
    oid = positive_int(request.match_info["id"])
    if oid is None:
        raise web.HTTPBadRequest(text=html.unescape(t("web_bad_number")), headers=HEADERS)
    return oid


@staff_required
async def edit_form(request: web.Request) -> web.Response:
    """One official answer: its state, the edit form and the withdraw button."""
    flash = ""
    if request.query.get("saved") == "1":
        flash = web_page("flash_ok", text=html.unescape(t("web_official_saved", id=_oid(request))))
    elif request.query.get("withdrawn") == "1":
        flash = web_page("flash_ok", text=html.unescape(t("web_official_withdrawn", id=_oid(request))))
    return await _edit_page(request, _oid(request), flash=flash)


@staff_required
async def update(request: web.Request) -> web.StreamResponse:
    """Save an edited official answer (audited with the fields that changed)."""
    oid, form, staff = _oid(request), request["form"], request["staff"]
    draft = official.Draft.from_form(form, _qa_param(str(form.get("qa", ""))))
    kb = services_of(request).knowledge
    try:
        await _db_call(request, lambda s: official.update(s, staff.username, oid, draft, kb).id)
    except StaffError as exc:
        flash = web_page("flash_error", text=html.unescape(str(exc)))
        return await _edit_page(request, oid, 400, flash, draft)
    raise web.HTTPSeeOther(f"/staff/questions/official/{oid}?saved=1", headers=HEADERS)


@staff_required
async def withdraw(request: web.Request) -> web.StreamResponse:
    """Withdraw an official answer (the confirmation box must be ticked)."""
    oid, form, staff = _oid(request), request["form"], request["staff"]
    if form.get("confirm") != "1":
        flash = web_page("flash_error", text=html.unescape(t("web_official_confirm_needed")))
        return await _edit_page(request, oid, 400, flash)
    try:
        await _db_call(request, lambda s: official.withdraw(s, staff.username, oid).id)
    except StaffError as exc:
        raise web.HTTPNotFound(text=html.unescape(str(exc)), headers=HEADERS) from None
    raise web.HTTPSeeOther(f"/staff/questions/official/{oid}?withdrawn=1", headers=HEADERS)


def add_routes(app: web.Application) -> None:
    """The questions log, gaps and official answer routes (relative to /staff/)."""
    app.router.add_get("/questions", log_page)
    app.router.add_get("/questions/export.{fmt:csv|xlsx}", export)
    app.router.add_get("/questions/gaps", gaps_page)
    app.router.add_get("/questions/official", official_list)
    app.router.add_get("/questions/official/new", new_form)
    app.router.add_post("/questions/official/new", create)
    app.router.add_get(r"/questions/official/{id:[0-9]{1,9}}", edit_form)
    app.router.add_post(r"/questions/official/{id:[0-9]{1,9}}", update)
    app.router.add_post(r"/questions/official/{id:[0-9]{1,9}}/withdraw", withdraw)
