"""Answers, leave, check-in and attendance, and their place in the duty record (履职档案).

After an activity ends each invitee gets one automatic duty activity (key act:<id>:m:<member id>, kind
`duty_event`) with the attributes the rule table tests: attended (checked in or marked by staff), excused (leave
approved, or leave given where no approval is needed) and meeting_type (the activity's type). The rule table of the
year (rules/scoring/<year>.csv, lines of duty_event) decides the points. Before the end, only arrivals are recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from bot.activities import notices, service
from bot.activities.models import Activity, ActivityInvitee
from bot.records.models import DutyActivity
from bot.records.recorder import local_date
from bot.storage.models import utcnow

RECORD_KIND = "duty_event"  # activity code of the rule table (bot/records/vocabulary.py)
CHECKIN_OPENS_BEFORE = timedelta(minutes=60)  # check-in opens an hour before the start, closes at the end
LEAVE_REASON_MAX = 200


def record_key(activity_id: int, member_id: int) -> str:
    """The idempotency key of a member's duty activity for one activity."""
    return f"act:{activity_id}:m:{member_id}"


def excused(activity: Activity, inv: ActivityInvitee) -> bool:
    """On leave that counts: approved, or given where the activity needs no approval."""
    if inv.answer != "leave":
        return False
    return inv.leave_state == "approved" or (
        not activity.leave_needs_approval and inv.leave_state != "returned"
    )


def outcome(activity: Activity, inv: ActivityInvitee, now: datetime | None = None) -> str:
    """attended | leave | absent once the activity is over; attended | pending before (no arrival yet)."""
    if inv.attended_at is not None:
        return "attended"
    if (now or utcnow()) < activity.ends_at:
        return "pending"
    return "leave" if excused(activity, inv) else "absent"


def sync_records(session: Session, activity: Activity, now: datetime | None = None) -> int:
    """Bring the automatic duty activities of this activity in line (idempotent); the number of rows kept.

    Cancelled activities and removed invitees (unless they came) lose their rows."""
    now = now or utcnow()
    existing = {
        r.key: r
        for r in session.scalars(select(DutyActivity).where(DutyActivity.key.like(f"act:{activity.id}:m:%")))
    }
    kept = 0
    if activity.status != "cancelled":
        rows = session.scalars(select(ActivityInvitee).where(ActivityInvitee.activity_id == activity.id))
        for inv in rows:
            result = outcome(activity, inv, now)
            if result == "pending" or (inv.removed and result != "attended"):
                continue
            key = record_key(activity.id, inv.member_id)
            attrs = {
                "attended": result == "attended",
                "excused": result == "leave",
                "meeting_type": activity.type,
            }
            row = existing.pop(key, None)
            if row is None:
                row = DutyActivity(key=key, member_id=inv.member_id, source="auto", kind=RECORD_KIND)
                session.add(row)
            on = local_date(activity.starts_at)
            reference, note = f"活动#{activity.id}", activity.title[:200]
            if (row.on_date, row.reference, row.attributes, row.note) != (on, reference, attrs, note):
                row.on_date, row.reference, row.attributes, row.note = on, reference, attrs, note
                flag_modified(row, "attributes")
                row.updated_at = now
            kept += 1
    for stale in existing.values():
        session.delete(stale)
    session.flush()
    return kept


def can_answer(activity: Activity, now: datetime | None = None) -> bool:
    """Answers may change until the RSVP deadline of a scheduled activity."""
    return activity.status == "scheduled" and (now or utcnow()) < activity.rsvp_deadline


def answer_attend(inv: ActivityInvitee) -> bool:
    """Record 参加; False when it was already the answer (nothing changes)."""
    if inv.answer == "attend":
        return False
    inv.answer, inv.answered_at = "attend", utcnow()
    inv.leave_reason, inv.leave_state, inv.staff_note = "", "", ""
    return True


def answer_leave(activity: Activity, inv: ActivityInvitee, reason: str) -> None:
    """Record 请假 with its reason; it waits for staff when the activity needs approval."""
    inv.answer, inv.answered_at = "leave", utcnow()
    inv.leave_reason = reason.strip()[:LEAVE_REASON_MAX]
    inv.leave_state = "pending" if activity.leave_needs_approval else ""
    inv.staff_note, inv.decided_by = "", ""


def decide_leave(
    session: Session, activity: Activity, member_id: int, approve: bool, actor: str, note: str = ""
) -> ActivityInvitee:
    """Staff approve or return a pending leave request, the member told either way (one outbox message);
    ActivityError when there is no pending request."""
    inv = service.invitee(session, activity, member_id)
    if inv is None or inv.answer != "leave" or inv.leave_state != "pending":
        raise service.ActivityError("这位委员没有待审批的请假申请")
    inv.leave_state = "approved" if approve else "returned"
    inv.staff_note, inv.decided_by = note.strip()[:500], actor
    if not approve:
        inv.answer = "none"  # returned: the member answers again
    session.flush()
    notices.send_decision(session, activity, inv)
    sync_records(session, activity)
    return inv


def check_in(session: Session, activity: Activity, inv: ActivityInvitee, now: datetime | None = None) -> str:
    """Record arrival once within the window: ok | again | early | late | cancelled."""
    now = now or utcnow()
    if activity.status == "cancelled":
        return "cancelled"
    if inv.attended_at is not None:
        return "again"
    if now < activity.starts_at - CHECKIN_OPENS_BEFORE:
        return "early"
    if now >= activity.ends_at:
        return "late"
    inv.attended_at, inv.attendance_source = now, "checkin"
    session.flush()
    sync_records(session, activity, now)
    return "ok"


def mark(
    session: Session, activity: Activity, member_id: int, present: bool
) -> tuple[ActivityInvitee, dict, dict]:
    """Staff mark attendance by hand; (row, before, after) for the audit log. ActivityError if not invited."""
    inv = service.invitee(session, activity, member_id)
    if inv is None:
        raise service.ActivityError(f"委员 #{member_id} 不在本活动的邀请名单中")
    before = {"attended": inv.attended_at is not None, "source": inv.attendance_source}
    if present and inv.attended_at is None:
        inv.attended_at, inv.attendance_source = utcnow(), "staff"
    elif not present:
        inv.attended_at, inv.attendance_source = None, ""
    session.flush()
    sync_records(session, activity)
    return inv, before, {"attended": inv.attended_at is not None, "source": inv.attendance_source}


def find_by_code(session: Session, code: str) -> Activity | None:
    """The activity whose check-in code this is."""
    code = code.strip()
    if not code or len(code) > 40:
        return None
    return session.scalar(select(Activity).where(Activity.checkin_code == code))
