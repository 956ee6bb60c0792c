"""What the flow shows at each step: prompts, validation messages, preview and buttons.

Below the flow and the support offer (they import this module, never the reverse); a type with a step of its own
(bot.suggestions.kinds) brings its own prompt."""

from __future__ import annotations

from bot.chat.texts import esc, own, say
from bot.chat.types import Button, Reply
from bot.storage.models import FlowState
from bot.suggestions import kinds
from bot.suggestions.types import FieldSpec, action_of, catalog

ECHO_LIMIT = 3000


def _rows(buttons: list[Button], per_row: int = 2) -> list[list[Button]]:
    return [buttons[i : i + per_row] for i in range(0, len(buttons), per_row)]


def cancel_row() -> list[Button]:
    """The row with the cancel button shown under every step."""
    return [Button(say("btn_cancel"), "f:x")]


def attach_buttons() -> list[list[Button]]:
    """Buttons of the attachment step."""
    return [[Button(say("btn_files_done"), "f:d")], cancel_row()]


def choose_type_reply() -> Reply:
    """The question 'what do you want to submit?' with one button per type."""
    return Reply(say("flow_choose_type"), [[Button(own(t.name), f"f:t:{t.key}")] for t in catalog().types])


def offer_reply(state: FlowState) -> Reply:
    """The list of similar items with one support button per item (not for one's own), submit anyway and back."""
    stype = catalog().get(state.flow)
    action = own(action_of(state.flow))
    shown = state.draft.get("similar", [])
    lines = [
        say(
            "similar_line",
            receipt=m["receipt"],
            title=m["title"],
            percent=round(m["score"] * 100),
            own_html=say("similar_own") if m["own"] else "",
        )
        for m in shown
    ]
    text = say(
        "similar_offer",
        count=len(shown),
        type_name=own(stype.name),
        lines_html="\n".join(lines),
        action=action,
    )
    rows = [
        [Button(say("btn_support", action=action, receipt=m["receipt"]), f"f:j:{m['id']}")]
        for m in shown
        if not m["own"]
    ]
    rows.append([Button(say("btn_submit_anyway"), "f:s"), Button(say("btn_back_to_preview"), "f:b")])
    rows.append([Button(say("btn_cancel"), "f:x")])
    return Reply(text, rows)


def bounds(spec: FieldSpec) -> str:
    """The length rule of a field in words, e.g. 5–60 字 or 选填，最多 200 字."""
    if spec.optional:
        return say("bounds_optional", max=spec.max)
    return say("bounds_required", min=spec.min, max=spec.max)


def validate(spec: FieldSpec, value: str) -> str:
    """A Chinese error message (HTML) if the value breaks the field's rules, else ''."""
    n = len(value)
    echo = say("echo_typed", typed=value) if value and n <= ECHO_LIMIT else ""
    if not value and not spec.optional:
        return say("field_empty", label=own(spec.label))
    if n < spec.min:
        return say("field_too_short", label=own(spec.label), min=spec.min, n=n, echo_html=echo)
    if n > spec.max:
        return say("field_too_long", label=own(spec.label), max=spec.max, n=n, echo_html=echo)
    return ""


def is_private(draft: dict) -> bool:
    """Whether the item will be kept out of other people's similar-item offers: the author's choice, else private
    when it has no title of its own (its list title would be the start of its text)."""
    return bool(draft.get("private", not draft.get("fields", {}).get("title")))


def preview(state: FlowState) -> Reply:
    """The whole draft with 'edit a field' buttons and 'submit'."""
    stype = catalog().get(state.flow)
    values = state.draft.get("fields", {})
    lines = [say("preview_line", label=own(stype.category_label), value=own(state.draft.get("category", "")))]
    if state.draft.get("campaign_title"):
        lines.insert(0, say("preview_line", label=say("campaign_label"), value=state.draft["campaign_title"]))
    for f in stype.fields:
        lines.append(say("preview_line", label=own(f.label), value=values.get(f.key) or say("preview_empty")))
    private = is_private(state.draft)
    lines.append(
        say(
            "preview_line",
            label=say("privacy_label"),
            value=say(f"privacy_{'private' if private else 'public'}"),
        )
    )
    files = len(state.draft.get("attachments", []))
    body = say("flow_preview", type_name=own(stype.name), lines_html="\n".join(lines), files=files)
    edits = [Button(say("btn_edit", label=own(stype.category_label)), "f:e:_cat")]
    edits += [Button(say("btn_edit", label=own(f.label)), f"f:e:{f.key}") for f in stype.fields]
    edits.append(Button(say("btn_add_files"), "f:e:_files"))
    if private:  # only an item with its own title may be shown: the start of a text never is
        if values.get("title"):
            edits.append(Button(say("btn_privacy_public"), "f:p:0"))
    else:
        edits.append(Button(say("btn_privacy_private"), "f:p:1"))
    rows = _rows(edits) + [[Button(say("btn_submit"), "f:s"), Button(say("btn_cancel"), "f:x")]]
    return Reply(body, rows)


def step_prompt(state: FlowState, repeat: bool = False) -> Reply:
    """The prompt for the state's current step."""
    if state.step == "type" or not state.flow:
        return choose_type_reply()
    kind = kinds.kind_of(state.flow)
    if kind is not None and state.step == kind.step:  # e.g. the campaign step (bot.campaigns.answers)
        return kind.prompt(state)
    stype = catalog().get(state.flow)
    if state.step in ("category", "edit_category"):
        buttons = [Button(own(c), f"f:c:{i}") for i, c in enumerate(stype.categories)]
        text = say("flow_choose_category", type_name=own(stype.name), label=own(stype.category_label))
        return Reply(text, _rows(buttons) + [cancel_row()])
    if state.step == "attach":
        return Reply(say("flow_attach", count=len(state.draft.get("attachments", []))), attach_buttons())
    if state.step == "preview":
        return preview(state)
    if state.step == "similar":
        return offer_reply(state)
    kind, key = state.step.split(":", 1)
    spec = stype.field(key)
    idx = [f.key for f in stype.fields].index(key) + 1
    current = state.draft.get("fields", {}).get(key)
    if kind == "edit":
        cur = say("current_value", value=current) if current else ""
        text = say(
            "flow_edit_field",
            label=own(spec.label),
            bounds=bounds(spec),
            hint=own(spec.hint),
            current_html=cur,
        )
        rows = [[Button(say("btn_skip"), "f:k")]] if spec.optional else []
        return Reply(text, rows + [cancel_row()])
    name = "flow_ask_field_again" if repeat else "flow_ask_field"
    text = say(
        name, n=idx, total=len(stype.fields), label=own(spec.label), bounds=bounds(spec), hint=own(spec.hint)
    )
    rows = [[Button(say("btn_skip"), "f:k")]] if spec.optional else []
    return Reply(text, rows + [cancel_row()])


def has_content(state: FlowState) -> bool:
    """Whether a draft holds anything the member typed or attached (a field, a file): a draft that only opened the
    type menu, or chose a type or a category, is not worth offering back."""
    draft = state.draft or {}
    return any(draft.get("fields", {}).values()) or bool(draft.get("attachments"))


def draft_summary(state: FlowState) -> str:
    """A one-line description of a kept draft, e.g. 提案（已填写 2 项）."""
    name = own(catalog().get(state.flow).name) if state.flow else say("draft_untyped")
    filled = sum(1 for v in state.draft.get("fields", {}).values() if v)
    return say("draft_summary", type_name=name, filled=filled)


__all__ = [
    "attach_buttons",
    "bounds",
    "draft_summary",
    "esc",
    "has_content",
    "preview",
    "step_prompt",
    "validate",
]
