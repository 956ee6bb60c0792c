"""Staff pages of the documents desk (/staff/docs) and the retrieval test (/staff/search-test).

Thin adapter over bot.knowledge.library.DocumentLibrary and bot.answering.hit_test: uploads are streamed from the
multipart body to the staging folder (never held in memory, each file cut off at LVZHI_MAX_FILE_MB), then ingested by
the library's worker; the job page polls /staff/docs/jobs/<id>.json for the progress bar. Document pages carry one
anchor per heading and article (bot/knowledge/outline.py: `/staff/docs/<number>#art-12`).
"""

from __future__ import annotations

import asyncio
import hmac
import html
import re
from pathlib import Path
from urllib.parse import quote

from aiohttp import web

from bot.channels.web.edge import form_data, positive_int
from bot.channels.web.staff.pages import (
    COOKIE,
    HEADERS,
    _client,
    _db_call,
    page,
    services_of,
    staff_required,
    web_page,
)
from bot.knowledge.library import DocumentInfo, LibraryError, UploadJob
from bot.knowledge.outline import Outline, OutlineNode
from bot.staff import audit, sessions
from bot.staff.texts import t
from bot.suggestions.service import TIMEZONE

MAX_FILES = 100  # files in one upload
MAX_QUESTION = 200  # characters of a retrieval-test question
OUTCOME_KEYS = ("waiting", "added", "updated", "unchanged", "duplicate", "skipped")
_JOB_ID = re.compile(r"^[A-Za-z0-9_-]{8,40}$")
MULTIPART = web.RequestKey("docs_multipart", object)  # the upload's body reader, after its CSRF field


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / 1024 / 1024:.1f} MB"
    return f"{max(n, 1) / 1024:.1f} KB" if n else "—"


def _when(value) -> str:
    return f"{value.astimezone(TIMEZONE):%Y-%m-%d %H:%M}" if value else ""


def _library(request: web.Request):
    return services_of(request).library


def _number(request: web.Request) -> int:
    number = positive_int(request.match_info["id"])
    if number is None:
        raise web.HTTPNotFound(text=t("web_bad_number"), headers=HEADERS)
    return number


def _doc_row(d: DocumentInfo) -> str:
    who = d.uploaded_by or t("web_docs_cli")
    return web_page("docs_row", number=d.number, title=d.title, file_name=d.file_name, format=d.format,
                    size=_size(d.size), articles=d.articles, chunks=d.chunks, date=_when(d.updated_at), who=who,
                    version=d.version)  # fmt: skip


async def _list_page(request: web.Request, flash: str = "", status: int = 200) -> web.Response:
    library = _library(request)
    docs = await _db_call(request, library.documents)
    rows = "".join(_doc_row(d) for d in docs) or web_page("docs_empty")
    form = web_page("docs_upload", csrf=request["csrf"], max_mb=f"{library.settings.max_file_mb:g}",
                    action="/staff/docs/upload", button=t("web_docs_upload_button"))  # fmt: skip
    body = web_page("docs_list", upload_html=form, rows_html=rows, count=len(docs))
    return page(request, t("web_docs_title"), body, status, flash)


@staff_required
async def docs_list(request: web.Request) -> web.Response:
    """The documents of the knowledge base, with the upload form (several files, drag and drop)."""
    return await _list_page(request)


def upload_guard(handler):
    """Like staff_required for a multipart upload whose body is streamed: the session is checked from the cookie and
    the CSRF token from the body's first field (`csrf`), before any file is read. Refusals are audited."""

    async def guarded(request: web.Request) -> web.StreamResponse:
        token = request.cookies.get(COOKIE, "")
        found = await _db_call(request, sessions.resolve, token) if token else None
        what = f"{request.method} {request.path}"
        if found is None:
            await _db_call(request, audit.fold, _client(request), "web", "access_denied", what)
            return page(request, t("web_denied_title"), t("web_denied"), status=403)
        staff, csrf = found
        request["staff"], request["csrf"] = staff, csrf
        reader, sent = None, ""
        if request.content_type.startswith("multipart/"):
            try:
                reader = await request.multipart()
                part = await reader.next()
                sent = (await part.text())[:200] if part is not None and part.name == "csrf" else ""
            except Exception:  # a broken multipart body (aiohttp raises several unrelated types)
                sent = ""
        else:  # a form without files (no file chosen, JavaScript off): checked like every staff form
            sent = str((await form_data(request)).get("csrf", ""))[:200]
        if not hmac.compare_digest(sent, csrf):
            await _db_call(request, audit.denied, staff.username, "web", f"CSRF {what}")
            return page(request, t("web_denied_title"), t("web_csrf"), status=403)
        request[MULTIPART] = reader
        return await handler(request)

    return guarded


async def _receive(request: web.Request, job: UploadJob) -> None:
    """Stream the body's `files` parts into the job's staging folder (each cut off at the size limit)."""
    library = _library(request)
    limit = library.max_bytes
    reader = request[MULTIPART]
    while reader is not None and (part := await reader.next()) is not None:
        if part.name != "files" or not part.filename:
            await part.release()
            continue
        name = part.filename
        refused = ""
        try:
            path = library.stage_path(job, name)
        except LibraryError as exc:
            path, refused = None, str(exc)
        if len(job.files) >= MAX_FILES:
            path, refused = None, t("web_docs_too_many", n=MAX_FILES)
        size = 0
        out = path.open("wb") if path is not None else None
        try:
            while chunk := await part.read_chunk(1 << 16):
                size += len(chunk)
                if size > limit and not refused:
                    refused = t("web_docs_too_large", max_mb=f"{library.settings.max_file_mb:g}")
                    out.close()
                    path.unlink(missing_ok=True)
                    out = None
                if out is not None:
                    out.write(chunk)
        finally:
            if out is not None:
                out.close()
        library.add_file(job, name, path, html.unescape(refused) if refused else "")


async def _upload(request: web.Request, replace: int | None) -> web.StreamResponse:
    library = _library(request)
    job, _folder = library.new_job(request["staff"].username, replace)
    await _receive(request, job)
    if not job.files:
        flash = web_page("flash_error", text=html.unescape(t("web_docs_no_files")))
        if replace is not None:
            return await _doc_page(request, replace, flash, 400)
        return await _list_page(request, flash, 400)
    library.submit(job)
    raise web.HTTPSeeOther(f"/staff/docs/jobs/{job.id}", headers=HEADERS)


@upload_guard
async def upload(request: web.Request) -> web.StreamResponse:
    """Receive one or many files and start ingesting them; to the job's progress page."""
    return await _upload(request, None)


@upload_guard
async def replace(request: web.Request) -> web.StreamResponse:
    """Receive a new version of a document (same format) and start ingesting it."""
    return await _upload(request, _number(request))


def _job(request: web.Request) -> UploadJob:
    job_id = request.match_info["id"]
    job = _library(request).job(job_id) if _JOB_ID.match(job_id) else None
    if job is None:
        raise web.HTTPNotFound(text=t("web_docs_job_gone"), headers=HEADERS)
    return job


def _outcome_row(f) -> str:
    title = web_page("docs_link", number=f.number, title=f.title) if f.number else html.escape(f.title)
    return web_page("docs_outcome_row", name=f.name, outcome=f.outcome, label=t(f"web_docs_outcome_{f.outcome}"),
                    title_html=title, reason=f.reason)  # fmt: skip


@staff_required
async def job_page(request: web.Request) -> web.Response:
    """An upload's progress bar (polled by docs.js) and, when done, each file's outcome."""
    job = _job(request)
    rows = "".join(_outcome_row(f) for f in job.files)
    state = t(f"web_docs_state_{job.state}")
    error = web_page("flash_error", text=job.error) if job.error else ""
    body = web_page("docs_job", id=job.id, state_key=job.state, state=state, done=job.done, total=job.total,
                    current=job.current, rows_html=rows, error_html=error, vectors=job.vectors)  # fmt: skip
    return page(request, t("web_docs_job_title"), body)


@staff_required
async def job_json(request: web.Request) -> web.Response:
    """The progress of an upload as JSON: {state, done, total, current, error, files: [...]}."""
    job = _job(request)
    body = job.to_json() | {"state_label": t(f"web_docs_state_{job.state}")}
    return web.json_response(body, headers=HEADERS)


def _node_html(node: OutlineNode) -> str:
    texts = "".join(
        web_page("docs_chunk", ordinal=c.ordinal, text=c.text) for c in node.chunks
    )  # the stored chunk texts, exactly
    children = "".join(_node_html(c) for c in node.children)
    name = "docs_article" if node.article is not None else "docs_node"
    return web_page(name, anchor=node.anchor, label=node.label, level=min(node.level + 1, 6),
                    texts_html=texts, children_html=children)  # fmt: skip


def outline_html(outline: Outline) -> str:
    """The document's structure as nested sections; every text is a stored chunk's text, escaped."""
    preamble = "".join(web_page("docs_chunk", ordinal=c.ordinal, text=c.text) for c in outline.preamble)
    return web_page(
        "docs_outline", preamble_html=preamble, nodes_html="".join(_node_html(n) for n in outline.nodes)
    )


async def _doc_page(request: web.Request, number: int, flash: str = "", status: int = 200) -> web.Response:
    library = _library(request)
    view = await _db_call(request, library.document, number)
    if view is None:
        raise web.HTTPNotFound(text=t("web_docs_not_found"), headers=HEADERS)
    info = view.info
    if view.removed:
        body = web_page("docs_removed", title=info.title, by=view.removed_by or t("web_docs_cli"))
        return page(request, html.escape(f"《{info.title}》"), body, 404 if status == 200 else status, flash)
    actions = web_page("docs_actions", number=number, csrf=request["csrf"], format=info.format,
                       max_mb=f"{library.settings.max_file_mb:g}", stored="1" if info.stored else "")  # fmt: skip
    body = web_page("docs_view", number=number, file_name=info.file_name, format=info.format, size=_size(info.size),
                    articles=info.articles, chunks=info.chunks, date=_when(info.updated_at), version=info.version,
                    who=info.uploaded_by or t("web_docs_cli"), actions_html=actions,
                    outline_html=outline_html(view.outline))  # fmt: skip
    return page(request, html.escape(f"《{info.title}》"), body, status, flash)


@staff_required
async def doc_page(request: web.Request) -> web.Response:
    """A document's page: facts, its 章/节/条 tree with the exact text, and replace / remove / download."""
    return await _doc_page(request, _number(request))


@staff_required
async def find_doc(request: web.Request) -> web.StreamResponse:
    """/staff/docs/find?doc=<index document id>[#anchor]: to that document's page (for links from citations)."""
    doc_id = request.query.get("doc", "")[:400]
    number = await _db_call(request, _library(request).number_of, doc_id) if doc_id else None
    if number is None:
        raise web.HTTPNotFound(text=t("web_docs_not_found"), headers=HEADERS)
    raise web.HTTPSeeOther(f"/staff/docs/{number}", headers=HEADERS)


@staff_required
async def original(request: web.Request) -> web.StreamResponse:
    """The original file of a document, as a download."""
    path = await _db_call(request, _library(request).original, _number(request))
    if path is None:
        raise web.HTTPNotFound(text=t("web_docs_no_original"), headers=HEADERS)
    disposition = f"attachment; filename*=UTF-8''{quote(Path(path).name, safe='')}"
    return web.FileResponse(path, headers={**HEADERS, "Content-Disposition": disposition})


@staff_required
async def remove_confirm(request: web.Request) -> web.Response:
    """The confirmation step before a document leaves the knowledge base."""
    number = _number(request)
    view = await _db_call(request, _library(request).document, number)
    if view is None or view.removed:
        raise web.HTTPNotFound(text=t("web_docs_not_found"), headers=HEADERS)
    body = web_page("docs_remove_confirm", number=number, csrf=request["csrf"], title=view.info.title,
                    articles=view.info.articles, chunks=view.info.chunks)  # fmt: skip
    return page(request, t("web_docs_remove_title"), body)


@staff_required
async def remove(request: web.Request) -> web.Response:
    """Remove a document (after the confirmation form) and show the list."""
    number = _number(request)
    if request["form"].get("confirm") != "yes":
        raise web.HTTPSeeOther(f"/staff/docs/{number}/remove", headers=HEADERS)
    future = _library(request).remove(number, request["staff"].username)
    try:
        title = await asyncio.wrap_future(future)
    except LibraryError as exc:
        return await _list_page(request, web_page("flash_error", text=str(exc)), 404)
    return await _list_page(
        request, web_page("flash_ok", text=html.unescape(t("web_docs_removed", title=title)))
    )


MODES = ("extractive", "declined", "article_missing", "llm", "empty", "greeting", "thanks", "not_a_question")


def _mode(mode: str) -> str:
    """How the answer was made, in Chinese (an unknown mode, e.g. an LLM answerer's own, is shown as it is)."""
    return html.unescape(t(f"web_search_mode_{mode}")) if mode in MODES else mode


def _score(value) -> str:
    return "—" if value is None else f"{value:.3f}"


@staff_required
async def search_test(request: web.Request) -> web.Response:
    """命中测试: a question's ranked passages with their scores, the decision and why, and the member's answer."""
    from bot.answering.hit_test import hit_test

    question = request.query.get("q", "").strip()[:MAX_QUESTION]
    body = web_page("search_form", query=question)
    if question:
        services = services_of(request)
        result = await asyncio.to_thread(
            hit_test,
            services.answerer,
            services.knowledge,
            question,
            10,
            services.settings.decline_confidence,
        )
        links = await _db_call(
            request, lambda s: {p.doc: services.library.number_of(s, p.doc) for p in result.passages}
        )
        rows = "".join(
            web_page(
                "search_row",
                rank=p.rank,
                title=p.title,
                section=p.section,
                text=p.text,
                fused=_score(p.fused),
                lexical=_score(p.lexical),
                share=_score(p.lexical_share),
                dense=_score(p.dense),
                href=f"/staff/docs/{links[p.doc]}#{anchor(p.section)}" if links.get(p.doc) else "#",
            )  # fmt: skip
            for p in result.passages
        )
        signals = "".join(
            web_page("search_signal", name=k, value=f"{v:.3f}") for k, v in result.signals.items()
        )
        decision = t("web_search_answer") if result.answered else t("web_search_decline")
        body += web_page("search_result", decision=decision, decided="answer" if result.answered else "decline",
                         confidence=_score(result.confidence), threshold=_score(result.threshold), why=result.why,
                         mode=_mode(result.mode), dense=t("web_search_dense_on") if result.dense_used else
                         t("web_search_dense_off"), signals_html=signals, rows_html=rows,
                         answer=result.answer.text if result.answer else "")  # fmt: skip
    return page(request, t("web_search_title"), body)


def anchor(section: str) -> str:
    """The anchor of a section path on its document page (bot.knowledge.outline.section_anchor)."""
    from bot.knowledge.outline import section_anchor

    return section_anchor(section)


def add_routes(app: web.Application) -> None:
    """The documents desk and retrieval test routes (relative to /staff/)."""
    app.router.add_get("/docs", docs_list)
    app.router.add_post("/docs/upload", upload)
    app.router.add_get("/docs/find", find_doc)
    app.router.add_get(r"/docs/jobs/{id}.json", job_json)
    app.router.add_get("/docs/jobs/{id}", job_page)
    app.router.add_get("/docs/{id}", doc_page)
    app.router.add_get("/docs/{id}/original", original)
    app.router.add_post("/docs/{id}/replace", replace)
    app.router.add_get("/docs/{id}/remove", remove_confirm)
    app.router.add_post("/docs/{id}/remove", remove)
    app.router.add_get("/search-test", search_test)
