"""Duty records (履职档案) and scores (履职积分) from a yearly rule table kept as data."""

from bot.records.engine import Activity, ScoreLine, ScoreReport, score
from bot.records.rules import Rule, RuleFileError, RuleTable, load_rules, parse_rules, rules_path

__all__ = [
    "Activity",
    "Rule",
    "RuleFileError",
    "RuleTable",
    "ScoreLine",
    "ScoreReport",
    "load_rules",
    "parse_rules",
    "rules_path",
    "score",
]
