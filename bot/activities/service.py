"""Activities: create, edit, cancel; the office's list of types; audiences and the invitee rows.

Times are aware UTC datetimes; staff type local (Beijing) times, parsed by `parse_time`. Every refusal is an
ActivityError whose message is Chinese and meant to be shown as is.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.activities.models import Activity, ActivityInvitee, MemberCommittee
from bot.campaigns import service as campaign_service
from bot.storage.models import Member, utcnow

TYPES_FILE = Path(__file__).resolve().parent.parent.parent / "rules" / "activity_types.txt"
FIELD_NAMES = {"time": "时间", "place": "地点", "title": "名称", "description": "说明", "deadline": "回复截止",
               "approval": "请假审批", "audience": "邀请范围", "type": "类型"}  # fmt: skip
AUDIENCES = {"members": "全体委员", "sectors": "部分界别", "committees": "专门委员会", "chosen": "指定委员"}
local = campaign_service.local


class ActivityError(Exception):
    """A staff input or state problem, with a Chinese message meant to be shown as is."""


def load_types(path: Path | None = None) -> list[str]:
    """The office's activity types, one per line of the data file (# comments and blank lines ignored).

    Raises ActivityError (Chinese) when the file is missing or lists no type."""
    path = path or TYPES_FILE
    try:
        lines = Path(path).read_text(encoding="utf-8-sig").splitlines()
    except OSError as exc:
        raise ActivityError(f"读不到活动类型表 {path}：{exc.strerror or exc}") from exc
    types = list(dict.fromkeys(x.strip() for x in lines if x.strip() and not x.strip().startswith("#")))
    if not types:
        raise ActivityError(f"活动类型表 {path} 中没有任何类型")
    return types


def parse_time(text: str, *, end_of_day: bool = False) -> datetime:
    """A local date or date-time typed by staff as aware UTC; ActivityError if it cannot be read."""
    try:
        return campaign_service.parse_time(text, end_of_day=end_of_day)
    except campaign_service.CampaignError as exc:
        raise ActivityError(str(exc)) from None


@dataclass(frozen=True)
class Audience:
    """Who is invited: all members, some sectors, some special committees, or chosen members (ids)."""

    kind: str = "members"
    sectors: tuple[str, ...] = ()
    committees: tuple[str, ...] = ()
    members: tuple[int, ...] = ()

    def as_json(self) -> dict:
        """The JSON stored in activities.audience."""
        return {
            "kind": self.kind,
            "sectors": list(self.sectors),
            "committees": list(self.committees),
            "members": list(self.members),
        }

    def describe(self) -> str:
        """The audience in Chinese words."""
        extra = {
            "sectors": "、".join(self.sectors),
            "committees": "、".join(self.committees),
            "chosen": f"{len(self.members)} 位",
        }.get(self.kind)
        return (
            f"{AUDIENCES.get(self.kind, self.kind)}：{extra}"
            if extra
            else AUDIENCES.get(self.kind, self.kind)
        )


def audience_of(activity: Activity) -> Audience:
    """The stored audience (all members when unset)."""
    data = activity.audience or {}
    return Audience(
        str(data.get("kind") or "members"),
        tuple(data.get("sectors") or ()),
        tuple(data.get("committees") or ()),
        tuple(int(x) for x in data.get("members") or ()),
    )


def split_names(text: str) -> list[str]:
    """Names typed with 、，, or spaces between them."""
    for sep in ("，", ",", " ", "\n"):
        text = text.replace(sep, "、")
    return [x.strip() for x in text.split("、") if x.strip()]


def make_audience(session: Session, kind: str, names: list[str] | tuple[str, ...] = ()) -> Audience:
    """Check an audience typed by staff: sectors and committees must exist, chosen members are found by id,
    phone or exact name. Raises ActivityError naming what is unknown."""
    kind = (kind or "members").strip().lower()
    if kind not in AUDIENCES:
        raise ActivityError(f"未知的邀请范围「{kind}」，可选：members、sectors、committees、chosen")
    names = tuple(dict.fromkeys(n.strip() for n in names if n.strip()))
    if kind == "members":
        return Audience()
    if not names:
        raise ActivityError(f"按「{AUDIENCES[kind]}」邀请时请至少填写一项")
    if kind == "sectors":
        known = campaign_service.known_sectors(session)
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ActivityError(
                f"未知的界别「{'、'.join(unknown)}」。名单中的界别：{'、'.join(sorted(known)) or '无'}"
            )
        return Audience(kind, sectors=names)
    if kind == "committees":
        known = set(session.scalars(select(MemberCommittee.committee)))
        unknown = [n for n in names if n not in known]
        if unknown:
            raise ActivityError(
                f"未知的专门委员会「{'、'.join(unknown)}」。已登记的：{'、'.join(sorted(known)) or '无'}"
                "（用 lvzhi activities committee 登记委员所在的专门委员会）"
            )
        return Audience(kind, committees=names)
    from bot.records.scores import RecordsError, find_member

    ids = []
    for name in names:
        try:
            ids.append(find_member(session, name).id)
        except RecordsError as exc:
            raise ActivityError(str(exc)) from None
    return Audience(kind, members=tuple(dict.fromkeys(ids)))


def invited_ids(session: Session, activity: Activity) -> set[int]:
    """Ids of the active members the audience covers now."""
    audience = audience_of(activity)
    stmt = select(Member.id).where(Member.active.is_(True))
    if audience.kind == "sectors":
        stmt = stmt.where(Member.sector.in_(audience.sectors))
    elif audience.kind == "committees":
        stmt = stmt.join(MemberCommittee, MemberCommittee.member_id == Member.id).where(
            MemberCommittee.committee.in_(audience.committees)
        )
    elif audience.kind == "chosen":
        stmt = stmt.where(Member.id.in_(audience.members))
    return set(session.scalars(stmt))


def sync_invitees(session: Session, activity: Activity) -> tuple[list[int], list[int]]:
    """Bring the invitee rows in line with the audience; (member ids added, member ids removed).

    A member no longer covered keeps their row, marked removed (their answer stays on record)."""
    wanted = invited_ids(session, activity)
    rows = {
        r.member_id: r
        for r in session.scalars(select(ActivityInvitee).where(ActivityInvitee.activity_id == activity.id))
    }
    added, removed = [], []
    for member_id in sorted(wanted):
        row = rows.get(member_id)
        if row is None:
            session.add(ActivityInvitee(activity_id=activity.id, member_id=member_id))
            added.append(member_id)
        elif row.removed:
            row.removed = False
            added.append(member_id)
    for member_id, row in rows.items():
        if member_id not in wanted and not row.removed:
            row.removed = True
            removed.append(member_id)
    session.flush()
    return added, removed


def _check(
    title: str, type_: str, starts: datetime, ends: datetime, deadline: datetime, types: list[str]
) -> str:
    title = (title or "").strip()
    if not title:
        raise ActivityError("活动名称不能为空")
    if len(title) > 200:
        raise ActivityError(f"活动名称最多 200 字，现在是 {len(title)} 字")
    if type_ not in types:
        raise ActivityError(f"未知的活动类型「{type_}」，可选：{'、'.join(types)}")
    if ends <= starts:
        raise ActivityError(f"结束时间（{local(ends)}）必须晚于开始时间（{local(starts)}）")
    if deadline > starts:
        raise ActivityError(f"回复截止时间（{local(deadline)}）不能晚于活动开始时间（{local(starts)}）")
    return title


def create(
    session: Session,
    *,
    type: str,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    audience: Audience,
    rsvp_deadline: datetime | None = None,
    leave_needs_approval: bool = True,
    description: str = "",
    attachments: list[dict] | None = None,
    created_by: str = "",
    types: list[str] | None = None,
) -> Activity:
    """Create an activity and its invitee rows (no message is sent here: notices.send_notices does that).

    rsvp_deadline defaults to the start. Raises ActivityError for a bad title, type, time order or place."""
    deadline = rsvp_deadline or starts_at
    title = _check(title, type, starts_at, ends_at, deadline, types or load_types())
    if not (place or "").strip():
        raise ActivityError("活动地点不能为空")
    activity = Activity(
        type=type, title=title, starts_at=starts_at, ends_at=ends_at, place=place.strip()[:200],
        description=(description or "").strip(), attachments=list(attachments or []),
        audience=audience.as_json(), rsvp_deadline=deadline, leave_needs_approval=leave_needs_approval,
        status="scheduled", checkin_code=secrets.token_urlsafe(9), version=1, created_by=created_by,
    )  # fmt: skip
    session.add(activity)
    session.flush()
    sync_invitees(session, activity)
    return activity


def get(session: Session, activity_id: int | str) -> Activity:
    """The activity with this id, or an ActivityError in Chinese."""
    try:
        key = int(str(activity_id).strip().lstrip("#"))
    except ValueError:
        raise ActivityError(f"活动编号应为数字，而不是「{activity_id}」") from None
    activity = session.get(Activity, key)
    if activity is None:
        raise ActivityError(f"没有编号为 {key} 的活动，可用 lvzhi activities list 查看")
    return activity


@dataclass(frozen=True)
class Change:
    """What an edit changed: the old time and place when they moved (for the members' notice)."""

    fields: tuple[str, ...]
    old_when: str = ""
    old_place: str = ""

    @property
    def moved(self) -> bool:
        """The time or the place changed: invitees must be told."""
        return "time" in self.fields or "place" in self.fields

    def describe(self) -> str:
        """The changed fields in Chinese words, e.g. 时间、地点."""
        return "、".join(FIELD_NAMES.get(f, f) for f in self.fields)


def when(activity: Activity) -> str:
    """The activity's time span in local words, e.g. 2026-05-01 09:00–11:30."""
    start, end = local(activity.starts_at), local(activity.ends_at)
    return f"{start}–{end[11:]}" if start[:10] == end[:10] else f"{start} 至 {end}"


def edit(
    session: Session,
    activity_id: int | str,
    *,
    type: str | None = None,
    title: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    place: str | None = None,
    description: str | None = None,
    rsvp_deadline: datetime | None = None,
    leave_needs_approval: bool | None = None,
    audience: Audience | None = None,
    types: list[str] | None = None,
) -> tuple[Activity, Change]:
    """Change an activity; a change of time or place raises its version (one notice per version).

    Raises ActivityError for a cancelled activity or values that do not fit together."""
    activity = get(session, activity_id)
    if activity.status == "cancelled":
        raise ActivityError(f"活动「{activity.title}」已取消，不能再修改")
    old_when, old_place = when(activity), activity.place
    new_start = starts_at or activity.starts_at
    new_end = ends_at or (
        activity.ends_at + (new_start - activity.starts_at) if starts_at else activity.ends_at
    )
    new_deadline = rsvp_deadline or min(activity.rsvp_deadline, new_start)
    new_type = type or activity.type
    new_title = _check(
        title if title is not None else activity.title, new_type, new_start, new_end, new_deadline,
        types or [activity.type],
    )  # fmt: skip
    fields = []
    if new_type != activity.type:
        fields.append("type")
        activity.type = new_type
    if (new_start, new_end) != (activity.starts_at, activity.ends_at):
        fields.append("time")
    if place is not None and place.strip() and place.strip() != activity.place:
        fields.append("place")
        activity.place = place.strip()[:200]
    if new_title != activity.title:
        fields.append("title")
    if description is not None and description.strip() != activity.description:
        fields.append("description")
        activity.description = description.strip()
    if new_deadline != activity.rsvp_deadline:
        fields.append("deadline")
    if leave_needs_approval is not None and leave_needs_approval != activity.leave_needs_approval:
        fields.append("approval")
        activity.leave_needs_approval = leave_needs_approval
    activity.title, activity.starts_at, activity.ends_at = new_title, new_start, new_end
    activity.rsvp_deadline = new_deadline
    if audience is not None and audience.as_json() != (activity.audience or {}):
        fields.append("audience")
        activity.audience = audience.as_json()
    change = Change(tuple(fields), old_when, old_place)
    if change.moved:
        activity.version += 1
    activity.updated_at = utcnow()
    session.flush()
    if "audience" in fields:
        sync_invitees(session, activity)
    return activity, change


def cancel(session: Session, activity_id: int | str) -> Activity:
    """Cancel an activity (invitees are told by notices.send_cancel); ActivityError if already cancelled."""
    activity = get(session, activity_id)
    if activity.status == "cancelled":
        raise ActivityError(f"活动「{activity.title}」已经取消")
    activity.status = "cancelled"
    activity.updated_at = utcnow()
    session.flush()
    return activity


def invitees(session: Session, activity: Activity) -> list[tuple[ActivityInvitee, Member]]:
    """The current invitees (not removed) with their member rows, by member id."""
    stmt = (
        select(ActivityInvitee, Member)
        .join(Member, Member.id == ActivityInvitee.member_id)
        .where(ActivityInvitee.activity_id == activity.id, ActivityInvitee.removed.is_(False))
        .order_by(Member.id)
    )
    return [(inv, m) for inv, m in session.execute(stmt)]


def invitee(session: Session, activity: Activity, member_id: int) -> ActivityInvitee | None:
    """The member's invitee row of this activity (None when not invited or removed)."""
    row = session.scalar(
        select(ActivityInvitee).where(
            ActivityInvitee.activity_id == activity.id, ActivityInvitee.member_id == member_id
        )
    )
    return row if row is not None and not row.removed else None


def set_committees(session: Session, member_id: int, committees: list[str]) -> list[str]:
    """Replace the member's special committees; the list kept."""
    wanted = list(dict.fromkeys(c.strip()[:100] for c in committees if c.strip()))
    for row in session.scalars(select(MemberCommittee).where(MemberCommittee.member_id == member_id)):
        if row.committee not in wanted:
            session.delete(row)
        else:
            wanted.remove(row.committee)
    session.add_all(MemberCommittee(member_id=member_id, committee=c) for c in wanted)
    session.flush()
    return sorted(
        session.scalars(select(MemberCommittee.committee).where(MemberCommittee.member_id == member_id))
    )


def list_all(session: Session) -> list[Activity]:
    """All activities, the latest start first."""
    return list(session.scalars(select(Activity).order_by(Activity.starts_at.desc(), Activity.id.desc())))
