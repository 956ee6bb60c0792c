"""Staff overview: per activity, counts and lists by answer and by attendance; export rows; a member's year."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.activities import attendance, service
from bot.activities.models import Activity, ActivityInvitee
from bot.storage.models import Member, utcnow

ANSWERS = {"none": "未回复", "attend": "参加", "leave": "请假"}
LEAVE_STATES = {"": "", "pending": "待审批", "approved": "已批准", "returned": "已退回"}
OUTCOMES = {"attended": "出席", "leave": "请假", "absent": "缺席", "pending": "未签到"}
EXPORT_HEADER = (
    "委员编号", "姓名", "界别", "回复", "请假原因", "审批", "工作人员说明", "回复时间", "签到时间", "签到方式", "出勤",
)  # fmt: skip


@dataclass
class Row:
    """One invitee as staff see them."""

    member_id: int
    name: str
    sector: str
    answer: str  # none | attend | leave
    leave_reason: str
    leave_state: str
    staff_note: str
    answered_at: str
    attended_at: str
    source: str
    outcome: str  # attended | leave | absent | pending


@dataclass
class Overview:
    """Counts by answer (未回复/参加/请假, 待审批) and by outcome, and the rows."""

    activity: Activity
    rows: list[Row] = field(default_factory=list)
    by_answer: Counter = field(default_factory=Counter)
    by_outcome: Counter = field(default_factory=Counter)
    pending_leave: int = 0

    def of_answer(self, answer: str) -> list[Row]:
        """Rows with this answer."""
        return [r for r in self.rows if r.answer == answer]

    def of_outcome(self, outcome: str) -> list[Row]:
        """Rows with this outcome."""
        return [r for r in self.rows if r.outcome == outcome]


def _t(moment) -> str:
    return service.local(moment) if moment else ""


def build(session: Session, activity: Activity) -> Overview:
    """The overview of one activity (current invitees, by member id)."""
    now = utcnow()
    out = Overview(activity)
    for inv, member in service.invitees(session, activity):
        row = Row(
            member.id, member.name, member.sector, inv.answer, inv.leave_reason, inv.leave_state, inv.staff_note,
            _t(inv.answered_at), _t(inv.attended_at), inv.attendance_source, attendance.outcome(activity, inv, now),
        )  # fmt: skip
        out.rows.append(row)
        out.by_answer[row.answer] += 1
        out.by_outcome[row.outcome] += 1
        out.pending_leave += row.leave_state == "pending" and row.answer == "leave"
    return out


def export_rows(overview: Overview) -> list[list[str]]:
    """One row per invitee for CSV/XLSX (columns EXPORT_HEADER)."""
    return [
        [
            str(r.member_id),
            r.name,
            r.sector,
            ANSWERS.get(r.answer, r.answer),
            r.leave_reason,
            LEAVE_STATES.get(r.leave_state, r.leave_state),
            r.staff_note,
            r.answered_at,
            r.attended_at,
            {"checkin": "扫码签到", "staff": "工作人员补登"}.get(r.source, ""),
            OUTCOMES[r.outcome],
        ]  # fmt: skip
        for r in overview.rows
    ]


@dataclass(frozen=True)
class YearLine:
    """One activity in a member's year."""

    activity_id: int
    on: date
    type: str
    title: str
    answer: str
    outcome: str


def member_year(session: Session, member_id: int, year: int) -> list[YearLine]:
    """The member's activities of a year (not cancelled), in date order, with answer and outcome."""
    now = utcnow()
    stmt = (
        select(Activity, ActivityInvitee)
        .join(ActivityInvitee, ActivityInvitee.activity_id == Activity.id)
        .where(ActivityInvitee.member_id == member_id, ActivityInvitee.removed.is_(False))
        .where(Activity.status == "scheduled")
        .order_by(Activity.starts_at, Activity.id)
    )
    out = []
    for a, inv in session.execute(stmt):
        on = a.starts_at.astimezone(service.campaign_service.TIMEZONE).date()
        if on.year == year:
            out.append(YearLine(a.id, on, a.type, a.title, ANSWERS.get(inv.answer, inv.answer),
                                OUTCOMES[attendance.outcome(a, inv, now)]))  # fmt: skip
    return out


def member_of(session: Session, member_id: int) -> Member | None:
    """The member row."""
    return session.get(Member, member_id)
