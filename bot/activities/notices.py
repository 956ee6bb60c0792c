"""Messages to invitees through the outbox (bot/chat/outbox.py): notice, change, cancel, reminder, decisions.

Each message is recorded once per (activity, member, purpose) in activity_notices in the same transaction that
queues it, so a retried job or a double click never queues a second copy; the running channel's notifier then
delivers each outbox row at most once per piece, rate-limited by the Telegram application (AIORateLimiter), and
marks a member who blocked the bot (outbox.attempt_failed). Blocked chat identities are skipped here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.activities import service
from bot.activities.models import Activity, ActivityInvitee, ActivityNotice
from bot.activities.texts import say
from bot.chat.script import traditional_of
from bot.storage.models import ChatIdentity, Notification, utcnow

Make = Callable[[bool], tuple[str, list[list[dict]]]]  # traditional → (html, button rows as dicts)
KIND = "activity"


def answer_buttons(activity: Activity, traditional: bool) -> list[list[dict]]:
    """The 参加 / 请假 buttons (callback data act:y:<id>, act:n:<id>)."""
    return [
        [
            {"label": say("btn_attend", traditional), "data": f"act:y:{activity.id}"},
            {"label": say("btn_leave", traditional), "data": f"act:n:{activity.id}"},
        ]
    ]


def queue(session: Session, activity: Activity, member_id: int, purpose: str, make: Make) -> bool:
    """Queue one message for the member's chats unless this purpose was queued before; True when queued now."""
    return queue_many(session, activity, [member_id], purpose, make) == 1


def queue_many(
    session: Session, activity: Activity, member_ids: Iterable[int], purpose: str, make: Make
) -> int:
    """Queue the message for each member not yet sent this purpose, on each of their chats that did not block
    the bot, in the member's script; the number of members reached now (members without a chat are left for a
    later run). Reads in batches of 500 members."""
    wanted = sorted(set(member_ids))
    done = set(
        session.scalars(
            select(ActivityNotice.member_id).where(
                ActivityNotice.activity_id == activity.id, ActivityNotice.purpose == purpose
            )
        )
    )
    todo = [m for m in wanted if m not in done]
    texts: dict[bool, tuple[str, list[list[dict]]]] = {}
    queued = 0
    for start in range(0, len(todo), 500):
        part = todo[start : start + 500]
        idents = list(
            session.scalars(
                select(ChatIdentity)
                .where(ChatIdentity.member_id.in_(part), ChatIdentity.blocked.is_(False))
                .order_by(ChatIdentity.id)
            )
        )
        chats: dict[int, int] = {}
        for ident in idents:
            script = traditional_of(ident)
            if script not in texts:
                texts[script] = make(script)
            text, rows = texts[script]
            session.add(
                Notification(
                    identity_id=ident.id, channel=ident.channel, chat_id=ident.chat_id, kind=KIND, html=text,
                    buttons=rows or None,
                )
            )  # fmt: skip
            chats[ident.member_id] = chats.get(ident.member_id, 0) + 1
        # a member with no chat yet is not recorded: a later run (lvzhi activities notify) reaches them once bound
        session.add_all(
            ActivityNotice(activity_id=activity.id, member_id=m, purpose=purpose, chats=n)
            for m, n in chats.items()
        )
        session.flush()
        queued += len(chats)
    return queued


def notice_text(activity: Activity, traditional: bool) -> str:
    """The invitation: type, title, time, place, description, attachments, deadline and the leave rule."""
    names = "、".join(a.get("name", "") for a in activity.attachments or [] if a.get("name"))
    return say(
        "notice", traditional, type=activity.type, title=activity.title, when=service.when(activity),
        place=activity.place, description_html=_esc(activity.description) + "\n" if activity.description else "",
        attachments_html=say("attachments", traditional, names=names) if names else "",
        deadline=service.local(activity.rsvp_deadline),
        leave_rule=say("leave_rule_approval" if activity.leave_needs_approval else "leave_rule_free", traditional),
    )  # fmt: skip


def _esc(text: str) -> str:
    import html

    return html.escape(text, quote=False)


def _members(session: Session, activity: Activity, member_ids: Iterable[int] | None) -> list[int]:
    if member_ids is not None:
        return sorted(set(member_ids))
    return [inv.member_id for inv, _ in service.invitees(session, activity)]


def send_notices(session: Session, activity: Activity, member_ids: Iterable[int] | None = None) -> int:
    """The invitation to every invitee (or to these members) not yet sent it; how many were queued now."""

    def make(trad: bool) -> tuple[str, list[list[dict]]]:
        return notice_text(activity, trad), answer_buttons(activity, trad)

    return queue_many(session, activity, _members(session, activity, member_ids), "notice", make)


def send_change(session: Session, activity: Activity, change: service.Change) -> int:
    """Tell every invitee once that the time or place moved (purpose change:<version>); how many queued."""
    if not change.moved:
        return 0

    def make(trad: bool) -> tuple[str, list[list[dict]]]:
        parts = []
        if "time" in change.fields:
            parts.append(say("change_time", trad, when=service.when(activity), old=change.old_when))
        if "place" in change.fields:
            parts.append(say("change_place", trad, place=activity.place, old=change.old_place))
        text = say("changed", trad, title=activity.title, changes_html="\n".join(parts))
        return text, answer_buttons(activity, trad)

    purpose = f"change:{activity.version}"
    return queue_many(session, activity, _members(session, activity, None), purpose, make)


def send_cancel(session: Session, activity: Activity, reason: str = "") -> int:
    """Tell every invitee once that the activity is cancelled; how many queued."""

    def make(trad: bool) -> tuple[str, list[list[dict]]]:
        reason_html = say("cancel_reason", trad, reason=reason) if reason else ""
        text = say("cancelled", trad, title=activity.title, when=service.when(activity), place=activity.place,
                   reason_html=reason_html)  # fmt: skip
        return text, []

    return queue_many(session, activity, _members(session, activity, None), "cancel", make)


def unanswered(session: Session, activity: Activity) -> list[int]:
    """Member ids of invitees who have not answered (or whose leave was returned)."""
    return [
        inv.member_id
        for inv, _ in service.invitees(session, activity)
        if inv.answer == "none" or inv.leave_state == "returned"
    ]


def send_reminders(session: Session, activity: Activity, purpose: str = "reminder") -> int:
    """Remind invitees who have not answered (once per purpose: the daily job uses "reminder", a staff press
    "remind:<minute>"); how many were queued."""

    def make(trad: bool) -> tuple[str, list[list[dict]]]:
        text = say("reminder", trad, title=activity.title, when=service.when(activity), place=activity.place,
                   deadline=service.local(activity.rsvp_deadline))  # fmt: skip
        return text, answer_buttons(activity, trad)

    return queue_many(session, activity, unanswered(session, activity), purpose, make)


def send_decision(session: Session, activity: Activity, inv: ActivityInvitee) -> bool:
    """Tell the member that staff approved or returned their leave (one message per decision)."""
    approved = inv.leave_state == "approved"

    def make(trad: bool) -> tuple[str, list[list[dict]]]:
        if approved:
            note = say("staff_note", trad, note=inv.staff_note) if inv.staff_note else ""
            return say(
                "leave_approved", trad, title=activity.title, when=service.when(activity), note_html=note
            ), []
        note = say("staff_note_returned", trad, note=inv.staff_note) if inv.staff_note else ""
        text = say("leave_returned", trad, title=activity.title, when=service.when(activity), note_html=note)
        return text, answer_buttons(activity, trad)

    purpose = f"decision:{inv.id}:{utcnow().timestamp():.6f}"
    return queue(session, activity, inv.member_id, purpose, make)
