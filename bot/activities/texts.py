"""Member-facing activity texts from prompts/activities.toml (the member's script: bot.chat.script.traditional_of)."""

from __future__ import annotations

import html

from bot.prompts import render_for


def say(template: str, /, traditional: bool = False, **variables: object) -> str:
    """Render activities/<template>; variables are HTML-escaped unless their name ends in _html.

    With traditional=True the template's own words are in Traditional (the variables are put in unchanged)."""
    safe = {
        k: (str(v) if k.endswith("_html") else html.escape(str(v), quote=False)) for k, v in variables.items()
    }
    return render_for(f"activities/{template}", traditional, **safe)
