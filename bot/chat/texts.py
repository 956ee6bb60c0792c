"""Member-facing texts from the prompts/replies.toml catalogue, rendered as Telegram-HTML with variables escaped."""

from __future__ import annotations

import html

from bot.chat import script
from bot.prompts import render_for
from bot.textnorm import to_traditional_display


def say(template: str, /, traditional: bool | None = None, **variables: object) -> str:
    """Render template <name> of prompts/replies.toml; variables are HTML-escaped unless their name ends in _html.

    With traditional=True the template's own words are in Traditional characters (a member who writes Traditional);
    None (the default) follows the member the core is talking to (bot.chat.script.current()). The variables
    (a document's quote, title, section, the member's own text) are put in unchanged. Raises MissingVariable.
    """
    trad = script.current() if traditional is None else traditional
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=False)) for k, v in variables.items()
    }
    return render_for(f"replies/{template}", trad, **safe)


def own(text: str, /, traditional: bool | None = None) -> str:
    """One of the bot's own words from another catalogue (a suggestion type, a category, a field label, a status)
    in the member's script (traditional=None: the current member's). Never for a quote or a member's text."""
    trad = script.current() if traditional is None else traditional
    return to_traditional_display(text) if trad and text else text


def esc(text: str) -> str:
    """Escape text for the Telegram-HTML subset."""
    return html.escape(text, quote=False)
