"""Suggestion types whose flow has a step of its own, owned by another area (the campaign: pick an open campaign).

The flow and its views look a type up here instead of importing the owner, so the dependency is one-way: the
owner (e.g. bot.campaigns.answers) builds on the suggestion flow, and the module that assembles the conversation
(bot.chat.assistant) registers it with `register`. A type with no registered kind has no step of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from bot.chat.types import Reply
from bot.storage.models import ChatIdentity, FlowState


@dataclass(frozen=True)
class FlowKind:
    """The hooks of a suggestion type with its own first step.

    - step: the name of that step in FlowState.step (e.g. "campaign");
    - enter(session, ident, state): the type was chosen; its replies (the step's prompt, or a refusal);
    - prompt(state): the prompt of the step, shown again (resume, stale button);
    - press(session, ident, state, arg): a button "f:a:<arg>" pressed at the step;
    - check_submit(session, ident, state): before submitting, a refusal (the flow may end) or None to go on.
    """

    step: str
    enter: Callable[[Session, ChatIdentity, FlowState], list[Reply]]
    prompt: Callable[[FlowState], Reply]
    press: Callable[[Session, ChatIdentity, FlowState, str], list[Reply]]
    check_submit: Callable[[Session, ChatIdentity, FlowState], list[Reply] | None]


_KINDS: dict[str, FlowKind] = {}


def register(type_key: str, kind: FlowKind) -> None:
    """Give the suggestion type `type_key` (a key of prompts/suggestions/types.toml) its own step; registering the
    same type again replaces the hooks."""
    _KINDS[type_key] = kind


def kind_of(type_key: str) -> FlowKind | None:
    """The hooks registered for this suggestion type, or None (an ordinary type: category, fields, files)."""
    return _KINDS.get(type_key)
