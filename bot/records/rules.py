"""The scoring rule table: a versioned CSV file per year, parsed with line-and-column errors in Chinese."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from bot.records.conditions import Condition, ConditionError, parse_condition

# Canonical column → accepted header spellings (Chinese first, English alias).
COLUMNS: dict[str, tuple[str, ...]] = {
    "rule_id": ("规则编号", "rule_id"),
    "activity": ("活动代码", "activity"),
    "name": ("名称", "name"),
    "points": ("分值", "points"),
    "cap": ("年度上限", "cap"),
    "condition": ("条件", "condition"),
    "note": ("说明", "note"),
}
REQUIRED = ("rule_id", "activity", "name", "points")
META_REQUIRED = ("version", "year", "effective")
_CODE_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_META_RE = re.compile(r"^#\s*([a-z_]+)\s*[:：]\s*(.*?)\s*$")


class RuleFileError(ValueError):
    """A malformed rule file; the message says where (file, line, column) and what is wrong."""


@dataclass(frozen=True)
class Rule:
    """One line of the table: an activity, a condition, points and an optional yearly cap."""

    rule_id: str
    activity: str
    name: str
    points: Decimal
    cap: Decimal | None
    condition: Condition
    note: str
    line: int


@dataclass(frozen=True)
class RuleTable:
    """A year's rule table with its version header."""

    year: int
    version: str
    effective: date
    title: str
    rules: tuple[Rule, ...]
    source: str


def load_rules(path: Path | str) -> RuleTable:
    """Parse a rule file; raise RuleFileError with line and column on any mistake."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleFileError(
            f"{path.name}：文件不是 UTF-8 编码（第 {exc.start} 字节附近），请另存为 UTF-8"
        ) from exc
    return parse_rules(text, source=path.name)


def parse_rules(text: str, source: str = "规则表") -> RuleTable:
    """Parse the text of a rule file."""
    lines = text.splitlines()
    meta: dict[str, str] = {}
    header_at = None
    for number, line in enumerate(lines, start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            found = _META_RE.match(stripped)
            if found:
                meta[found.group(1)] = found.group(2)
            continue
        header_at = number
        break
    if header_at is None:
        raise RuleFileError(f"{source}：没有表头行，也没有任何规则")
    year, effective = _check_meta(meta, source)
    rows = csv.reader(lines[header_at - 1 :])
    header = [cell.strip() for cell in next(rows)]
    positions = _header_positions(header, header_at, source)
    rules: list[Rule] = []
    seen: dict[str, int] = {}
    for row in rows:
        number = header_at - 1 + rows.line_num
        if not any(cell.strip() for cell in row) or row[0].lstrip().startswith("#"):
            continue
        if len(row) > len(header):
            raise RuleFileError(
                f"{source} 第 {number} 行：有 {len(row)} 列，表头只有 {len(header)} 列（多余的逗号？）"
            )
        rule = _parse_row(row, positions, number, source)
        if rule.rule_id in seen:
            raise RuleFileError(
                f"{source} 第 {number} 行第 {positions['rule_id'] + 1} 列（规则编号）：「{rule.rule_id}」与第 {seen[rule.rule_id]} 行重复"
            )
        seen[rule.rule_id] = number
        rules.append(rule)
    if not rules:
        raise RuleFileError(f"{source}：表头之后没有任何规则")
    return RuleTable(
        year=year,
        version=meta["version"],
        effective=effective,
        title=meta.get("title", ""),
        rules=tuple(rules),
        source=source,
    )


def _check_meta(meta: dict[str, str], source: str) -> tuple[int, date]:
    for key in META_REQUIRED:
        if not meta.get(key):
            raise RuleFileError(f"{source}：文件头缺少「# {key}: …」一行（需要 version、year、effective）")
    if not meta["year"].isdigit() or len(meta["year"]) != 4:
        raise RuleFileError(f"{source}：文件头 year 应为四位年份，实际为「{meta['year']}」")
    try:
        effective = date.fromisoformat(meta["effective"])
    except ValueError as exc:
        raise RuleFileError(
            f"{source}：文件头 effective 应为日期，如 2026-01-01，实际为「{meta['effective']}」"
        ) from exc
    if effective.year != int(meta["year"]):
        raise RuleFileError(f"{source}：生效日期 {effective} 不在 {meta['year']} 年内")
    return int(meta["year"]), effective


def _header_positions(header: list[str], number: int, source: str) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, cell in enumerate(header):
        key = next((k for k, names in COLUMNS.items() if cell.lower() in names), None)
        if key is None:
            raise RuleFileError(
                f"{source} 第 {number} 行第 {index + 1} 列：不认识的列名「{cell}」，可用：{'、'.join(n[0] for n in COLUMNS.values())}"
            )
        if key in positions:
            raise RuleFileError(f"{source} 第 {number} 行第 {index + 1} 列：列「{cell}」重复")
        positions[key] = index
    missing = [COLUMNS[k][0] for k in REQUIRED if k not in positions]
    if missing:
        raise RuleFileError(f"{source} 第 {number} 行（表头）：缺少列「{'」「'.join(missing)}」")
    return positions


def _parse_row(row: list[str], positions: dict[str, int], number: int, source: str) -> Rule:
    def cell(key: str) -> str:
        index = positions.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    def fail(key: str, message: str) -> RuleFileError:
        return RuleFileError(
            f"{source} 第 {number} 行第 {positions[key] + 1} 列（{COLUMNS[key][0]}）：{message}"
        )

    for key in REQUIRED:
        if not cell(key):
            raise fail(key, "不能为空")
    if not _CODE_RE.match(cell("activity")):
        raise fail("activity", f"活动代码「{cell('activity')}」只能用小写字母、数字和下划线")
    points = _number(cell("points"))
    if points is None:
        raise fail("points", f"「{cell('points')}」不是数字")
    cap = None
    if cell("cap"):
        cap = _number(cell("cap"))
        if cap is None or cap <= 0:
            raise fail("cap", f"年度上限应为正数，实际为「{cell('cap')}」")
    try:
        condition = parse_condition(cell("condition"))
    except ConditionError as exc:
        raise fail("condition", str(exc)) from exc
    return Rule(
        rule_id=cell("rule_id"),
        activity=cell("activity"),
        name=cell("name"),
        points=points,
        cap=cap,
        condition=condition,
        note=cell("note"),
        line=number,
    )


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def rules_path(directory: Path | str, year: int) -> Path:
    """Where the rule file of a year lives: <directory>/<year>.csv."""
    return Path(directory) / f"{year}.csv"
