"""After an activity: a call for opinions tied to it (a campaign, bot/campaigns), so what members say at a
专题协商会 is collected and reported like any campaign. The invitees are invited through the outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.activities import notices, service
from bot.activities.models import Activity
from bot.activities.texts import say
from bot.campaigns import service as campaigns
from bot.campaigns.models import Campaign
from bot.storage.models import utcnow


def open_call(
    session: Session, activity: Activity, ends_at: datetime, actor: str, description: str = ""
) -> tuple[Campaign, int]:
    """Open the campaign 「<title>」意见征集 from now until ends_at and invite the invitees; (campaign, queued).

    The campaign's audience is the activity's sectors when it was for sectors, otherwise all members (a campaign
    knows no committees or chosen members; only the invitees are invited). ActivityError when the activity is
    cancelled, has not started, or already has a call."""
    if activity.status == "cancelled":
        raise service.ActivityError(f"活动「{activity.title}」已取消，不能征集意见")
    if utcnow() < activity.starts_at:
        raise service.ActivityError(
            f"活动「{activity.title}」{service.local(activity.starts_at)} 开始，开始后才能征集意见"
        )
    if activity.campaign_id is not None:
        raise service.ActivityError(
            f"活动「{activity.title}」已开启意见征集（征集活动 #{activity.campaign_id}）"
        )
    audience = service.audience_of(activity)
    kind, sectors = ("sectors", list(audience.sectors)) if audience.kind == "sectors" else ("members", [])
    try:
        campaign = campaigns.create(
            session, f"{activity.title}意见征集"[:200], utcnow(), ends_at,
            description=description or f"围绕{activity.type}「{activity.title}」（{service.when(activity)}）征集意见建议。",
            audience=kind, sectors=sectors, created_by=actor,
        )  # fmt: skip
    except campaigns.CampaignError as exc:
        raise service.ActivityError(str(exc)) from None
    activity.campaign_id = campaign.id

    def make(trad: bool) -> tuple[str, list[list[dict]]]:
        text = say("opinions_invite", trad, title=activity.title, ends=service.local(ends_at))
        return text, [[{"label": say("btn_opinions", trad), "data": f"cmp:{campaign.id}"}]]

    members = [inv.member_id for inv, _ in service.invitees(session, activity)]
    queued = notices.queue_many(session, activity, members, f"opinions:{campaign.id}", make)
    return campaign, queued
