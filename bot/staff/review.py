"""The review-and-reply workflow for staff: legal actions on an item, each moved, notified and audited."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.chat import script
from bot.chat.texts import own, say
from bot.records.recorder import sync_submission
from bot.staff import audit
from bot.staff.accounts import Staff, StaffError
from bot.staff.models import Assignment, SubmissionReply
from bot.staff.texts import t
from bot.storage.models import ChatIdentity, Notification, StatusChange, Submission
from bot.suggestions.service import get_by_receipt, next_receipt
from bot.suggestions.status import notify_member, set_status
from bot.suggestions.types import catalog
from bot.suggestions.workflow import INITIAL, allowed_moves

# the status each action moves to (the first one the type's workflow knows)
ACTION_TARGETS: dict[str, tuple[str, ...]] = {
    "review": ("reviewing",),
    "accept": ("accepted", "adopted", "collected"),
    "decline": ("rejected", "not_adopted"),
    "assign": ("assigned",),
    "handling": ("handling",),
    "reply": ("answered",),
    "close": ("closed",),
}
# which type a declined item may be turned into (DOMAIN.md: 不予立案 may become a 社情民意信息)
CONVERSIONS = {"proposal": ("opinion", "micro"), "micro": ("opinion",)}
RATINGS = ("满意", "基本满意", "不满意")
GRADES = ("A", "B", "C")


@dataclass
class ActionInput:
    """What a staff action needs besides the item: reason, conversion, handling bodies, reply."""

    reason: str = ""
    convert_to: str = ""
    lead: str = ""
    assisting: list[str] = field(default_factory=list)
    contact: str = ""
    reply: str = ""
    grade: str = ""


def _path(type_key: str, status: str, target: str) -> list[str] | None:
    """The statuses to pass through to reach target: directly, or via 审查/办理中 (one step)."""
    legal = allowed_moves(type_key, status)
    if target in legal:
        return [target]
    for via in ("reviewing", "handling"):
        if via in legal and target in allowed_moves(type_key, via):
            return [via, target]
    return None


def target_of(item: Submission, action: str) -> list[str] | None:
    """The path of statuses an action would take this item through, or None when it is not legal now."""
    for target in ACTION_TARGETS.get(action, ()):
        path = _path(item.type, item.status, target)
        if path is not None:
            return path
    return None


def actions_for(item: Submission) -> list[str]:
    """The actions legal for the item now, in workflow order."""
    return [a for a in ACTION_TARGETS if target_of(item, a) is not None]


def load(session: Session, receipt: str) -> Submission:
    """The item with this receipt number, or StaffError."""
    item = get_by_receipt(session, receipt)
    if item is None:
        raise StaffError(t("err_not_found", receipt=receipt.strip().upper()))
    return item


def perform(
    session: Session, staff: Staff, receipt: str, action: str, data: ActionInput | None = None
) -> str:
    """Run one staff action on an item: check it is legal, move the status, notify the member, audit it."""
    data = data or ActionInput()
    # Two staff acting on one item at once take turns: a no-op UPDATE first locks the row (PostgreSQL) or takes
    # SQLite's write lock before anything is read, so the second one sees the first one's move.
    number = receipt.strip().upper()
    session.execute(
        update(Submission).where(Submission.receipt_no == number).values(updated_at=Submission.updated_at)
    )
    item = load(session, receipt)
    path = _legal_path(item, action)
    _check_inputs(item, action, data)
    cat = catalog()
    before = {"status": item.status}
    after: dict = {}
    reason = data.reason.strip()
    if action == "decline":
        reason, after = _decline_inputs(session, item, data, reason)
    elif action == "assign":
        after = _assign(session, staff, item, data)
    elif action == "reply":
        after = _check_reply(data, graded=reply_graded(item))
    # the member hears once, of where the item ended (issue 10: one notification per action)
    for status in path:
        last = status == path[-1]
        set_status(session, item.receipt_no, status, reason if last else "", staff.username, notify=False)
    if action == "reply":  # the status and the reply with its rating buttons, in one message
        _store_reply(session, staff, item, after)
    else:
        notify_member(session, item, reason)
    after["status"] = item.status
    if reason:
        after["reason"] = reason
    audit.record(
        session, staff.username, action, f"submission:{item.receipt_no}", before, after, staff.channel
    )
    return t("done", receipt=item.receipt_no, status=cat.status_label(item.status))


def _legal_path(item: Submission, action: str) -> list[str]:
    if action not in ACTION_TARGETS:
        raise StaffError(t("err_action", action=action))
    path = target_of(item, action)
    if path is None:
        options = "、".join(t(f"act_{a}") for a in actions_for(item)) or t("err_none")
        raise StaffError(
            t("err_illegal", receipt=item.receipt_no, status=catalog().status_label(item.status),
              action=t(f"act_{action}"), options=options)
        )  # fmt: skip
    return path


def _check_inputs(item: Submission, action: str, data: ActionInput) -> None:
    """Refuse missing or wrong inputs of an action (StaffError naming the field), before anything is written."""
    if action == "decline":
        if not data.reason.strip():
            raise StaffError(t("err_reason"), field="reason")
        allowed = CONVERSIONS.get(item.type, ())
        if data.convert_to and data.convert_to not in allowed:
            options = "、".join(catalog().get(k).name for k in allowed) or t("err_none")
            raise StaffError(t("err_convert", type=data.convert_to, options=options), field="convert_to")
    elif action == "assign" and not data.lead.strip():
        raise StaffError(t("err_lead"), field="lead")
    elif action == "reply":
        _check_reply(data, graded=reply_graded(item))


def check(session: Session, receipt: str, action: str, data: ActionInput | None = None) -> Submission:
    """The item, when `perform` with these inputs would be accepted now; else the StaffError perform would raise.
    Writes nothing (the web page's confirmation step checks before asking)."""
    item = load(session, receipt)
    _legal_path(item, action)
    _check_inputs(item, action, data or ActionInput())
    return item


def reply_graded(item: Submission) -> bool:
    """Whether a reply to this item carries a grade A/B/C (the type's `reply_graded` in types.toml)."""
    return catalog().get(item.type).reply_graded


def _decline_inputs(session: Session, item: Submission, data: ActionInput, reason: str) -> tuple[str, dict]:
    if not reason:
        raise StaffError(t("err_reason"))
    if not data.convert_to:
        return reason, {}
    allowed = CONVERSIONS.get(item.type, ())
    cat = catalog()
    if data.convert_to not in allowed:
        options = "、".join(cat.get(k).name for k in allowed) or t("err_none")
        raise StaffError(t("err_convert", type=data.convert_to, options=options))
    new = convert(session, item, data.convert_to)
    note = t("converted", type_name=cat.get(new.type).name, receipt=new.receipt_no)
    return f"{reason}（{note}）", {"converted_to": new.receipt_no}


def convert(session: Session, item: Submission, type_key: str) -> Submission:
    """A new item of another type carrying the declined item's text (the original is kept as it is)."""
    stype = catalog().get(type_key)
    text = "\n\n".join(str(v) for k, v in item.fields.items() if k != "title" and v)
    values: dict[str, str] = {}
    for f in stype.fields:
        if f.key == "title":
            values[f.key] = item.title[: f.max]
        elif not values.get("_body") and not f.optional:
            values[f.key] = text[: f.max]
            values["_body"] = "1"
        else:
            values[f.key] = ""
    values.pop("_body", None)
    new = Submission(
        receipt_no=next_receipt(session, stype.prefix, datetime.now().year), type=type_key, category=item.category,
        title=stype.title_of(values)[:300], fields=values, status=INITIAL, member_id=item.member_id,
        identity_id=item.identity_id, private=item.private or not values.get("title"),
    )  # fmt: skip
    session.add(new)
    session.flush()
    session.add(StatusChange(submission_id=new.id, from_status=None, to_status=INITIAL, actor="staff"))
    session.flush()
    sync_submission(session, new)
    return new


def _assign(session: Session, staff: Staff, item: Submission, data: ActionInput) -> dict:
    lead = data.lead.strip()
    if not lead:
        raise StaffError(t("err_lead"))
    assisting = [a.strip() for a in data.assisting if a.strip() and a.strip() != lead]
    session.add(Assignment(submission_id=item.id, body=lead[:200], role="lead", contact=data.contact.strip()[:200],
                           staff=staff.username))  # fmt: skip
    for body in dict.fromkeys(assisting):
        session.add(Assignment(submission_id=item.id, body=body[:200], role="assist", staff=staff.username))
    return {"lead": lead, "assisting": list(dict.fromkeys(assisting)), "contact": data.contact.strip()}


def _check_reply(data: ActionInput, graded: bool) -> dict:
    text = data.reply.strip()
    if not text:
        raise StaffError(t("err_reply"), field="reply")
    grade = data.grade.strip().upper()
    if (graded or grade) and grade not in GRADES:
        raise StaffError(t("err_grade"), field="grade")
    return {"grade": grade, "reply": text[:5000]}


def _store_reply(session: Session, staff: Staff, item: Submission, after: dict) -> None:
    """Keep the reply and send it to the member, with the new status and the rating buttons, as one message in
    the member's remembered script (the reply's own text as staff wrote it)."""
    row = SubmissionReply(
        submission_id=item.id, text=after["reply"], grade=after["grade"], staff=staff.username
    )
    session.add(row)
    session.flush()
    identity = session.get(ChatIdentity, item.identity_id)
    if identity is None:
        return
    cat = catalog()
    trad = script.traditional_of(identity)
    html = say("reply_notice", trad, type_name=own(cat.get(item.type).name, trad), receipt=item.receipt_no,
               title=item.title, status=own(cat.status_label(item.status), trad), text=row.text)  # fmt: skip
    buttons = [
        [
            {"label": say(f"btn_rating_{i}", trad), "data": f"rt:{row.id}:{i}"}
            for i in range(1, len(RATINGS) + 1)
        ]
    ]
    session.add(
        Notification(identity_id=identity.id, channel=identity.channel, chat_id=identity.chat_id, kind="reply",
                     html=html, submission_id=item.id, buttons=buttons)
    )  # fmt: skip


def assignments(session: Session, item: Submission) -> list[Assignment]:
    """The handling bodies of an item, lead first."""
    rows = session.scalars(
        select(Assignment).where(Assignment.submission_id == item.id).order_by(Assignment.id)
    )
    return sorted(rows, key=lambda a: a.role != "lead")


def replies(session: Session, item: Submission) -> list[SubmissionReply]:
    """The replies recorded for an item, oldest first."""
    stmt = (
        select(SubmissionReply).where(SubmissionReply.submission_id == item.id).order_by(SubmissionReply.id)
    )
    return list(session.scalars(stmt))
