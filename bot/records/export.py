"""Rows for exporting members' scores line by line (feed them to bot.exports writers)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from bot.records.engine import ScoreReport

HEADER = [
    "委员",
    "界别",
    "年度",
    "规则表版本",
    "日期",
    "活动",
    "关联事项",
    "规则编号",
    "规则名称",
    "积分",
    "说明",
]
SUMMARY_HEADER = ["委员", "界别", "年度", "规则表版本", "履职积分", "计分条目数"]


def score_line_rows(reports: Iterable[tuple[str, str, ScoreReport]]) -> Iterator[list[object]]:
    """One row per score line of each (member name, sector, report), streamed."""
    for name, sector, report in reports:
        for line in report.lines:
            yield [
                name,
                sector,
                report.year,
                report.version,
                line.on,
                line.activity_name,
                line.reference,
                line.rule_id,
                line.rule_name,
                line.points,
                line.note,
            ]


def score_summary_rows(reports: Iterable[tuple[str, str, ScoreReport]]) -> Iterator[list[object]]:
    """One row per member with the total."""
    for name, sector, report in reports:
        yield [name, sector, report.year, report.version, report.total, len(report.lines)]
