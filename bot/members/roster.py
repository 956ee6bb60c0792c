"""Reading a member roster from CSV or XLSX (columns 姓名, 界别, 手机)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path

NAME_COLS = ("姓名", "名字", "name")
SECTOR_COLS = ("界别", "sector")
KEY_COLS = ("手机", "手机号", "手机号码", "电话", "phone", "编号", "key")
MOBILE = re.compile(r"^1[3-9]\d{9}$")


class RosterError(ValueError):
    """The file cannot be read as a roster at all."""


@dataclass
class RosterRow:
    """One valid member row."""

    line: int
    name: str
    sector: str
    phone: str


def _read_rows(path: Path) -> list[list[str]]:
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True, data_only=True)
        sheet = wb.active
        rows = [
            ["" if c is None else str(c).strip() for c in row] for row in sheet.iter_rows(values_only=True)
        ]
        wb.close()
        return rows
    raw = path.read_bytes()
    for enc in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise RosterError("无法识别文件编码，请另存为 UTF-8 编码的 CSV")
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]


def _col(header: list[str], names: tuple[str, ...]) -> int | None:
    lowered = [h.strip().lower() for h in header]
    for n in names:
        if n.lower() in lowered:
            return lowered.index(n.lower())
    return None


def _cell(row: list[str], i: int | None) -> str:
    return row[i].strip() if i is not None and i < len(row) else ""


def normalize_phone(value: str) -> str:
    """Digits of a phone number without spaces, dashes or +86; other keys unchanged."""
    v = re.sub(r"[\s\-()]", "", value)
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]  # numbers read from spreadsheets as floats
    if v.startswith("+86"):
        v = v[3:]
    return v


def read_roster(path: Path) -> tuple[list[RosterRow], list[tuple[int, str]]]:
    """Valid rows and (line, Chinese error) for each bad row; raises RosterError if unreadable."""
    if not path.exists():
        raise RosterError(f"文件不存在：{path}")
    rows = _read_rows(path)
    if not rows:
        raise RosterError("文件是空的")
    header = rows[0]
    ni, si, ki = _col(header, NAME_COLS), _col(header, SECTOR_COLS), _col(header, KEY_COLS)
    if ni is None or ki is None:
        raise RosterError("表头需要包含“姓名”和“手机”（或“编号”）列，可选“界别”列")
    key_is_phone = header[ki].strip() in ("手机", "手机号", "手机号码", "电话", "phone")
    good: list[RosterRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        name, sector, raw_key = (_cell(row, i) for i in (ni, si, ki))
        key = normalize_phone(raw_key)
        if not name:
            errors.append((line, "姓名为空"))
        elif not key:
            errors.append((line, f"{name}：手机（编号）为空"))
        elif key_is_phone and not MOBILE.match(key):
            errors.append((line, f"{name}：手机号“{raw_key}”格式不正确（应为11位手机号）"))
        elif len(name) > 100 or len(sector) > 100 or len(key) > 50:
            errors.append((line, f"{name}：内容过长"))
        elif key in seen:
            errors.append((line, f"{name}：手机号与第 {seen[key]} 行重复"))
        else:
            seen[key] = line
            good.append(RosterRow(line=line, name=name, sector=sector, phone=key))
    return good, errors
