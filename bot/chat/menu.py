"""Commands outside flows: /start [code], /help and /mine."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat.texts import own, say
from bot.chat.types import Button, Reply
from bot.members.service import redeem
from bot.storage.models import ChatIdentity, FlowState, Member
from bot.suggestions import service, views
from bot.suggestions.types import catalog


def menu_buttons() -> list[list[Button]]:
    """The main menu under the welcome and help texts."""
    return [[Button(say("btn_new_suggestion"), "m:new"), Button(say("btn_mine"), "m:mine")]]


def _who(s: Session, ident: ChatIdentity) -> str:
    member = s.get(Member, ident.member_id) if ident.member_id else None
    if member is None:
        return say("who_guest")
    return say("who_member", name=member.name, sector=member.sector or say("sector_unknown"))


def start(s: Session, ident: ChatIdentity, state: FlowState | None, code: str) -> list[Reply]:
    """Welcome; with a code, bind the user to their member record."""
    replies: list[Reply] = []
    if code:
        result, member = redeem(s, ident, code)
        if result in ("ok", "already"):
            sector = member.sector or say("sector_unknown")  # the roster's own entry, as written
            replies.append(Reply(say(f"bind_{result}", name=member.name, sector=sector), menu_buttons()))
        else:
            replies.append(Reply(say(f"bind_{result}")))
            return replies
    else:
        replies.append(Reply(say("welcome", who_html=_who(s, ident)), menu_buttons()))
    if state is not None and not views.has_content(state):  # only the type menu was opened: nothing to keep
        s.delete(state)
    elif state is not None:
        rows = [[Button(say("btn_resume"), "f:r"), Button(say("btn_discard"), "f:x")]]
        replies.append(Reply(say("draft_kept", draft=views.draft_summary(state)), rows))
    return replies


def help_reply(ident: ChatIdentity) -> Reply:
    """What the assistant can do and the commands."""
    return Reply(say("help"), menu_buttons())


def mine(s: Session, ident: ChatIdentity, state: FlowState | None) -> Reply:
    """The user's latest submissions with their status, and a kept draft if any."""
    cat = catalog()
    items = service.list_for(s, ident)
    lines = [
        say(
            "mine_line",
            receipt=i.receipt_no,
            type_name=own(cat.get(i.type).name),
            title=i.title,
            status=own(cat.status_label(i.status)),
            date=i.created_at.strftime("%Y-%m-%d"),
        )
        for i in items
    ]
    rows: list[list[Button]] = []
    draft = ""
    if state is not None:
        draft = say("mine_draft", draft=views.draft_summary(state))
        rows.append([Button(say("btn_resume"), "f:r"), Button(say("btn_discard"), "f:x")])
    if not lines:
        return Reply(say("mine_empty", draft_html=draft), rows or menu_buttons())
    return Reply(say("mine", lines_html="\n".join(lines), draft_html=draft), rows)
