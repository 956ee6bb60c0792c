"""How an audit row reads to a person: the action in Chinese, the fields that changed, the kind of target.

The words are data in prompts/staff.toml: "audit/action/<code>" (optionally "audit/action/<code>/<status after>",
e.g. accept that moved a proposal to 立案), "audit/field/<key>" for a before/after field, "audit/value/<key>/<value>"
for a coded value, "audit/target/<kind>" for the kind of a "kind:value" target. A code without a label is shown as
it is (tests/test_staff_audit_ux.py checks that every code the code writes has one)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.prompts import load_catalogue

ACTION = "audit/action/"
FIELD = "audit/field/"
VALUE = "audit/value/"
TARGET = "audit/target/"
EMPTY = "（空）"


def _labels() -> dict[str, str]:
    return load_catalogue("staff")


def action_codes() -> list[str]:
    """Every action code that has a label, in catalogue order (the action filter's choices)."""
    return [k[len(ACTION) :] for k in _labels() if k.startswith(ACTION) and "/" not in k[len(ACTION) :]]


def action_label(code: str, after: dict | None = None) -> str:
    """The Chinese name of an action; a workflow move is named by the status it reached when the catalogue has
    that refinement (accept → 立案 for a proposal, 采用 for an opinion report). Unknown codes come back as is."""
    labels = _labels()
    status = (after or {}).get("status")
    if isinstance(status, str) and f"{ACTION}{code}/{status}" in labels:
        return labels[f"{ACTION}{code}/{status}"]
    return labels.get(f"{ACTION}{code}", code)


def field_label(key: str) -> str:
    """The Chinese name of a before/after field (the key itself when the catalogue has none)."""
    return _labels().get(f"{FIELD}{key}", key)


def split_target(target: str) -> tuple[str, str]:
    """("kind", "value") of a "kind:value" target; ("", target) for anything else (e.g. "POST /staff/x")."""
    kind, sep, value = target.partition(":")
    if sep and kind.isascii() and kind.isalpha() and value and " " not in kind:
        return kind, value
    return "", target


def target_label(target: str) -> str:
    """The target in words: "事项 TA2026-0001", "征集活动 #3"; a target that is not "kind:value" as it is."""
    kind, value = split_target(target)
    name = _labels().get(f"{TARGET}{kind}") if kind else None
    if name is None:
        return target
    return f"{name} #{value}" if value.isdigit() else f"{name} {value}"


def value_text(key: str, value: object, target_kind: str = "") -> str:
    """A before/after value in words: coded values through the catalogue, statuses through the suggestion or
    campaign labels, booleans as 是/否, lists joined with 、, nested objects as 「name：value」 pairs."""
    labels = _labels()
    if value is None or value == "" or value == []:
        return EMPTY
    if isinstance(value, bool):
        return labels[f"{VALUE}bool/{str(value).lower()}"]
    if isinstance(value, list):
        return "、".join(value_text(key, v, target_kind) for v in value)
    if isinstance(value, dict):
        if key == "audience" and "kind" in value:
            from bot.campaigns.service import AUDIENCES

            kind = AUDIENCES.get(str(value["kind"]), str(value["kind"]))
            sectors = "、".join(str(s) for s in value.get("sectors") or ())
            return f"{kind}：{sectors}" if sectors else kind
        return "；".join(f"{field_label(k)}：{value_text(k, v, target_kind)}" for k, v in value.items())
    text = str(value)
    if f"{VALUE}{key}/{text}" in labels:
        return labels[f"{VALUE}{key}/{text}"]
    if key == "status":
        if target_kind == "campaign":
            from bot.campaigns.service import STATUS_LABELS

            return STATUS_LABELS.get(text, text)
        from bot.suggestions.types import catalog

        return catalog().status_label(text)
    return text


@dataclass(frozen=True)
class Change:
    """One field of an audit row in words: its label, the value before (None for a row that created something)
    and after (None when the field was removed)."""

    key: str
    label: str
    before: str | None
    after: str | None


def changes(before: dict | None, after: dict | None, target: str = "") -> list[Change]:
    """The fields that changed between before and after, in the order they were written (after's first).

    A row without `before` (something created, or a record of what was done) lists every field of `after`;
    fields equal on both sides are left out."""
    kind = split_target(target)[0]
    before = before if isinstance(before, dict) or before is None else {"value": before}
    after = after if isinstance(after, dict) or after is None else {"value": after}
    before_d, after_d = before or {}, after or {}
    out = []
    for key in dict.fromkeys([*after_d, *before_d]):
        if before is not None and before_d.get(key) == after_d.get(key):
            continue
        old = value_text(key, before_d.get(key), kind) if before is not None and key in before_d else None
        new = value_text(key, after_d.get(key), kind) if key in after_d else None
        out.append(Change(key, field_label(key), old, new))
    return out
