"""The suggestion types (提案, 社情民意信息, 微建议, 征集意见), loaded from prompts/suggestions/types.toml."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache

from bot.prompts import PROMPTS_DIR

CATALOG_FILE = PROMPTS_DIR / "suggestions" / "types.toml"


@dataclass(frozen=True)
class FieldSpec:
    """A typed field of a suggestion with its length bounds in characters."""

    key: str
    label: str
    min: int
    max: int
    hint: str = ""
    optional: bool = False


@dataclass(frozen=True)
class SuggestionType:
    """One kind of submission with its fields, categories and receipt prefix."""

    key: str
    name: str
    prefix: str
    members_only: bool
    category_label: str
    categories: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    reply_graded: bool = False  # the handling body's reply carries a grade A/B/C (DOMAIN.md: proposals)

    def field(self, key: str) -> FieldSpec:
        """The field with this key (KeyError if unknown)."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def title_of(self, values: dict) -> str:
        """A short title for lists: the title field, else the start of the first text."""
        if values.get("title"):
            return values["title"]
        first = next((values.get(f.key) for f in self.fields if values.get(f.key)), "")
        return first[:30] + ("…" if len(first) > 30 else "")


@dataclass(frozen=True)
class Catalog:
    """All suggestion types and the status labels."""

    types: tuple[SuggestionType, ...]
    statuses: dict[str, str]

    def get(self, key: str) -> SuggestionType:
        """The type with this key (KeyError if unknown)."""
        for t in self.types:
            if t.key == key:
                return t
        raise KeyError(key)

    def status_label(self, status: str) -> str:
        """The Chinese label of a status key."""
        return self.statuses.get(status, status)


def action_of(type_key: str) -> str:
    """联名 for a proposal (the supporter becomes a co-signer), 附议 for anything else."""
    return "联名" if type_key == "proposal" else "附议"


@lru_cache(maxsize=1)
def catalog() -> Catalog:
    """The catalog read once from the TOML file."""
    data = tomllib.loads(CATALOG_FILE.read_text(encoding="utf-8"))
    types = tuple(
        SuggestionType(
            key=t["key"],
            name=t["name"],
            prefix=t["prefix"],
            members_only=bool(t.get("members_only", False)),
            category_label=t.get("category_label", "类别"),
            categories=tuple(t["categories"]),
            fields=tuple(FieldSpec(**f) for f in t["fields"]),
            reply_graded=bool(t.get("reply_graded", False)),
        )
        for t in data["types"]
    )
    return Catalog(types=types, statuses=dict(data["statuses"]))
