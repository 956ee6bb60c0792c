"""HTML of the audit page: the filter form, one row per entry in words (action, target link, changed fields)."""

from __future__ import annotations

from html import escape
from urllib.parse import quote

from bot.channels.web.staff.pages import web_page
from bot.staff import audit_labels
from bot.staff.models import AuditEntry
from bot.suggestions.service import TIMEZONE

# where a target's page is, by the kind of a "kind:value" target (a page another area owns is linked the same way)
TARGET_PAGES = {
    "submission": "/staff/item/{}",
    "item": "/staff/item/{}",
    "campaign": "/staff/campaigns/{}",
    "document": "/staff/docs/{}",
    "doc": "/staff/docs/{}",
    "activity": "/staff/activities/{}",
}


def target_html(target: str) -> str:
    """The target in words, linked to its page when it has one, and a link to all entries about it."""
    kind, value = audit_labels.split_target(target)
    text = escape(audit_labels.target_label(target))
    if kind in TARGET_PAGES:
        href = TARGET_PAGES[kind].format(
            quote(value.split(":")[0], safe="")
        )  # activity:3:member:7 → activity 3
        text = f'<a class="target" href="{escape(href, quote=True)}">{text}</a>'
    if kind:
        text += f' <a class="same" href="/staff/audit?target={quote(target, safe="")}" title="此对象的全部记录">⌕</a>'
    return text


def changes_html(entry: AuditEntry) -> str:
    """The fields that changed, 「字段：旧值 → 新值」 one per line (empty for rows that changed nothing)."""
    items = []
    for c in audit_labels.changes(entry.before, entry.after, entry.target):
        old = f"<del>{escape(c.before)}</del> → " if c.before is not None else ""
        new = f"<ins>{escape(c.after)}</ins>" if c.after is not None else "（已删除）"
        items.append(
            f'<li data-field="{escape(c.key, quote=True)}"><b>{escape(c.label)}</b>：{old}{new}</li>'
        )
    return f'<ul class="changes">{"".join(items)}</ul>' if items else ""


def row_html(entry: AuditEntry) -> str:
    """One table row of the audit page."""
    times = f"（共 {entry.repeats} 次）" if entry.repeats > 1 else ""
    return web_page(
        "audit_row", at=f"{entry.at.astimezone(TIMEZONE):%Y-%m-%d %H:%M:%S}", actor=entry.actor,
        channel=entry.channel, code=entry.action, action=audit_labels.action_label(entry.action, entry.after),
        target_html=target_html(entry.target) + escape(times), changes_html=changes_html(entry),
    )  # fmt: skip


def filters_html(query: dict[str, str], actors: list[str], field_errors: dict[str, str]) -> str:
    """The filter form (GET), filled with the current query; a bad date is marked next to its field."""
    from bot.channels.web.staff.forms import field_vars

    chosen = query.get("action", "")
    options = "".join(
        f'<option value="{escape(code, quote=True)}"{" selected" if code == chosen else ""}>'
        f"{escape(audit_labels.action_label(code))}</option>"
        for code in audit_labels.action_codes()
    )
    people = "".join(f'<option value="{escape(a, quote=True)}">' for a in actors)
    return web_page(
        "audit_filters", actor=query.get("actor", ""), actors_html=people, actions_html=options,
        target=query.get("target", ""), date_from=query.get("from", ""), date_to=query.get("to", ""),
        **field_vars(field_errors, "from", "to"),
    )  # fmt: skip
