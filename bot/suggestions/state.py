"""The persisted state of a chat's suggestion flow: finding it and marking a step change.

The lowest layer of the flow: views, support, flow and the campaign step (bot.campaigns.answers) all use it, and it
uses none of them.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from bot.chat.types import ChatRef
from bot.storage.models import FlowState, utcnow

# Built once: a statement built at every call costs more CPU than running it (one of them read at every message).
_THIS_CHAT = (FlowState.channel == bindparam("channel"), FlowState.chat_id == bindparam("chat"))
_LOAD = select(FlowState).where(*_THIS_CHAT)
_ACTIVITY = select(FlowState.paused, FlowState.updated_at).where(*_THIS_CHAT)


def load(session: Session, ref: ChatRef) -> FlowState | None:
    """The flow state of this chat (channel and chat id), if any."""
    return session.scalars(_LOAD, {"channel": ref.channel, "chat": ref.chat_id}).first()


def activity(session: Session, ref: ChatRef) -> tuple[bool, datetime] | None:
    """(paused, updated_at UTC) of this chat's flow, or None when it has none: a plain read, no ORM object (asked
    before every question, to tell a question from a flow's next answer)."""
    row = session.connection().execute(_ACTIVITY, {"channel": ref.channel, "chat": ref.chat_id}).first()
    return (bool(row[0]), row[1]) if row is not None else None


def touch(state: FlowState, step: str | None = None) -> None:
    """Record a change of the draft: move to `step` (unless None), mark the JSON draft changed (it is mutated in
    place), stamp updated_at and un-pause the flow."""
    if step is not None:
        state.step = step
    flag_modified(state, "draft")  # the draft JSON is mutated in place
    state.updated_at = utcnow()
    state.paused = False
