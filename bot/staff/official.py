"""Official answers written by staff (办公室答复): create, edit, withdraw — each change audited.

An answer is either a quote of chosen passages of the knowledge base (kind "quote", stored by chunk id and shown
verbatim) or the office's own text with its source (kind "text"). bot/answering/official.py uses the active ones.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.staff import audit
from bot.staff.accounts import StaffError
from bot.staff.texts import t
from bot.storage.models import OfficialAnswer, QALog, utcnow

MAX_QUESTION = 500
MAX_VARIANTS = 30
MAX_TEXT = 4000
MAX_QUOTES = 5


@dataclass
class Draft:
    """What staff typed: the question, variant phrasings (one per line), the kind and its content."""

    question: str
    variants: list[str] = field(default_factory=list)
    kind: str = "text"  # quote | text
    text: str = ""
    source: str = ""
    chunk_ids: list[str] = field(default_factory=list)
    from_qa_id: int | None = None

    @classmethod
    def from_form(cls, form, from_qa_id: int | None = None) -> Draft:
        """A draft from a form's fields: question, variants (lines), kind, text, source, chunk (repeated)."""
        lines = str(form.get("variants", "")).splitlines()
        return cls(
            question=str(form.get("question", "")).strip(),
            variants=[v.strip() for v in lines if v.strip()],
            kind=str(form.get("kind", "text")),
            text=str(form.get("text", "")).strip(),
            source=str(form.get("source", "")).strip(),
            chunk_ids=[str(c) for c in form.getall("chunk", [])],
            from_qa_id=from_qa_id,
        )


def _checked(draft: Draft, knowledge) -> tuple[list[str], list[dict]]:
    """The draft's variants and quotes after the checks; StaffError (Chinese) for what cannot be saved."""
    if not draft.question:
        raise StaffError(t("official_no_question"))
    if len(draft.question) > MAX_QUESTION or any(len(v) > MAX_QUESTION for v in draft.variants):
        raise StaffError(t("official_too_long", limit=MAX_QUESTION))
    variants = list(dict.fromkeys(v for v in draft.variants if v != draft.question))
    if len(variants) > MAX_VARIANTS:
        raise StaffError(t("official_too_many_variants", limit=MAX_VARIANTS))
    if draft.kind == "text":
        if not draft.text:
            raise StaffError(t("official_no_text"))
        if not draft.source:
            raise StaffError(t("official_no_source"))
        if len(draft.text) > MAX_TEXT:
            raise StaffError(t("official_too_long", limit=MAX_TEXT))
        return variants, []
    if draft.kind != "quote":
        raise StaffError(t("official_bad_kind"))
    chosen = list(dict.fromkeys(draft.chunk_ids))
    if not chosen:
        raise StaffError(t("official_no_quote"))
    if len(chosen) > MAX_QUOTES:
        raise StaffError(t("official_too_many_quotes", limit=MAX_QUOTES))
    quotes = []
    for chunk_id in chosen:
        chunk = knowledge.chunk(chunk_id)
        if chunk is None:
            raise StaffError(t("official_quote_gone"))
        quotes.append(
            {"chunk_id": chunk.chunk_id, "doc": chunk.doc_id, "title": chunk.title, "section": chunk.section,
             "text": chunk.text}
        )  # fmt: skip
    return variants, quotes


def _state(a: OfficialAnswer) -> dict:
    """The audited fields of an answer."""
    return {"question": a.question, "variants": list(a.variants or []), "kind": a.kind, "text": a.text,
            "source": a.source, "chunk_ids": list(a.chunk_ids or []), "status": a.status}  # fmt: skip


def create(session: Session, actor: str, draft: Draft, knowledge, channel: str = "web") -> OfficialAnswer:
    """Save a new active official answer (audited as official_answer_create); StaffError for a bad draft."""
    variants, quotes = _checked(draft, knowledge)
    if draft.from_qa_id is not None and session.get(QALog, draft.from_qa_id) is None:
        draft.from_qa_id = None
    now = utcnow()
    row = OfficialAnswer(
        question=draft.question, variants=variants, kind=draft.kind, text=draft.text if draft.kind == "text" else "",
        source=draft.source if draft.kind == "text" else "", chunk_ids=[q["chunk_id"] for q in quotes],
        quotes=quotes, status="active", from_qa_id=draft.from_qa_id, created_by=actor, updated_by=actor,
        created_at=now, updated_at=now,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor, "official_answer_create", f"official:{row.id}", None, _state(row), channel)
    return row


def get(session: Session, official_id: int) -> OfficialAnswer:
    """One answer; StaffError when there is none."""
    row = session.get(OfficialAnswer, official_id)
    if row is None:
        raise StaffError(t("official_not_found"))
    return row


def update(
    session: Session, actor: str, official_id: int, draft: Draft, knowledge, channel: str = "web"
) -> OfficialAnswer:
    """Replace an answer's question, variants and content (its date becomes today's; audited as official_answer_edit
    with the fields before and after). A withdrawn answer edited becomes active again."""
    row = get(session, official_id)
    variants, quotes = _checked(draft, knowledge)
    before = _state(row)
    row.question, row.variants, row.kind = draft.question, variants, draft.kind
    row.text = draft.text if draft.kind == "text" else ""
    row.source = draft.source if draft.kind == "text" else ""
    row.chunk_ids, row.quotes = [q["chunk_id"] for q in quotes], quotes
    row.status, row.updated_by, row.updated_at = "active", actor, utcnow()
    after = _state(row)
    changed = [k for k in after if after[k] != before[k]]
    audit.record(session, actor, "official_answer_edit", f"official:{row.id}",
                 {k: before[k] for k in changed}, {k: after[k] for k in changed}, channel)  # fmt: skip
    return row


def withdraw(session: Session, actor: str, official_id: int, channel: str = "web") -> OfficialAnswer:
    """Withdraw an answer: the bot no longer uses it (audited as official_answer_withdraw)."""
    row = get(session, official_id)
    if row.status != "withdrawn":
        row.status, row.updated_by, row.updated_at = "withdrawn", actor, utcnow()
        audit.record(session, actor, "official_answer_withdraw", f"official:{row.id}",
                     {"status": "active"}, {"status": "withdrawn"}, channel)  # fmt: skip
    return row


def listing(session: Session) -> list[tuple[OfficialAnswer, int]]:
    """Every answer, newest first, with how many logged questions it answered."""
    used = dict(
        session.execute(
            select(QALog.official_id, func.count(QALog.id))
            .where(QALog.official_id.is_not(None))
            .group_by(QALog.official_id)
        ).all()
    )
    rows = session.scalars(select(OfficialAnswer).order_by(OfficialAnswer.id.desc()))
    return [(r, int(used.get(r.id, 0))) for r in rows]
