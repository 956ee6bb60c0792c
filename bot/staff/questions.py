"""The questions log for staff: every question asked in any channel, filtered, paged, exported, and the knowledge gaps.

Queries only (no HTTP): bot/channels/web/staff/questions.py shows them. Paging is by keyset on the log's id (newest
first: `before` = the last id shown), so page 2000 costs what page 1 costs; each filter has an index (qa_log's
(declined, id), (vote, id), (channel, id), (decision, id), created_at, and qa_sources' (doc_id, qa_id)).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from urllib.parse import quote

import numpy as np
from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from bot.answering.intake import classify
from bot.answering.official import TIMEZONE, Matcher, phrase_terms, vector
from bot.storage.models import ChatIdentity, Member, OfficialAnswer, QALog, QASource

PER_PAGE = 50
GAP_POOL = 3000  # the newest declined or voted-down questions grouped in the gaps view
GAP_THRESHOLD = 0.5  # cosine (official.similarity) at which two unanswered questions are one gap
CHANNELS = ("telegram", "web")
DECISIONS = ("answer", "decline", "official", "chat")  # chat: no question (a greeting, an emoji), never a gap
_NOT_CHAT = or_(QALog.decision.is_(None), QALog.decision != "chat")  # a question, not a greeting or an emoji
EXPORT_HEADER = (
    "编号",
    "时间",
    "渠道",
    "提问人",
    "问题",
    "回答",
    "处理",
    "引用出处",
    "评价",
    "用时（毫秒）",
    "办公室答复编号",
)


@dataclass(frozen=True)
class LogFilter:
    """What the log shows: declined only, voted down (👎) only, a date range (the office's days, inclusive), the
    questions citing one document (doc id), one channel, one decision ("answer" | "decline" | "official")."""

    declined: bool = False
    voted_down: bool = False
    date_from: date | None = None
    date_to: date | None = None
    doc: str = ""
    channel: str = ""
    decision: str = ""


@dataclass
class LogRow:
    """One logged question as the log shows it; `who` is the member's name, or "" for a guest."""

    id: int
    at: datetime
    channel: str
    who: str
    question: str
    answer: str
    decision: str
    citations: list[dict] = field(default_factory=list)  # {label, doc, section, link}
    vote: int | None = None
    ms: float = 0.0
    official_id: int | None = None


def doc_link(doc_id: str, section: str) -> str:
    """The document page's link for a cited passage: /staff/docs/find?doc=<index document id> (percent-encoded,
    UTF-8), which redirects to the page /staff/docs/<number>, and the passage's anchor on that page
    (bot.knowledge.outline.section_anchor: #art-5 for 第五条); no anchor for an unsectioned chunk."""
    from bot.knowledge.outline import section_anchor

    anchor = f"#{section_anchor(section)}" if section else ""
    return f"/staff/docs/find?doc={quote(doc_id, safe='')}{anchor}"


def _doc_of(citation: dict) -> str:
    return citation.get("doc") or str(citation.get("chunk_id", "")).rsplit(":", 2)[0]


def _decision(row: QALog) -> str:
    return row.decision or ("decline" if row.declined else "answer")


def _bounds(day_from: date | None, day_to: date | None) -> tuple[datetime | None, datetime | None]:
    """The office's days as UTC instants (the database compares UTC: SQLite as text)."""
    start = datetime.combine(day_from, time(), TIMEZONE).astimezone(UTC) if day_from else None
    end = datetime.combine(day_to + timedelta(days=1), time(), TIMEZONE).astimezone(UTC) if day_to else None
    return start, end


def _filtered(stmt: Select, f: LogFilter) -> Select:
    if f.declined:
        stmt = stmt.where(QALog.declined.is_(True), _NOT_CHAT)
    if f.voted_down:
        stmt = stmt.where(QALog.vote == -1)
    if f.channel:
        stmt = stmt.where(QALog.channel == f.channel)
    if f.decision:
        stmt = stmt.where(QALog.decision == f.decision)
    start, end = _bounds(f.date_from, f.date_to)
    if start is not None:
        stmt = stmt.where(QALog.created_at >= start)
    if end is not None:
        stmt = stmt.where(QALog.created_at < end)
    if f.doc:
        stmt = stmt.where(QALog.id.in_(select(QASource.qa_id).where(QASource.doc_id == f.doc)))
    return stmt


def _query(f: LogFilter) -> Select:
    stmt = (
        select(QALog, ChatIdentity.member_id, Member.name)
        .outerjoin(ChatIdentity, ChatIdentity.id == QALog.identity_id)
        .outerjoin(Member, Member.id == ChatIdentity.member_id)
    )
    return _filtered(stmt, f)


def _row(qa: QALog, member_id: int | None, name: str | None) -> LogRow:
    cites = [
        {"label": c.get("label") or c.get("title", ""), "doc": _doc_of(c), "section": c.get("section", ""),
         "link": doc_link(_doc_of(c), c.get("section", ""))}
        for c in qa.citations or []
    ]  # fmt: skip
    who = (name or "") if member_id is not None else ""
    return LogRow(qa.id, qa.created_at, qa.channel, who, qa.question, qa.answer, _decision(qa), cites, qa.vote,
                  float(qa.ms or 0.0), qa.official_id)  # fmt: skip


def page(
    session: Session, f: LogFilter, before: int | None = None, limit: int = PER_PAGE
) -> tuple[list[LogRow], int | None]:
    """One page of the log, newest first: rows with id < before (all when None), and the `before` of the next
    page (None on the last page)."""
    stmt = _query(f)
    if before is not None:
        stmt = stmt.where(QALog.id < before)
    found = session.execute(stmt.order_by(QALog.id.desc()).limit(limit + 1)).all()
    rows = [_row(*r) for r in found[:limit]]
    return rows, (rows[-1].id if len(found) > limit else None)


def entry(session: Session, qa_id: int) -> LogRow | None:
    """One logged question by id."""
    found = session.execute(_query(LogFilter()).where(QALog.id == qa_id)).first()
    return _row(*found) if found is not None else None


def export_rows(session: Session, f: LogFilter) -> Iterator[list]:
    """Rows for the CSV/XLSX export, newest first, read in batches (see EXPORT_HEADER)."""
    names = {"answer": "回答", "decline": "未回答", "official": "办公室答复", "chat": "非提问"}
    votes = {1: "👍", -1: "👎"}
    stmt = _query(f).order_by(QALog.id.desc()).execution_options(yield_per=500)
    for qa, member_id, name in session.execute(stmt):
        r = _row(qa, member_id, name)
        yield [r.id, r.at.astimezone(TIMEZONE).replace(tzinfo=None), r.channel, r.who or "访客", r.question,
               r.answer, names.get(r.decision, r.decision), "；".join(c["label"] for c in r.citations),
               votes.get(r.vote or 0, ""), round(r.ms), r.official_id or ""]  # fmt: skip


def cited_documents(session: Session, limit: int = 200) -> list[str]:
    """Document ids that answers have cited (for the document filter), at most `limit`."""
    return list(session.scalars(select(QASource.doc_id).distinct().order_by(QASource.doc_id).limit(limit)))


@dataclass
class Gap:
    """A group of unanswered questions with one meaning: its size, how many were declined or voted down, the
    latest example, up to five distinct phrasings, and the official answer that now covers it (if any)."""

    count: int
    declined: int
    voted_down: int
    latest: LogRow
    phrasings: list[str]
    official_id: int | None = None


def gaps(session: Session, weight, pool: int = GAP_POOL, threshold: float = GAP_THRESHOLD,
         f: LogFilter | None = None) -> list[Gap]:  # fmt: skip
    """The declined and voted-down questions (the newest `pool`) grouped by meaning: questions whose cosine
    (official.vector of official.phrase_terms, weighted by `weight`, e.g. official.TermWeights) reaches `threshold`
    are linked, and each connected group is a gap. Open gaps first (no active official answer matches the latest
    question), then the largest, then the newest."""
    from scipy import sparse  # SciPy is imported when gaps are first grouped, not at every start
    from scipy.sparse.csgraph import connected_components

    stmt = _query(f or LogFilter()).where(or_(QALog.declined.is_(True), QALog.vote == -1), _NOT_CHAT)
    found = session.execute(stmt.order_by(QALog.id.desc()).limit(pool)).all()
    # rows logged before "chat" had its name are told apart by their text
    rows = [row for row in (_row(*r) for r in found) if classify(row.question) == "question"]
    if not rows:
        return []
    vectors = [vector(phrase_terms(r.question), weight) for r in rows]
    vocab: dict[str, int] = {}
    data, cols, indptr = [], [], [0]
    for v in vectors:
        for term, value in v.items():
            cols.append(vocab.setdefault(term, len(vocab)))
            data.append(value)
        indptr.append(len(cols))
    matrix = sparse.csr_matrix((np.array(data), np.array(cols, dtype=np.int64), np.array(indptr)),
                               shape=(len(rows), max(len(vocab), 1)))  # fmt: skip
    linked = matrix @ matrix.T
    linked.data = (linked.data >= threshold - 1e-9).astype(np.int8)
    linked.eliminate_zeros()
    _, labels = connected_components(linked, directed=False)
    groups: dict[int, list[LogRow]] = {}
    for row, label in zip(rows, labels, strict=True):
        groups.setdefault(int(label), []).append(
            row
        )  # rows are newest first, so each group's [0] is its latest
    active = list(session.scalars(select(OfficialAnswer).where(OfficialAnswer.status == "active")))
    matcher = Matcher([_entry_of(a) for a in active], weight) if active else None
    out = []
    for members in groups.values():
        latest = members[0]
        hit = matcher.best(latest.question) if matcher is not None else None
        out.append(Gap(len(members), sum(r.decision == "decline" for r in members),
                       sum(r.vote == -1 for r in members), latest,
                       list(dict.fromkeys(r.question.strip() for r in members))[:5],
                       hit.official_id if hit else None))  # fmt: skip
    out.sort(key=lambda g: (g.official_id is not None, -g.count, -g.latest.id))
    return out


def _entry_of(answer: OfficialAnswer):
    from bot.answering.official import Entry

    return Entry(answer.id, answer.kind, answer.text, answer.source, tuple(answer.chunk_ids or ()),
                 answer.updated_at, tuple(answer.phrasings()))  # fmt: skip
