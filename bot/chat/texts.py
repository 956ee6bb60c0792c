"""Member-facing texts from the prompts/replies.toml catalogue, rendered as Telegram-HTML with variables escaped."""

from __future__ import annotations

import html

from bot.prompts import render_for


def say(template: str, /, traditional: bool = False, **variables: object) -> str:
    """Render template <name> of prompts/replies.toml; variables are HTML-escaped unless their name ends in _html.

    With traditional=True the template's own words are in Traditional characters (a member who writes Traditional);
    the variables (a document's quote, title, section) are put in unchanged.
    """
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=False)) for k, v in variables.items()
    }
    return render_for(f"replies/{template}", traditional, **safe)


def esc(text: str) -> str:
    """Escape text for the Telegram-HTML subset."""
    return html.escape(text, quote=False)
