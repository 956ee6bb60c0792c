"""Members in the chat: the 参加/请假 buttons, the leave reason, /activities and the check-in link.

Button data: act:y:<id> (参加), act:n:<id> (请假: asks the reason), act:r:<id>:<i> (a common reason),
act:o:<id> (another reason, typed). A typed reason is read in the chat's flow state (flow "activity_leave").
Check-in: /start act-<code> (t.me deep link, or the web chat's ?start= link).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.activities import attendance, notices, service
from bot.activities.models import Activity, ActivityInvitee
from bot.activities.texts import say
from bot.chat.script import traditional_of
from bot.chat.types import Button, ChatRef, Reply
from bot.storage.models import ChatIdentity, FlowState, utcnow

FLOW = "activity_leave"
PRESS_HEAD = "act"
LINK_PREFIX = "act-"
LIST_PAST = timedelta(days=1)  # /activities shows what is coming and what ended within the last day
LIST_MAX = 20


def reasons(trad: bool = False) -> list[str]:
    """The common leave reasons offered as buttons (template leave_reasons, separated by 、)."""
    return [r for r in say("leave_reasons", trad).split("、") if r]


def _invitee(
    s: Session, ident: ChatIdentity, activity: Activity, trad: bool
) -> tuple[ActivityInvitee | None, list[Reply]]:
    if not ident.member_id:
        return None, [Reply(say("unbound", trad))]
    inv = service.invitee(s, activity, ident.member_id)
    if inv is None:
        return None, [Reply(say("not_invited", trad, title=activity.title))]
    return inv, []


def _activity(s: Session, raw: str, trad: bool) -> tuple[Activity | None, list[Reply]]:
    activity = s.get(Activity, int(raw)) if raw.isdigit() else None
    if activity is None:
        return None, [Reply(say("unknown", trad))]
    if activity.status == "cancelled":
        return None, [Reply(say("is_cancelled", trad, title=activity.title))]
    return activity, []


def _answerable(
    s: Session, ident: ChatIdentity, raw_id: str, trad: bool
) -> tuple[tuple[Activity, ActivityInvitee] | None, list[Reply]]:
    """The activity (id as typed in button data) and this member's invitation, when the member may still answer:
    ((activity, invitee), []) or (None, [the refusal]: unknown, cancelled, not bound, not invited, past the deadline)."""
    activity, refused = _activity(s, raw_id, trad)
    if activity is None:
        return None, refused
    inv, refused = _invitee(s, ident, activity, trad)
    if inv is None:
        return None, refused
    if not attendance.can_answer(activity):
        deadline = service.local(activity.rsvp_deadline)
        return None, [Reply(say("past_deadline", trad, title=activity.title, deadline=deadline))]
    return (activity, inv), []


def on_press(
    s: Session, ident: ChatIdentity, ref: ChatRef, state: FlowState | None, action: str, args: list[str]
) -> list[Reply]:
    """A button of an activity message (see the module docstring for the data)."""
    trad = traditional_of(ident)
    found, refused = _answerable(s, ident, args[0] if args else "", trad)
    if found is None:
        return refused
    activity, inv = found
    if action == "y":
        if not attendance.answer_attend(inv):
            return [Reply(say("attend_same", trad, title=activity.title))]
        _drop_leave_flow(s, state)
        return [Reply(say("attend_ok", trad, title=activity.title, when=service.when(activity), place=activity.place,
                          deadline=service.local(activity.rsvp_deadline)))]  # fmt: skip
    if action == "n":
        return [ask_reason(s, ident, ref, state, activity, trad)]
    if action == "r":
        options = reasons(trad)
        index = args[1] if len(args) > 1 else ""
        if not index.isdigit() or int(index) >= len(options):
            return [ask_reason(s, ident, ref, state, activity, trad)]
        _drop_leave_flow(s, state)
        return [leave(s, activity, inv, reasons(False)[int(index)], trad)]
    if action == "o":
        return [ask_reason(s, ident, ref, state, activity, trad)]
    return [Reply(say("unknown", trad))]


def _drop_leave_flow(s: Session, state: FlowState | None) -> None:
    if state is not None and state.flow == FLOW:
        s.delete(state)


def ask_reason(
    s: Session, ident: ChatIdentity, ref: ChatRef, state: FlowState | None, activity: Activity, trad: bool
) -> Reply:
    """Ask why: common reasons as buttons; a typed reason is awaited unless another draft holds the chat."""
    rows = [[Button(r, f"act:r:{activity.id}:{i}")] for i, r in enumerate(reasons(trad))]
    if state is not None and state.flow != FLOW:
        return Reply(say("leave_ask_buttons_only", trad), rows)
    now = utcnow()
    if state is None:
        state = FlowState(channel=ref.channel, chat_id=ref.chat_id, identity_id=ident.id, flow=FLOW, step="reason",
                          draft={}, created_at=now)  # fmt: skip
        s.add(state)
    state.draft, state.paused, state.updated_at = {"activity_id": activity.id}, False, now
    state.step = "reason"
    s.flush()
    return Reply(say("leave_ask", trad), rows)


def on_text(s: Session, ident: ChatIdentity, state: FlowState, text: str) -> list[Reply]:
    """A typed leave reason (the chat is in the activity_leave flow)."""
    trad = traditional_of(ident)
    reason = text.strip()
    if not reason:
        return [Reply(say("reason_empty", trad))]
    if len(reason) > attendance.LEAVE_REASON_MAX:
        return [Reply(say("reason_long", trad, count=len(reason)))]
    s.delete(state)
    found, refused = _answerable(s, ident, str(state.draft.get("activity_id", "")), trad)
    if found is None:
        return refused
    return [leave(s, *found, reason, trad)]


def leave(s: Session, activity: Activity, inv: ActivityInvitee, reason: str, trad: bool) -> Reply:
    """Record the leave and say whether it waits for staff."""
    attendance.answer_leave(activity, inv, reason)
    s.flush()
    key = "leave_pending" if activity.leave_needs_approval else "leave_ok"
    return Reply(say(key, trad, title=activity.title, reason=inv.leave_reason))


def answer_label(activity: Activity, inv: ActivityInvitee, trad: bool = False) -> str:
    """The member's answer in words (未回复, 参加, 请假（待审批）, …)."""
    if inv.answer == "attend":
        return say("answer_attend", trad)
    if inv.answer == "leave":
        if not activity.leave_needs_approval:
            return say("answer_leave_free", trad)
        return say(f"answer_leave_{inv.leave_state or 'pending'}", trad)
    if inv.leave_state == "returned":
        return say("answer_leave_returned", trad)
    return say("answer_none", trad)


def list_reply(s: Session, ident: ChatIdentity) -> Reply:
    """/activities: what is coming for this member and their answer, with buttons while they may answer."""
    trad = traditional_of(ident)
    if not ident.member_id:
        return Reply(say("unbound", trad))
    now = utcnow()
    rows = s.execute(
        select(Activity, ActivityInvitee)
        .join(ActivityInvitee, ActivityInvitee.activity_id == Activity.id)
        .where(ActivityInvitee.member_id == ident.member_id, ActivityInvitee.removed.is_(False),
               Activity.status == "scheduled", Activity.ends_at > now - LIST_PAST)
        .order_by(Activity.starts_at, Activity.id)
        .limit(LIST_MAX)
    ).all()  # fmt: skip
    if not rows:
        return Reply(say("list_empty", trad))
    lines = [
        say("list_line", trad, id=a.id, type=a.type, title=a.title, when=service.when(a), place=a.place,
            answer=answer_label(a, inv, trad))
        for a, inv in rows
    ]  # fmt: skip
    buttons = [
        [Button(f"#{a.id} {b['label']}", b["data"]) for b in notices.answer_buttons(a, trad)[0]]
        for a, _ in rows
        if attendance.can_answer(a, now)
    ]
    return Reply(say("list_header", trad, count=len(rows)) + "\n" + "\n".join(lines), buttons)


def check_in(s: Session, ident: ChatIdentity, code: str) -> list[Reply]:
    """/start act-<code>: record the member's arrival (once, invitees only, within the window)."""
    trad = traditional_of(ident)
    activity = attendance.find_by_code(s, code)
    if activity is None:
        return [Reply(say("checkin_bad", trad))]
    if activity.status == "cancelled":
        return [Reply(say("is_cancelled", trad, title=activity.title))]
    inv, refused = _invitee(s, ident, activity, trad)
    if inv is None:
        return refused
    result = attendance.check_in(s, activity, inv)
    if result in ("ok", "again"):
        return [
            Reply(say(f"checkin_{result}", trad, title=activity.title, at=service.local(inv.attended_at)))
        ]
    if result == "early":
        opens = service.local(activity.starts_at - attendance.CHECKIN_OPENS_BEFORE)
        return [Reply(say("checkin_early", trad, title=activity.title, opens=opens))]
    return [Reply(say("checkin_late", trad, title=activity.title, closes=service.local(activity.ends_at)))]


def links(activity: Activity, bot_username: str | None, web_base: str | None) -> dict[str, str]:
    """The check-in links shown at the venue: t.me deep link and web-chat link."""
    payload = f"{LINK_PREFIX}{activity.checkin_code}"
    out = {}
    if bot_username:
        out["telegram"] = f"https://t.me/{bot_username.lstrip('@')}?start={payload}"
    if web_base:
        out["web"] = f"{web_base.rstrip('/')}/?start={payload}"
    return out
