"""Campaign lifecycle: create, list, open and close calls for opinions; audiences; links."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns.models import Campaign
from bot.storage.models import ChatIdentity, Member, utcnow

TIMEZONE = ZoneInfo("Asia/Shanghai")  # dates staff type are local (Beijing) time
AUDIENCES = {"members": "全体委员", "sectors": "部分界别委员", "public": "公开征集（链接）"}
STATUS_LABELS = {"draft": "未开始", "open": "进行中", "closed": "已结束"}
LINK_PREFIX = "cmp-"
DATE_FORMATS = (
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d",
)


class CampaignError(Exception):
    """A staff input or state problem, with a Chinese message meant to be shown as is. `field` names the create
    form's input it is about ("title", "end", "audience", "sectors"), so a page can show it there; else empty."""

    def __init__(self, message: str = "", field: str = "") -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Audience:
    """Who a campaign is for: all members, members of some sectors, or the public via a link."""

    kind: str
    sectors: tuple[str, ...] = ()

    def as_json(self) -> dict:
        """The JSON stored in campaigns.audience."""
        return {"kind": self.kind, "sectors": list(self.sectors)}

    def describe(self) -> str:
        """The audience in Chinese words."""
        if self.kind == "sectors":
            return f"{AUDIENCES['sectors']}：{'、'.join(self.sectors)}"
        return AUDIENCES.get(self.kind, self.kind)


def audience_of(campaign: Campaign) -> Audience:
    """The campaign's audience (members when unset)."""
    data = campaign.audience or {}
    return Audience(str(data.get("kind") or "members"), tuple(data.get("sectors") or ()))


def parse_time(text: str, *, end_of_day: bool = False) -> datetime:
    """A local date or date-time typed by staff as an aware UTC datetime; a date alone means 00:00 (or 24:00)."""
    value = (text or "").strip()
    for fmt in DATE_FORMATS:
        try:
            parsed = datetime.strptime(value, fmt)
        except ValueError:
            continue
        if end_of_day and "%H" not in fmt:
            parsed += timedelta(days=1)
        return parsed.replace(tzinfo=TIMEZONE).astimezone(UTC)
    raise CampaignError(f"无法识别的时间「{value}」，请写成 2026-05-01 或 2026-05-01 18:00")


def local(dt: datetime) -> str:
    """A stored time as local minutes, e.g. 2026-05-01 18:00."""
    return dt.astimezone(TIMEZONE).strftime("%Y-%m-%d %H:%M")


def known_sectors(session: Session) -> set[str]:
    """Sectors of active members in the roster."""
    return set(session.scalars(select(Member.sector).where(Member.active.is_(True), Member.sector != "")))


def create(
    session: Session,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    *,
    description: str = "",
    audience: str = "members",
    sectors: list[str] | tuple[str, ...] = (),
    created_by: str = "",
) -> Campaign:
    """Create a campaign after checking title, dates, audience and sectors."""
    title = (title or "").strip()
    if not title:
        raise CampaignError("活动主题不能为空", field="title")
    if len(title) > 200:
        raise CampaignError(f"活动主题最多 200 字，现在是 {len(title)} 字", field="title")
    if ends_at <= starts_at:
        raise CampaignError(
            f"结束时间（{local(ends_at)}）必须晚于开始时间（{local(starts_at)}）", field="end"
        )
    if audience not in AUDIENCES:
        raise CampaignError(
            f"未知的征集对象「{audience}」，可选：members（全体委员）、sectors（部分界别）、public（公开）",
            field="audience",
        )
    wanted = tuple(dict.fromkeys(s.strip() for s in sectors if s.strip()))
    if audience == "sectors":
        if not wanted:
            raise CampaignError("按界别征集时请用 --sector 指定至少一个界别", field="sectors")
        unknown = [s for s in wanted if s not in known_sectors(session)]
        if unknown:
            have = "、".join(sorted(known_sectors(session))) or "（名单中还没有界别）"
            raise CampaignError(f"未知的界别「{'、'.join(unknown)}」。名单中的界别：{have}", field="sectors")
    elif wanted:
        raise CampaignError("只有按界别征集（--audience sectors）时才能指定界别", field="sectors")
    campaign = Campaign(
        title=title,
        description=(description or "").strip(),
        audience=Audience(audience, wanted if audience == "sectors" else ()).as_json(),
        starts_at=starts_at,
        ends_at=ends_at,
        status="draft",
        created_by=created_by,
    )
    session.add(campaign)
    session.flush()
    sync_one(campaign, utcnow())
    return campaign


def get(session: Session, campaign_id: int | str) -> Campaign:
    """The campaign with this id, or a CampaignError in Chinese."""
    try:
        key = int(str(campaign_id).strip())
    except ValueError:
        raise CampaignError(f"活动编号应为数字，而不是「{campaign_id}」") from None
    campaign = session.get(Campaign, key)
    if campaign is None:
        raise CampaignError(f"没有编号为 {key} 的征集活动，可用 lvzhi campaigns list 查看")
    return campaign


def list_all(session: Session) -> list[Campaign]:
    """All campaigns, newest first."""
    return list(session.scalars(select(Campaign).order_by(Campaign.id.desc())))


def accepting(campaign: Campaign, now: datetime | None = None) -> bool:
    """Whether answers are taken now: not closed by staff, and between start and end."""
    now = now or utcnow()
    return campaign.status != "closed" and campaign.starts_at <= now < campaign.ends_at


def status_at(campaign: Campaign, now: datetime | None = None) -> str:
    """The status the campaign should have now (draft before start, open, closed after end)."""
    now = now or utcnow()
    if campaign.status == "closed" or now >= campaign.ends_at:
        return "closed"
    return "open" if now >= campaign.starts_at else "draft"


def sync_one(campaign: Campaign, now: datetime) -> bool:
    """Move one campaign to the status its dates give; True when it changed."""
    target = status_at(campaign, now)
    if target == campaign.status:
        return False
    campaign.status = target
    return True


def sync_statuses(session: Session, now: datetime | None = None) -> dict[str, list[int]]:
    """Open campaigns whose start has come and close those past their end; ids per new status."""
    now = now or utcnow()
    changed: dict[str, list[int]] = {"open": [], "closed": []}
    rows = session.scalars(select(Campaign).where(Campaign.status != "closed").order_by(Campaign.id))
    for campaign in rows:
        if sync_one(campaign, now):
            changed.setdefault(campaign.status, []).append(campaign.id)
    return changed


def open_now(session: Session, campaign_id: int | str, until: datetime | None = None) -> Campaign:
    """Open a campaign at once (its start moves to now); `until` sets a new end."""
    campaign = get(session, campaign_id)
    now = utcnow()
    ends_at = until or campaign.ends_at
    if ends_at <= now:
        raise CampaignError(f"活动已于 {local(campaign.ends_at)} 截止；重新开放请用 --until 指定新的结束时间")
    campaign.starts_at = min(campaign.starts_at, now)
    campaign.ends_at, campaign.status = ends_at, "open"
    return campaign


def close_now(session: Session, campaign_id: int | str) -> Campaign:
    """Close a campaign at once; later answers are refused."""
    campaign = get(session, campaign_id)
    now = utcnow()
    campaign.ends_at = min(campaign.ends_at, now)
    campaign.starts_at = min(campaign.starts_at, campaign.ends_at)
    campaign.status = "closed"
    return campaign


def includes(campaign: Campaign, member: Member | None) -> bool:
    """Whether a user (a bound member, or None for an unbound user) belongs to the audience."""
    audience = audience_of(campaign)
    if audience.kind == "public":
        return True
    if member is None or not member.active:
        return False
    return audience.kind == "members" or member.sector in audience.sectors


def open_for(session: Session, member: Member | None, now: datetime | None = None) -> list[Campaign]:
    """Campaigns taking answers now whose audience includes this user, oldest first."""
    now = now or utcnow()
    rows = session.scalars(
        select(Campaign)
        .where(Campaign.status != "closed", Campaign.starts_at <= now, Campaign.ends_at > now)
        .order_by(Campaign.ends_at, Campaign.id)
    )
    return [c for c in rows if includes(c, member)]


def audience_chats(session: Session, campaign: Campaign, channel: str = "telegram") -> list[tuple[str, int]]:
    """(chat_id, identity_id) of the members to invite: bound to a chat, active, not blocked, in the audience."""
    stmt = (
        select(ChatIdentity.chat_id, ChatIdentity.id)
        .join(Member, Member.id == ChatIdentity.member_id)
        .where(ChatIdentity.channel == channel, ChatIdentity.blocked.is_(False), Member.active.is_(True))
        .order_by(ChatIdentity.id)
    )
    audience = audience_of(campaign)
    if audience.kind == "sectors":
        stmt = stmt.where(Member.sector.in_(audience.sectors))
    return [(str(chat_id), ident_id) for chat_id, ident_id in session.execute(stmt)]


def start_payload(campaign_id: int) -> str:
    """The /start payload of a campaign's deep link (well under Telegram's 64 bytes)."""
    return f"{LINK_PREFIX}{campaign_id}"


def parse_payload(payload: str) -> int | None:
    """The campaign id in a /start payload, or None."""
    if payload.startswith(LINK_PREFIX) and payload[len(LINK_PREFIX) :].isdigit():
        return int(payload[len(LINK_PREFIX) :])
    return None


def links(campaign_id: int, bot_username: str | None, web_base: str | None) -> dict[str, str]:
    """The Telegram deep link and the web-chat link that open the answer form of a campaign."""
    out = {}
    if bot_username:
        out["telegram"] = f"https://t.me/{bot_username.lstrip('@')}?start={start_payload(campaign_id)}"
    if web_base:
        out["web"] = f"{web_base.rstrip('/')}/?start={start_payload(campaign_id)}"
    return out
