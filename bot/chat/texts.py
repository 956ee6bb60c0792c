"""Member-facing texts from prompts/replies/*.txt, rendered as Telegram-HTML with variables escaped."""

from __future__ import annotations

import html

from bot.prompts import render


def say(template: str, /, **variables: object) -> str:
    """Render prompts/replies/<name>.txt; variables are HTML-escaped unless their name ends in _html."""
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=False)) for k, v in variables.items()
    }
    return render(f"replies/{template}", **safe)


def esc(text: str) -> str:
    """Escape text for the Telegram-HTML subset."""
    return html.escape(text, quote=False)
