"""Prompt templates and reply texts, kept as files in prompts/ with strict named variables."""

from __future__ import annotations

import string
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class MissingVariable(KeyError):
    """A template was rendered without one of its variables."""


@lru_cache(maxsize=256)
def load_template(name: str) -> str:
    """The raw text of prompts/<name> (".txt" is added when the name has no suffix)."""
    path = PROMPTS_DIR / (name if Path(name).suffix else f"{name}.txt")
    return path.read_text(encoding="utf-8").rstrip("\n")


def render(name: str, /, **variables: object) -> str:
    """Render prompts/<name> with $variables; a missing variable raises MissingVariable."""
    return render_for(name, False, **variables)


def render_for(name: str, /, traditional: bool, **variables: object) -> str:
    """Render prompts/<name> with the template's own words in the asker's script.

    Only the template text is converted (Simplified → Traditional when traditional is true); the variables are put in
    as given, so a document's quote, title or section path keeps its exact characters (issue 8: display text is the
    document's text). Raises MissingVariable like render.
    """
    from bot.textnorm import to_traditional_display

    raw = load_template(name)
    template = string.Template(to_traditional_display(raw) if traditional else raw)
    try:
        return template.substitute(variables)
    except KeyError as exc:
        raise MissingVariable(f"prompt {name!r} needs variable {exc.args[0]!r}") from exc
