"""The rule table parser: the sample file loads, malformed files give Chinese errors with line and column."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from bot.records import RuleFileError, load_rules, parse_rules, rules_path

ROOT = Path(__file__).resolve().parent.parent
HEAD = "# version: 2026.1\n# year: 2026\n# effective: 2026-01-01\n"
COLUMNS = "规则编号,活动代码,名称,分值,年度上限,条件,说明\n"


def test_sample_2026_table_loads_with_header_and_rules() -> None:
    table = load_rules(rules_path(ROOT / "rules" / "scoring", 2026))
    assert (table.year, table.version, table.effective.isoformat()) == (2026, "2026.1", "2026-01-01")
    assert "示例" in table.title
    ids = [rule.rule_id for rule in table.rules]
    assert len(ids) == len(set(ids)) >= 15
    capped = {r.rule_id: r.cap for r in table.rules if r.cap is not None}
    assert capped["WJ-01"] == Decimal(5)
    assert any(r.points < 0 for r in table.rules)


def test_english_headers_and_conditions_parse() -> None:
    text = HEAD + "rule_id,activity,name,points,cap,condition\nA,proposal,提案,1.5,,accepted & !key\n"
    rule = parse_rules(text).rules[0]
    assert rule.points == Decimal("1.5") and rule.cap is None
    assert rule.condition.matches({"accepted": True})
    assert not rule.condition.matches({"accepted": True, "key": True})
    assert not rule.condition.matches({})


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("A,proposal,提案,abc,,,\n", "第 5 行第 4 列（分值）：「abc」不是数字"),
        ("A,proposal,提案,1,-3,,\n", "第 5 行第 5 列（年度上限）：年度上限应为正数"),
        ("A,proposal,提案,1,,acepted,\n", "第 5 行第 6 列（条件）：未知条件「acepted」"),
        ("A,proposal,提案,1,,accepted ||,\n", "第 5 行第 6 列（条件）：看不懂条件"),
        ("A,Proposal,提案,1,,,\n", "第 5 行第 2 列（活动代码）"),
        ("A,proposal,,1,,,\n", "第 5 行第 3 列（名称）：不能为空"),
        ("A,proposal,提案,1,,,\n\nA,opinion,信息,1,,,\n", "第 7 行第 1 列（规则编号）：「A」与第 5 行重复"),
        ("A,proposal,提案,1,,,,,\n", "第 5 行：有 9 列，表头只有 7 列"),
        ("", "表头之后没有任何规则"),
    ],
)
def test_malformed_rows_are_reported_with_line_and_column(body: str, expected: str) -> None:
    with pytest.raises(RuleFileError) as info:
        parse_rules(HEAD + COLUMNS + body, source="2026.csv")
    assert expected in str(info.value)
    assert str(info.value).startswith("2026.csv")


def test_quoted_multiline_cell_keeps_physical_line_numbers() -> None:
    body = 'A,proposal,提案,1,,,"两行\n说明"\nB,opinion,信息,x,,,\n'
    with pytest.raises(RuleFileError, match="第 7 行第 4 列"):
        parse_rules(HEAD + COLUMNS + body)


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        ("# year: 2026\n# effective: 2026-01-01\n", "缺少「# version"),
        ("# version: 1\n# year: 26\n# effective: 2026-01-01\n", "四位年份"),
        ("# version: 1\n# year: 2026\n# effective: 2026-13-01\n", "effective 应为日期"),
        ("# version: 1\n# year: 2026\n# effective: 2025-12-01\n", "不在 2026 年内"),
    ],
)
def test_header_problems_are_reported(head: str, expected: str) -> None:
    with pytest.raises(RuleFileError, match=expected):
        parse_rules(head + COLUMNS + "A,proposal,提案,1,,,\n")


def test_unknown_or_missing_columns_are_reported() -> None:
    with pytest.raises(RuleFileError, match="第 4 行第 3 列：不认识的列名「分数」"):
        parse_rules(HEAD + "规则编号,活动代码,分数,分值\n")
    with pytest.raises(RuleFileError, match="缺少列「分值」"):
        parse_rules(HEAD + "规则编号,活动代码,名称\nA,proposal,提案\n")


def test_non_utf8_file_is_refused_in_chinese(tmp_path: Path) -> None:
    path = tmp_path / "2026.csv"
    path.write_bytes((HEAD + COLUMNS + "A,proposal,提案,1,,,\n").encode("gbk"))
    with pytest.raises(RuleFileError, match="不是 UTF-8 编码"):
        load_rules(path)


def test_utf8_bom_from_excel_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "2026.csv"
    path.write_bytes((HEAD + COLUMNS + "A,proposal,提案,1,,,\n").encode("utf-8-sig"))
    assert load_rules(path).rules[0].rule_id == "A"
