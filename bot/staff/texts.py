"""Staff-facing texts from the prompts/staff.toml catalogue; variables are HTML-escaped unless their name ends in _html."""

from __future__ import annotations

import html

from bot.prompts import render


def t(template: str, /, **variables: object) -> str:
    """Render template <name> of prompts/staff.toml (the result is safe HTML for Telegram and the web pages)."""
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=True)) for k, v in variables.items()
    }
    return render(f"staff/{template}", **safe)
