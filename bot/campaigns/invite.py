"""A campaign's invitation broadcast: audience → delivery rows → the resumable engine (broadcast.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.campaigns import service
from bot.campaigns.broadcast import BroadcastResult, Button, Progress, Send, broadcast
from bot.campaigns.deliveries import SqlDeliveryStore
from bot.campaigns.models import Campaign
from bot.chat import script
from bot.chat.texts import esc, say
from bot.prompts import render_for
from bot.storage import Database
from bot.storage.models import ChatIdentity, utcnow


@dataclass(frozen=True)
class Prepared:
    """What a broadcast run will do: the message, its button and how many recipients were added."""

    campaign_id: int
    title: str
    text: str
    buttons: tuple[tuple[Button, ...], ...]
    added: int
    total: int
    # the invitation in Traditional for the recipients who write Traditional (their chat ids), issue 10
    traditional: tuple[str, tuple[tuple[Button, ...], ...]] | None = None
    traditional_chats: frozenset[str] = field(default_factory=frozenset)


def invitation(campaign: Campaign, traditional: bool = False) -> tuple[str, tuple[tuple[Button, ...], ...]]:
    """The invitation text (Telegram HTML) and its 'answer' button (callback 'cmp:<id>', ≤ 64 bytes); with
    traditional=True the template's words and the button are in Traditional (the office's title and description
    stay as the office wrote them)."""
    description = esc(campaign.description) + "\n\n" if campaign.description else ""
    text = render_for(
        "campaigns/invitation",
        traditional,
        title=esc(campaign.title),
        description_html=description,
        starts=service.local(campaign.starts_at),
        ends=service.local(campaign.ends_at),
    )
    return text, ((Button(say("btn_campaign_join", traditional), data=f"cmp:{campaign.id}"),),)


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
        idents = [s.get(ChatIdentity, identity_id) for _chat, identity_id in recipients]
        trad_chats = frozenset(i.chat_id for i in idents if script.traditional_of(i))
        key, title = campaign.id, campaign.title
        trad = invitation(campaign, traditional=True)
    store = SqlDeliveryStore(db)
    added = store.add_recipients(key, recipients)
    total = sum(store.counts(key).values())
    return Prepared(key, title, text, buttons, added, total, trad, trad_chats)


def in_their_script(prepared: Prepared, send: Send) -> Send:
    """`send` that gives the recipients who write Traditional the Traditional invitation (same button data)."""
    if not prepared.traditional_chats or prepared.traditional is None:
        return send
    trad_text, trad_buttons = prepared.traditional

    async def localized(chat_id, text, buttons):
        if str(chat_id) in prepared.traditional_chats:
            return await send(chat_id, trad_text, trad_buttons)
        return await send(chat_id, text, buttons)

    return localized


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
        in_their_script(prepared, send),
        rate=rate,
        concurrency=concurrency,
        progress=progress,
        progress_every_s=progress_every_s,
        resend_unknown=resend_unknown,
    )
    return prepared, result
