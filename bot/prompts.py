"""Prompt templates and reply texts: catalogues of named templates in prompts/<area>.toml, with strict variables."""

from __future__ import annotations

import string
import tomllib
from functools import lru_cache
from pathlib import Path

PROMPTS_DIR = Path(__file__).resolve().parent.parent / "prompts"


class MissingVariable(KeyError):
    """A template was rendered without one of its variables."""


@lru_cache(maxsize=16)
def load_catalogue(area: str) -> dict[str, str]:
    """All templates of prompts/<area>.toml as {name: text} (issue 10: one catalogue per area).

    Raises FileNotFoundError for an unknown area and tomllib.TOMLDecodeError for a malformed catalogue."""
    with (PROMPTS_DIR / f"{area}.toml").open("rb") as fh:
        data = tomllib.load(fh)
    return {key: str(text).rstrip("\n") for key, text in data.items()}


def load_template(name: str) -> str:
    """The raw text of template `name`: "<area>/<key>" is key in prompts/<area>.toml; a name without "/" is one of
    the language-model prompts in prompts/llm.toml. A ".txt" or ".html" suffix is ignored. Raises KeyError when the
    catalogue has no such template."""
    stem = name.removesuffix(".txt").removesuffix(".html")
    area, _, key = stem.partition("/")
    if not key:
        area, key = "llm", stem
    catalogue = load_catalogue(area)
    if key not in catalogue:
        raise KeyError(f"prompts/{area}.toml has no template {key!r}")
    return catalogue[key]


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
