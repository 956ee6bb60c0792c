"""Rule conditions: a tiny, safe language of attribute tests joined by '&' (no eval)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from bot.records.vocabulary import ATTRIBUTES

_TERM_RE = re.compile(r"^(!)?\s*([a-z_]+)\s*(?:=\s*(.+))?$")
_TRUE = {"1", "true", "yes", "是", "y"}


class ConditionError(ValueError):
    """A condition that cannot be parsed; the message is in Chinese."""


@dataclass(frozen=True)
class Term:
    """One test: attribute is truthy, falsy (negated), or equals one of several values."""

    attribute: str
    negated: bool = False
    values: tuple[str, ...] = ()

    def matches(self, attributes: Mapping[str, object]) -> bool:
        """True when the activity's attributes pass this test."""
        value = attributes.get(self.attribute)
        result = str(value) in self.values if self.values else _truthy(value)
        return result != self.negated


@dataclass(frozen=True)
class Condition:
    """All terms must hold; the empty condition always holds."""

    terms: tuple[Term, ...] = ()
    text: str = ""

    def matches(self, attributes: Mapping[str, object]) -> bool:
        """True when every term holds for these attributes."""
        return all(term.matches(attributes) for term in self.terms)


def _truthy(value: object) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in _TRUE
    return bool(value)


def parse_condition(text: str) -> Condition:
    """Parse 'accepted & key', '!excused', 'comment_level=省级|全国'; raise ConditionError if malformed."""
    text = text.strip()
    if not text:
        return Condition()
    terms = []
    for raw in re.split(r"\s*(?:&|且)\s*", text):
        found = _TERM_RE.match(raw.strip())
        if not found:
            raise ConditionError(
                f"看不懂条件「{raw}」，应写成 accepted、!excused 或 comment_level=省级|全国，用 & 连接"
            )
        negated, attribute, values = found.groups()
        if attribute not in ATTRIBUTES:
            known = "、".join(f"{k}（{v}）" for k, v in ATTRIBUTES.items())
            raise ConditionError(f"未知条件「{attribute}」，可用：{known}")
        options = tuple(v.strip() for v in values.split("|")) if values else ()
        if any(not v for v in options):
            raise ConditionError(f"条件「{raw}」的取值不能为空")
        terms.append(Term(attribute=attribute, negated=bool(negated), values=options))
    return Condition(terms=tuple(terms), text=text)
