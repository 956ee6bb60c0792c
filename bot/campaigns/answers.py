"""The campaign step of the suggestion flow: pick an open campaign from the database, refuse late answers.

Built on the suggestion flow (never the reverse): the flow reaches this step through `FLOW_KIND`, which the
conversation (bot.chat.assistant) registers in bot.suggestions.kinds for the "campaign" type.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from bot.campaigns import service
from bot.campaigns.models import Campaign
from bot.chat.texts import esc, own, say
from bot.chat.types import Button, ChatRef, Reply
from bot.storage.models import ChatIdentity, FlowState, Member, utcnow
from bot.suggestions import flow, views
from bot.suggestions.kinds import FlowKind
from bot.suggestions.state import touch as _touch

TYPE_KEY = "campaign"
MAX_CHOICES = 20
PRESS_HEAD = "cmp"  # invitation button data: "cmp:<id>"


def _member(session: Session, ident: ChatIdentity) -> Member | None:
    return session.get(Member, ident.member_id) if ident.member_id else None


def refusal(
    session: Session, ident: ChatIdentity, campaign: Campaign | None, now: datetime | None = None
) -> Reply | None:
    """A polite Chinese refusal if this user cannot answer the campaign now, else None."""
    now = now or utcnow()
    if campaign is None:
        return Reply(say("campaign_unknown"))
    if not service.includes(campaign, _member(session, ident)):
        audience = own(service.audience_of(campaign).describe())
        return Reply(say("campaign_not_audience", title=campaign.title, audience=audience))
    if campaign.status != "closed" and now < campaign.starts_at:
        return Reply(
            say("campaign_not_started", title=campaign.title, starts=service.local(campaign.starts_at))
        )
    if not service.accepting(campaign, now):
        return Reply(say("campaign_closed", title=campaign.title, ends=service.local(campaign.ends_at)))
    return None


def enter(session: Session, ident: ChatIdentity, state: FlowState) -> list[Reply]:
    """The campaign step: the open campaigns this user may answer, as buttons (the flow ends if none)."""
    campaigns = service.open_for(session, _member(session, ident))[:MAX_CHOICES]
    if not campaigns:
        session.delete(state)
        return [Reply(say("campaign_none"))]
    state.draft["choices"] = [{"id": c.id, "title": c.title} for c in campaigns]
    _touch(state, "campaign")
    return [choice_prompt(state)]


def choice_prompt(state: FlowState) -> Reply:
    """The question 'which campaign?' with one button per campaign kept in the draft."""
    rows = [[Button(c["title"][:60], f"f:a:{i}")] for i, c in enumerate(state.draft.get("choices", []))]
    return Reply(say("campaign_choose"), rows + [[Button(say("btn_cancel"), "f:x")]])


def pick(session: Session, ident: ChatIdentity, state: FlowState, arg: str) -> list[Reply]:
    """A campaign button of the campaign step."""
    choices = state.draft.get("choices", [])
    if not arg.isdigit() or int(arg) >= len(choices):
        return [choice_prompt(state)]
    return choose(session, ident, state, int(choices[int(arg)]["id"]))


def choose(session: Session, ident: ChatIdentity, state: FlowState, campaign_id: int) -> list[Reply]:
    """Bind the draft to a campaign (refused politely when closed or not for this user); go on to category."""
    campaign = session.get(Campaign, campaign_id)
    refused = refusal(session, ident, campaign)
    if refused is not None:
        session.delete(state)
        return [refused]
    state.flow = TYPE_KEY
    state.draft["campaign_id"], state.draft["campaign_title"] = campaign.id, campaign.title
    state.draft.pop("choices", None)
    _touch(state, "category")
    return [intro(campaign), views.step_prompt(state)]


def intro(campaign: Campaign) -> Reply:
    """The campaign's theme, description and deadline, shown once it is chosen."""
    description = esc(campaign.description) + "\n" if campaign.description else ""
    return Reply(
        say(
            "campaign_intro",
            title=campaign.title,
            description_html=description,
            ends=service.local(campaign.ends_at),
        )
    )


def start(
    session: Session, ident: ChatIdentity, ref: ChatRef, state: FlowState | None, campaign_id: int
) -> list[Reply]:
    """Open the answer form of one campaign (deep link /start cmp-<id> or the invitation button)."""
    if state is not None and state.flow and state.flow != TYPE_KEY:
        rows = [[Button(say("btn_resume"), "f:r"), Button(say("btn_discard"), "f:x")]]
        return [Reply(say("campaign_draft_busy", draft=views.draft_summary(state)), rows)]
    refused = refusal(session, ident, session.get(Campaign, campaign_id))
    if refused is not None:
        return [refused]
    flow.begin(session, ident, ref)  # a fresh draft at the type step; its prompt is replaced below
    return choose(session, ident, flow.load(session, ref), campaign_id)


def on_press(
    session: Session, ident: ChatIdentity, ref: ChatRef, state: FlowState | None, arg: str
) -> list[Reply]:
    """The invitation's button (data 'cmp:<id>')."""
    if not arg.isdigit():
        return [Reply(say("campaign_unknown"))]
    return start(session, ident, ref, state, int(arg))


def check_submit(session: Session, ident: ChatIdentity, state: FlowState) -> list[Reply] | None:
    """At submission: a refusal (the flow ends) if the campaign closed meanwhile; None to go on."""
    campaign_id = state.draft.get("campaign_id")
    if campaign_id is None:
        return enter(session, ident, state)
    refused = refusal(session, ident, session.get(Campaign, int(campaign_id)))
    if refused is None:
        return None
    session.delete(state)
    return [refused]


FLOW_KIND = FlowKind(
    step="campaign", enter=enter, prompt=choice_prompt, press=pick, check_submit=check_submit
)
"""The campaign type's own step, for bot.suggestions.kinds.register(TYPE_KEY, FLOW_KIND)."""
