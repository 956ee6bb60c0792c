"""The scoring engine: a member's activities and a rule table → explainable score lines and a total."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from bot.records.rules import Rule, RuleTable
from bot.records.vocabulary import activity_name

ZERO = Decimal(0)


@dataclass(frozen=True)
class Activity:
    """One entry of a duty record: what, when, which item, and the facts rules test."""

    kind: str
    on: date
    reference: str = ""
    attributes: Mapping[str, object] = field(default_factory=dict)
    quantity: Decimal = Decimal(1)

    def sort_key(self) -> tuple:
        """A total order so that equal input always scores the same way."""
        attrs = tuple(sorted((k, str(v)) for k, v in self.attributes.items()))
        return (self.on, self.kind, self.reference, attrs, self.quantity)


@dataclass(frozen=True)
class ScoreLine:
    """One line of the explanation: activity, date, rule, points and a note (caps, no rule)."""

    on: date
    activity: str
    activity_name: str
    reference: str
    rule_id: str
    rule_name: str
    points: Decimal
    note: str = ""


@dataclass(frozen=True)
class ScoreReport:
    """The score of one member for the rule table's year."""

    year: int
    version: str
    lines: tuple[ScoreLine, ...]
    total: Decimal
    outside_year: int = 0


def score(activities: Iterable[Activity], table: RuleTable) -> ScoreReport:
    """Apply every matching rule to each activity in date order, honouring yearly caps per rule."""
    in_year: list[Activity] = []
    outside = 0
    for activity in activities:
        if activity.on.year == table.year:
            in_year.append(activity)
        else:
            outside += 1
    in_year.sort(key=Activity.sort_key)
    used: dict[str, Decimal] = defaultdict(Decimal)
    lines: list[ScoreLine] = []
    for activity in in_year:
        matched = [
            r for r in table.rules if r.activity == activity.kind and r.condition.matches(activity.attributes)
        ]
        if not matched:
            lines.append(_line(activity, None, ZERO, "规则表中没有适用的规则，不计分"))
            continue
        for rule in matched:
            points, note = _capped(rule, rule.points * activity.quantity, used)
            lines.append(_line(activity, rule, points, note))
    total = sum((line.points for line in lines), ZERO)
    return ScoreReport(
        year=table.year, version=table.version, lines=tuple(lines), total=total, outside_year=outside
    )


def _capped(rule: Rule, raw: Decimal, used: dict[str, Decimal]) -> tuple[Decimal, str]:
    """Points after the rule's yearly cap (on the magnitude, so deductions are capped too)."""
    note = rule.note
    if rule.cap is None:
        return raw, note
    remaining = max(rule.cap - used[rule.rule_id], ZERO)
    granted = min(abs(raw), remaining)
    used[rule.rule_id] += granted
    if granted == abs(raw):
        return raw, note
    signed = granted if raw >= 0 else -granted
    if granted == 0:
        cap_note = f"已达年度上限 {format_points(rule.cap)} 分，本项计 0 分"
    else:
        cap_note = f"受年度上限 {format_points(rule.cap)} 分限制，计 {format_points(signed)} 分（原 {format_points(raw)} 分）"
    return signed, f"{note}；{cap_note}" if note else cap_note


def _line(activity: Activity, rule: Rule | None, points: Decimal, note: str) -> ScoreLine:
    return ScoreLine(
        on=activity.on,
        activity=activity.kind,
        activity_name=activity_name(activity.kind),
        reference=activity.reference,
        rule_id=rule.rule_id if rule else "",
        rule_name=rule.name if rule else "",
        points=points,
        note=note,
    )


def format_points(value: Decimal) -> str:
    """A number without trailing zeros: 2, 0.5, -1."""
    text = format(value.normalize(), "f")
    return "0" if text in ("-0", "0") else text
