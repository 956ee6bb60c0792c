"""Questions: answer with citations, log with cited chunk ids, show a cited passage, store votes."""

from __future__ import annotations

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot.answering.types import Answer
from bot.chat import script
from bot.chat.models import FollowUp
from bot.chat.section import whole_section_html
from bot.chat.texts import esc, say
from bot.chat.types import Button, ChatRef, Reply
from bot.prompts import render_for
from bot.storage.models import ChatIdentity, QALog, QASource, utcnow
from bot.textnorm import to_traditional_display

_LOG = insert(QALog).returning(QALog.id)
_SOURCES = insert(QASource)
MAX_PASSAGE_BUTTONS = 5
NO_OFFERS = ("greeting", "thanks", "empty", "not_a_question")  # no question left open: no offers


def log_answer(session: Session, ident: ChatIdentity, ref: ChatRef, answer: Answer) -> QALog:
    """Store the question, the answer and what it cites (the documents in qa_sources); the row as stored, with its
    id (a plain object: not attached to the session). Two Core statements: the ORM's unit of work adds nothing for
    rows written once and never changed in this transaction."""
    values = dict(
        identity_id=ident.id,
        channel=ref.channel,
        chat_id=ref.chat_id,
        question=answer.question,
        answer=answer.text,
        declined=answer.declined,
        chunk_ids=[c.chunk_id for c in answer.citations],
        citations=[
            {
                "chunk_id": c.chunk_id,
                "doc": c.doc,
                "title": c.title,
                "section": c.section,
                "text": c.text,
                "label": c.label(),
            }
            for c in answer.citations
        ],
        ms=float(answer.ms or 0.0),
        decision=answer.decision,
        official_id=answer.meta.get("official_id"),
        created_at=utcnow(),
    )
    connection = session.connection()
    qa_id = connection.execute(_LOG, values).scalar_one()
    docs = dict.fromkeys(c.doc[:200] for c in answer.citations if c.doc)
    if docs:
        connection.execute(_SOURCES, [{"qa_id": qa_id, "doc_id": doc} for doc in docs])
    return QALog(id=qa_id, **values)


def render_answer(answer: Answer, qa_id: int) -> Reply:
    """The answer as HTML with numbered sources, passage buttons and 👍/👎 (or the decline offers)."""
    meta = {
        "qa_id": qa_id,
        "declined": answer.declined,
        "decision": answer.decision,
        "citations": [c.label() for c in answer.citations],
    }
    # the bot's own words follow the script of the question when it shows one (the answer's own words do), else
    # the member's remembered script; the documents' words never change
    trad = answer.traditional if script.verdict(answer.question) else script.current()
    if answer.decision == "official" and not answer.citations:  # the office's own words: no sources to show
        text = say("answer_official", trad, answer=answer.text)
        return Reply(text, answer_buttons(qa_id, 0, trad), meta=meta)
    own = answer.text
    # no question (😀, 「你好」): its note in the member's script, as the words around it
    if answer.decision == "chat" and not script.verdict(answer.question):
        own = render_for(f"answers/{answer.meta['mode']}", trad)
    if answer.declined or not answer.citations:
        text = say("answer_declined", trad, answer=own)  # the answer's own decline, said once
        if answer.meta.get("mode") in NO_OFFERS:
            return Reply(text, meta=meta)
        rows = [
            [Button(say("btn_to_micro", trad), f"q:m:{qa_id}")],
            [Button(say("btn_contact_staff", trad), f"q:s:{qa_id}")],
        ]
        return Reply(text, rows, meta=meta)
    sources = "\n".join(
        say("answer_source", trad, n=i, label=c.label()) for i, c in enumerate(answer.citations, 1)
    )
    text = say("answer", trad, answer=answer.text, sources_html=sources)
    return Reply(text, answer_buttons(qa_id, len(answer.citations), trad), meta=meta)


def answer_buttons(qa_id: int, cited: int, traditional: bool, chosen: int = 0) -> list[list[Button]]:
    """The button rows under an answer: 原文1…原文k for its first k ≤ MAX_PASSAGE_BUTTONS of `cited` passages
    (no row when it cites none), then 👍/👎; chosen (1 or -1) marks the member's vote (0: none)."""
    rows = []
    if cited:
        shown = range(1, min(cited, MAX_PASSAGE_BUTTONS) + 1)
        rows.append([Button(say("btn_passage", traditional, n=i), f"q:p:{qa_id}:{i}") for i in shown])
    up = say("qa_btn_vote_up_chosen", traditional) if chosen == 1 else "👍"
    down = say("qa_btn_vote_down_chosen", traditional) if chosen == -1 else "👎"
    rows.append([Button(up, f"q:v:{qa_id}:1"), Button(down, f"q:v:{qa_id}:-1")])
    return rows


def _answer_script(row: QALog) -> bool:
    """The script render_answer used for an answer's own words: its question's when that shows one, else the
    member's remembered one."""
    return script.of_question(row.question or "", script.current())


def _own(session: Session, ident: ChatIdentity, qa_id: str) -> QALog | None:
    row = session.get(QALog, int(qa_id)) if qa_id.isdigit() else None
    return row if row is not None and row.identity_id == ident.id else None


def show_passage(session: Session, ident: ChatIdentity, qa_id: str, n: str) -> list[Reply]:
    """The full text of the n-th cited passage."""
    row = _own(session, ident, qa_id)
    if row is None or not n.isdigit() or not 1 <= int(n) <= len(row.citations):
        return [Reply(toast=say("toast_expired"))]
    c = row.citations[int(n) - 1]
    text = say("passage", n=n, label=c.get("label", c["title"]), text=c["text"])
    rows = []
    if script.current() and to_traditional_display(c["text"]) != c["text"]:  # a reading aid, never the quote
        rows = [[Button(say("btn_traditional_reading"), f"q:t:{qa_id}:{n}")]]
    if c.get("chunk_id"):  # 查看整节: the passage's whole section (whole_section)
        rows.append([Button(say("qa_btn_whole_section"), f"q:w:{qa_id}:{n}")])
    return [Reply(text, rows)]


def whole_section(session: Session, ident: ChatIdentity, qa_id: str, n: str, knowledge) -> list[Reply]:
    """「查看整节」: the whole section around the n-th passage of one of this member's answers, in the document's
    own words (bot.chat.section.whole_section_html, the same text the web chat shows), the heading in the
    member's script. One reply of any length (a channel splits it at its message limit); a toast when the answer
    is not the member's or the passage is no longer in `knowledge` (a KnowledgeBase, or None)."""
    row = _own(session, ident, qa_id)
    if row is None or not n.isdigit() or not 1 <= int(n) <= len(row.citations):
        return [Reply(toast=say("toast_expired"))]
    html = whole_section_html(knowledge, row.citations[int(n) - 1].get("chunk_id", ""), script.current())
    if html is None:
        return [Reply(toast=say("web_section_gone"))]
    return [Reply(html)]


def traditional_reading(session: Session, ident: ChatIdentity, qa_id: str, n: str) -> list[Reply]:
    """The n-th cited passage converted to Traditional characters (OpenCC s2tw) for reading, marked as a
    conversion; the passage itself (show_passage) always keeps the document's own characters."""
    row = _own(session, ident, qa_id)
    if row is None or not n.isdigit() or not 1 <= int(n) <= len(row.citations):
        return [Reply(toast=say("toast_expired"))]
    c = row.citations[int(n) - 1]
    label = c.get("label", c["title"])
    return [
        Reply(say("passage_traditional_reading", n=n, label=label, text=to_traditional_display(c["text"])))
    ]


def vote(session: Session, ident: ChatIdentity, qa_id: str, value: str) -> list[Reply]:
    """Store 👍 (1) or 👎 (-1) for an answer; a later vote replaces the earlier one."""
    row = _own(session, ident, qa_id)
    if row is None or value not in ("1", "-1"):
        return [Reply(toast=say("toast_expired"))]
    row.vote, row.voted_at = int(value), utcnow()
    rows = answer_buttons(row.id, len(row.citations or []), _answer_script(row), int(value))
    return [Reply(toast=say("toast_vote_up" if value == "1" else "toast_vote_down"), edit_buttons=rows)]


def contact_staff(session: Session, ident: ChatIdentity, qa_id: str, contact: str) -> list[Reply]:
    """「联系工作人员」: the office's contact (LVZHI_OFFICE_CONTACT) and the question put on the staff's follow-up
    list (/staff/followups), once per answered question."""
    row = _own(session, ident, qa_id)
    if row is None:
        return [Reply(toast=say("toast_expired"))]
    exists = session.scalar(select(FollowUp.id).where(FollowUp.qa_id == row.id))
    if exists is None:
        session.add(
            FollowUp(
                qa_id=row.id, identity_id=ident.id, member_id=ident.member_id, channel=row.channel,
                question=row.question,
            )
        )  # fmt: skip
        session.flush()
    how = say("contact_office", contact=contact) if contact.strip() else say("contact_office_unset")
    rows = [[Button(say("btn_to_micro"), f"q:m:{row.id}")]]
    return [Reply(say("contact_followup", question=row.question, contact_html=how), rows)]


def question_of(session: Session, ident: ChatIdentity, qa_id: str) -> str | None:
    """The question text of one of this user's logged answers."""
    row = _own(session, ident, qa_id)
    return row.question if row is not None else None


__all__ = [
    "answer_buttons",
    "contact_staff",
    "esc",
    "log_answer",
    "question_of",
    "render_answer",
    "show_passage",
    "traditional_reading",
    "vote",
    "whole_section",
]
