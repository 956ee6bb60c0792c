"""Form helpers that keep staff from erring (issue 11 item 6), for every staff page.

Errors next to their field: a template marks each field with `$<field>_attrs_html` inside its input tag and
`$<field>_error_html` right after it; `field_vars(errors, "reason", ...)` fills both (the first field in error gets
`autofocus`, so the browser scrolls to it and puts the cursor there, without JavaScript). Do not post the form to a
URL whose #fragment names an element of the page: browsers skip autofocus on a page that has a fragment target.

Confirmation of irreversible actions: a handler asks `confirmed(request, what)` before acting; when it is false it
checks the input as far as it can and returns `confirm_page(...)`, a page that repeats the submitted fields as hidden
inputs with a `confirm` token and a 「确认…」 button. The token is an HMAC of the session's CSRF token and `what`
(e.g. "item:TA2026-0001:accept"), so a direct POST without the confirmation step, or with a token made for another
action or another session, changes nothing. No JavaScript is needed (the pages' CSP forbids inline scripts anyway).
"""

from __future__ import annotations

import hashlib
import hmac
from html import escape

from aiohttp import web

from bot.channels.web.staff.pages import page, web_page

CONFIRM_FIELD = "confirm"


def field_vars(errors: dict[str, str], *fields: str) -> dict[str, str]:
    """Template variables `<field>_error_html` and `<field>_attrs_html` for each named field.

    `errors` maps a field name to its message (plain text, escaped here); fields without an error get empty strings.
    The error is `<span class="field-error" id="error-<field>" role="alert">`, referenced by the input's
    aria-describedby; the first field (in the order given) with an error gets `autofocus`."""
    out: dict[str, str] = {}
    focused = False
    for name in fields:
        message = errors.get(name, "")
        if not message:
            out[f"{name}_error_html"] = out[f"{name}_attrs_html"] = ""
            continue
        attrs = f' aria-invalid="true" aria-describedby="error-{escape(name, quote=True)}"'
        if not focused:
            attrs += " autofocus"
            focused = True
        out[f"{name}_attrs_html"] = attrs
        out[f"{name}_error_html"] = web_page("field_error", field=name, text=message)
    return out


def confirm_token(csrf: str, what: str) -> str:
    """The confirmation token of one action in one session: hex HMAC-SHA256 of `what` keyed by the CSRF token."""
    return hmac.new(csrf.encode(), what.encode(), hashlib.sha256).hexdigest()[:40]


def confirmed(request: web.Request, what: str) -> bool:
    """Whether this (CSRF-checked) POST carries the confirmation of `what` made for this session."""
    given = str(request.get("form", {}).get(CONFIRM_FIELD, ""))
    return hmac.compare_digest(given, confirm_token(request["csrf"], what))


def confirm_page(
    request: web.Request, *, title: str, what: str, question: str, button: str, back: str,
    fields: dict[str, str] | None = None, details_html: str = "",
) -> web.Response:  # fmt: skip
    """The confirmation step: `question` (plain text), optional details (safe HTML), a form posting `fields` again
    to the same URL with the confirm token, the `button` (e.g. 「确认立案」, id confirm-yes) and a link back to
    `back` (id confirm-no) that does nothing. `title` is plain text."""
    hidden = "".join(
        f'<input type="hidden" name="{escape(k, quote=True)}" value="{escape(str(v), quote=True)}">'
        for k, v in (fields or {}).items()
        if k not in ("csrf", CONFIRM_FIELD)
    )
    body = web_page(
        "confirm", question=question, details_html=details_html, action=request.path, csrf=request["csrf"],
        token=confirm_token(request["csrf"], what), hidden_html=hidden, button=button, back=back,
    )  # fmt: skip
    return page(request, escape(title), body)
