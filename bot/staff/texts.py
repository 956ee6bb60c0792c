"""Staff-facing texts from prompts/staff/*.txt; variables are HTML-escaped unless their name ends in _html."""

from __future__ import annotations

import html

from bot.prompts import render


def t(template: str, /, **variables: object) -> str:
    """Render prompts/staff/<name>.txt (the result is safe HTML for Telegram and the web pages)."""
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=True)) for k, v in variables.items()
    }
    return render(f"staff/{template}", **safe)
