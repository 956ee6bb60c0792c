"""Supporting an existing item instead of submitting a duplicate: the offer before submit, 联名 and 附议."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.chat import script
from bot.chat.texts import own, say
from bot.chat.types import Reply
from bot.records.recorder import sync_submission
from bot.storage.models import ChatIdentity, FlowState, Member, Notification, Submission
from bot.suggestions import views
from bot.suggestions.models import Supporter
from bot.suggestions.similar import CLOSED, SimilarFinder
from bot.suggestions.state import touch
from bot.suggestions.types import action_of, catalog
from bot.suggestions.views import offer_reply

# action_of (in types) and offer_reply (the similar step's prompt, in views) stay importable from here


def offer(
    session: Session, ident: ChatIdentity, state: FlowState, finder: SimilarFinder
) -> list[Reply] | None:
    """Before the final submit: the closest existing items with support buttons, or None when there are none.

    Offered to bound members only: a guest (or a stranger) never sees other people's items."""
    if ident.member_id is None:
        return None
    stype = catalog().get(state.flow)
    values = state.draft.get("fields", {})
    matches = finder.find(session, state.flow, stype.title_of(values), values, state.draft.get("campaign_id"))
    if not matches or [m.submission_id for m in matches] == state.draft.get("similar_dismissed"):
        return None
    own = _own_ids(session, ident, [m.submission_id for m in matches])
    state.draft["similar"] = [
        {
            "id": m.submission_id,
            "receipt": m.receipt,
            "title": m.title,
            "score": m.score,
            "own": m.submission_id in own,
        }
        for m in matches
    ]
    touch(state, "similar")
    return [offer_reply(state)]


def _own_ids(session: Session, ident: ChatIdentity, ids: list[int]) -> set[int]:
    cond = Submission.identity_id == ident.id
    if ident.member_id is not None:
        cond = or_(cond, Submission.member_id == ident.member_id)
    return set(session.scalars(select(Submission.id).where(Submission.id.in_(ids), cond)))


def back_to_preview(state: FlowState) -> list[Reply]:
    """The member wants to edit: back to the preview; the same items are not offered again."""
    state.draft["similar_dismissed"] = [m["id"] for m in state.draft.get("similar", [])]
    touch(state, "preview")
    return [views.step_prompt(state)]


def support_instead(session: Session, ident: ChatIdentity, state: FlowState, arg: str) -> list[Reply]:
    """Support one of the offered items; the draft is dropped once the support is recorded."""
    offered = {m["id"]: m for m in state.draft.get("similar", [])}
    item = session.get(Submission, int(arg)) if arg.isdigit() and int(arg) in offered else None
    if item is None:
        return [Reply(say("flow_stale_button")), offer_reply(state)]
    action = action_of(item.type)
    result = add_supporter(session, ident, item)
    values = {"action": own(action), "receipt": item.receipt_no, "title": item.title}
    if result in ("own", "closed", "members_only"):
        text = (
            say(f"support_{result}", **values)
            if result != "members_only"
            else say("flow_members_only", type_name=own(catalog().get(item.type).name))
        )
        return [Reply(text), offer_reply(state)]
    session.delete(state)
    return [Reply(say(f"support_{result}", **values), meta={"receipt": item.receipt_no, "supported": True})]


def add_supporter(session: Session, ident: ChatIdentity, item: Submission, notify: bool = True) -> str:
    """Record ident as 联名/附议 of item: 'ok', 'already', 'own', 'closed' or 'members_only'."""
    if item.status in CLOSED:
        return "closed"
    if item.identity_id == ident.id or (ident.member_id is not None and item.member_id == ident.member_id):
        return "own"
    if catalog().get(item.type).members_only and ident.member_id is None:
        return "members_only"
    same = Supporter.identity_id == ident.id
    if ident.member_id is not None:
        same = or_(same, Supporter.member_id == ident.member_id)
    if session.scalar(select(Supporter.id).where(Supporter.submission_id == item.id, same)):
        return "already"
    session.add(
        Supporter(
            submission_id=item.id, identity_id=ident.id, member_id=ident.member_id, role=action_of(item.type)
        )
    )
    session.flush()
    sync_submission(session, item)  # a 联名人 earns the co-signer's points; progress reaches them too
    if notify:
        _notify_author(session, ident, item)
    return "ok"


def _notify_author(session: Session, supporter: ChatIdentity, item: Submission) -> None:
    author = session.get(ChatIdentity, item.identity_id)
    if author is None:
        return
    member = session.get(Member, supporter.member_id) if supporter.member_id else None
    trad = script.traditional_of(author)  # the author's script, not the supporter's
    name = (
        f"{member.name}{own('委员', trad)}" if member else (supporter.display_name or own("一位用户", trad))
    )
    html = say(
        "support_notice",
        trad,
        type_name=own(catalog().get(item.type).name, trad),
        receipt=item.receipt_no,
        title=item.title,
        role=own(action_of(item.type) + ("人" if item.type == "proposal" else "者"), trad),
        name=name,
    )
    session.add(
        Notification(
            identity_id=author.id,
            channel=author.channel,
            chat_id=author.chat_id,
            kind="support",
            html=html,
            submission_id=item.id,
        )
    )
