"""The suggestion flow: a state machine persisted per chat (type → category → fields → files → preview → submit)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from bot.chat.texts import own, say
from bot.chat.types import ChatRef, IncomingFile, Reply
from bot.storage.models import ChatIdentity, FlowState
from bot.suggestions import kinds, service, support, views
from bot.suggestions.state import load  # flow.load stays importable: the state lives below the flow
from bot.suggestions.state import touch as _touch
from bot.suggestions.types import catalog
from bot.suggestions.views import choose_type_reply

MAX_FILES = 10


def begin(
    session: Session,
    ident: ChatIdentity,
    ref: ChatRef,
    type_key: str | None = None,
    prefill: dict | None = None,
) -> list[Reply]:
    """Start a new flow (replacing any old draft), at type choice or directly with a type."""
    state = load(session, ref)
    if state is None:
        state = FlowState(
            channel=ref.channel, chat_id=ref.chat_id, identity_id=ident.id, flow="", step="type"
        )
        session.add(state)
    state.flow, state.identity_id, state.draft = "", ident.id, {"fields": dict(prefill or {})}
    _touch(state, "type")
    if type_key is None:
        return [choose_type_reply()]
    return choose_type(session, ident, state, type_key)


def choose_type(session: Session, ident: ChatIdentity, state: FlowState, type_key: str) -> list[Reply]:
    """Set the suggestion type (members only for 提案 and 社情民意信息) and ask for the category."""
    try:
        stype = catalog().get(type_key)
    except KeyError:
        return [choose_type_reply()]
    if stype.members_only and ident.member_id is None:
        return [Reply(say("flow_members_only", type_name=own(stype.name))), choose_type_reply()]
    state.flow = type_key
    kind = kinds.kind_of(type_key)
    if kind is not None:  # e.g. the campaign is chosen first, among the open ones (bot.campaigns.answers)
        return kind.enter(session, ident, state)
    _touch(state, "category")
    return [views.step_prompt(state)]


def next_step(state: FlowState) -> str:
    """The first step still to do: a field not yet answered, the files, else the preview."""
    stype = catalog().get(state.flow)
    for f in stype.fields:
        if f.key not in state.draft.get("fields", {}):
            return f"field:{f.key}"
    return "preview" if state.draft.get("files_done") else "attach"


def on_text(state: FlowState, text: str) -> list[Reply]:
    """Typed text at a field step: validate it, keep it, move on (errors keep the draft)."""
    step = state.step
    if not (step.startswith("field:") or step.startswith("edit:")):
        return [Reply(say("flow_use_buttons")), views.step_prompt(state)]
    key = step.split(":", 1)[1]
    spec = catalog().get(state.flow).field(key)
    value = text.strip()
    error = views.validate(spec, value)
    if error:
        state.draft.setdefault("rejected", {})[key] = value
        _touch(state)
        return [Reply(error), views.step_prompt(state, repeat=True)]
    state.draft.setdefault("fields", {})[key] = value
    state.draft.get("rejected", {}).pop(key, None)
    _touch(state, "preview" if step.startswith("edit:") else next_step(state))
    return [views.step_prompt(state)]


def on_file(state: FlowState, file: IncomingFile) -> list[Reply]:
    """A photo or document: kept in the draft at any step (up to MAX_FILES)."""
    files = state.draft.setdefault("attachments", [])
    if len(files) >= MAX_FILES:
        return [Reply(say("flow_too_many_files", max=MAX_FILES)), views.step_prompt(state)]
    if any(f["file_id"] == file.file_id for f in files):
        return [views.step_prompt(state)]
    files.append(
        {
            "kind": file.kind,
            "file_id": file.file_id,
            "file_name": file.file_name,
            "local_path": file.local_path,
        }
    )
    _touch(state)
    if state.step == "attach":
        return [Reply(say("flow_file_received", count=len(files)), views.attach_buttons())]
    return [Reply(say("flow_file_kept", count=len(files))), views.step_prompt(state)]


def on_press(
    session: Session, ident: ChatIdentity, state: FlowState, action: str, arg: str, similar=None
) -> list[Reply]:
    """A flow button (data 'f:<action>[:<arg>]'); stale buttons re-show the current step."""
    step = state.step
    kind = kinds.kind_of(state.flow) if state.flow else None
    if action == "t" and step == "type":
        return choose_type(session, ident, state, arg)
    if action == "a" and kind is not None and step == kind.step:
        return kind.press(session, ident, state, arg)
    if action == "c" and step in ("category", "edit_category") and arg.isdigit():
        cats = catalog().get(state.flow).categories
        if int(arg) < len(cats):
            state.draft["category"] = cats[int(arg)]
            _touch(state, "preview" if step == "edit_category" else next_step(state))
            return [views.step_prompt(state)]
    if action == "k" and (step.startswith("field:") or step.startswith("edit:")):
        key = step.split(":", 1)[1]
        if catalog().get(state.flow).field(key).optional:
            state.draft.setdefault("fields", {})[key] = ""
            _touch(state, "preview" if step.startswith("edit:") else next_step(state))
            return [views.step_prompt(state)]
    if action == "p" and step == "preview" and arg in ("0", "1"):  # shown to others in similar offers, or not
        state.draft["private"] = arg == "1"
        _touch(state, "preview")
        return [views.step_prompt(state)]
    if action == "d" and step == "attach":
        state.draft["files_done"] = True
        _touch(state, "preview")
        return [views.step_prompt(state)]
    if action == "e" and step == "preview":
        if arg == "_cat":
            _touch(state, "edit_category")
        elif arg == "_files":
            _touch(state, "attach")
        elif arg in {f.key for f in catalog().get(state.flow).fields}:
            _touch(state, f"edit:{arg}")
        return [views.step_prompt(state)]
    # a closed campaign refuses before similar items are offered
    if action == "s" and kind is not None:
        refused = kind.check_submit(session, ident, state)
        if refused is not None:
            return refused
    if action == "s" and step == "preview" and similar is not None:
        # the hook before the final submit: offer to support a close existing item instead of a duplicate
        offered = support.offer(session, ident, state, similar)
        if offered:
            return offered
    if action == "s" and step in ("preview", "similar"):
        return submit(session, ident, state)
    if action == "j" and step == "similar":
        return support.support_instead(session, ident, state, arg)
    if action == "b" and step == "similar":
        return support.back_to_preview(state)
    return [Reply(say("flow_stale_button")), views.step_prompt(state)]


def submit(session: Session, ident: ChatIdentity, state: FlowState) -> list[Reply]:
    """Store the draft as a submission, end the flow and give the receipt number."""
    stype = catalog().get(state.flow)
    if stype.members_only and ident.member_id is None:
        return [Reply(say("flow_members_only", type_name=own(stype.name)))]
    kind = kinds.kind_of(state.flow)
    if kind is not None:  # a late campaign answer is refused even if the closing job has not run yet
        refused = kind.check_submit(session, ident, state)
        if refused is not None:
            return refused
    item = service.submit(session, ident, state.flow, state.draft)
    item.campaign_id = state.draft.get("campaign_id")
    session.delete(state)
    return [
        Reply(
            say("flow_submitted", receipt=item.receipt_no, type_name=own(stype.name), title=item.title),
            meta={"receipt": item.receipt_no},
        )
    ]
