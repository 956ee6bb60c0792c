"""A campaign's invitation broadcast: audience → delivery rows → the resumable engine (broadcast.py)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.campaigns import service
from bot.campaigns.broadcast import BroadcastResult, Button, Progress, Send, broadcast
from bot.campaigns.deliveries import SqlDeliveryStore
from bot.campaigns.models import Campaign
from bot.chat.texts import esc, say
from bot.prompts import render
from bot.storage import Database
from bot.storage.models import utcnow


@dataclass(frozen=True)
class Prepared:
    """What a broadcast run will do: the message, its button and how many recipients were added."""

    campaign_id: int
    title: str
    text: str
    buttons: tuple[tuple[Button, ...], ...]
    added: int
    total: int


def invitation(campaign: Campaign) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The invitation text (Telegram HTML) and its 'answer' button (callback 'cmp:<id>', ≤ 64 bytes)."""
    description = esc(campaign.description) + "\n\n" if campaign.description else ""
    text = render(
        "campaigns/invitation",
        title=esc(campaign.title),
        description_html=description,
        starts=service.local(campaign.starts_at),
        ends=service.local(campaign.ends_at),
    )
    return text, ((Button(say("btn_campaign_join"), data=f"cmp:{campaign.id}"),),)


def prepare(db: Database, campaign_id: int | str) -> Prepared:
    """Check the campaign can be broadcast and list its audience as recipients (idempotent)."""
    with db.session() as s:
        campaign = service.get(s, campaign_id)
        service.sync_one(campaign, utcnow())
        if campaign.status == "closed":
            raise service.CampaignError(
                f"征集活动「{campaign.title}」已于 {service.local(campaign.ends_at)} 结束，不能再发送邀请"
            )
        text, buttons = invitation(campaign)
        recipients = service.audience_chats(s, campaign)
        key, title = campaign.id, campaign.title
    store = SqlDeliveryStore(db)
    added = store.add_recipients(key, recipients)
    total = sum(store.counts(key).values())
    return Prepared(key, title, text, buttons, added, total)


async def run(
    db: Database,
    send: Send,
    campaign_id: int | str,
    *,
    rate: float = 25.0,
    concurrency: int = 8,
    progress: Progress | None = None,
    progress_every_s: float = 0.5,
    resend_unknown: bool = False,
) -> tuple[Prepared, BroadcastResult]:
    """Invite the campaign's audience through `send`; safe to run again after a crash (no second copy)."""
    prepared = prepare(db, campaign_id)
    result = await broadcast(
        prepared.campaign_id,
        prepared.text,
        prepared.buttons,
        SqlDeliveryStore(db),
        send,
        rate=rate,
        concurrency=concurrency,
        progress=progress,
        progress_every_s=progress_every_s,
        resend_unknown=resend_unknown,
    )
    return prepared, result
