"""Reading a member roster from CSV or XLSX as offices keep them (columns 姓名, 界别, 手机 or 编号).

Rosters come with a title row above the header, phones typed into number cells, full-width digits, spaces, hyphens
and invisible characters pasted from web pages. Cells are cleaned (bot.members.cleaning) before they are validated;
a row that still cannot be read is reported by its spreadsheet row number and name, and the others are imported.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path

from bot.members.cleaning import cell_text, clean_header, clean_name, normalize_key, normalize_phone

# Header synonyms seen in offices' rosters, compared after clean_header (no spaces, lower case).
NAME_COLS = ("姓名", "名字", "委员姓名", "name")
SECTOR_COLS = ("界别", "所属界别", "sector")
PHONE_COLS = (
    "手机",
    "手机号",
    "手机号码",
    "移动电话",
    "联系电话",
    "电话",
    "电话号码",
    "联系方式",
    "phone",
    "mobile",
)
ID_COLS = ("编号", "委员编号", "key")
MOBILE = re.compile(r"^1[3-9]\d{9}$")
HEADER_SEARCH_ROWS = 20  # the header row is looked for among this many rows at the top of the sheet


class RosterError(ValueError):
    """The file cannot be read as a roster at all (message in Chinese)."""


class _NoSavedValue:
    """An XLSX formula cell saved without its computed value (files written by scripts and templating tools)."""

    def __repr__(self) -> str:
        return "<formula without saved value>"


NO_SAVED_VALUE = _NoSavedValue()


@dataclass
class RosterRow:
    """One valid member row: its row number in the file, name, sector and key (mobile or 编号)."""

    line: int
    name: str
    sector: str
    phone: str


@dataclass
class _Columns:
    name: int
    sector: int | None
    key: int
    key_is_phone: bool


def _xlsx_rows(path: Path) -> list[list[object]]:
    """The cell values of the first sheet that has a roster header (else the active sheet).

    Formula cells hold their saved value; a formula without one becomes NO_SAVED_VALUE.
    """
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        values = load_workbook(path, read_only=True, data_only=True)
        formulas = load_workbook(path, read_only=True, data_only=False)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise RosterError(
            "无法读取这个 Excel 文件，请确认它是 .xlsx 格式、没有设置打开密码、也没有损坏"
        ) from exc
    try:
        names = [values.active.title] + [n for n in values.sheetnames if n != values.active.title]
        sheets = []
        for name in names:
            rows = []
            for vrow, frow in zip(values[name].iter_rows(), formulas[name].iter_rows(), strict=False):
                rows.append(
                    [
                        NO_SAVED_VALUE
                        if v.value is None and getattr(f, "data_type", None) == "f"
                        else v.value
                        for v, f in zip(vrow, frow, strict=False)
                    ]
                )
            if _find_header(rows) is not None:
                return rows
            sheets.append(rows)
        return sheets[0] if sheets else []
    finally:
        values.close()
        formulas.close()


def _decode(raw: bytes) -> str:
    """CSV text: UTF-8 (with or without BOM), UTF-16 with BOM (Excel's "Unicode 文本"), else GBK/GB18030."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise RosterError("无法识别文件编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再导入")


def _csv_rows(path: Path) -> list[list[object]]:
    text = _decode(path.read_bytes())
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    return [list(row) for row in csv.reader(io.StringIO(text), dialect)]


def _read_rows(path: Path) -> list[list[object]]:
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".xls", ".et"):
        raise RosterError("不支持旧版 Excel（.xls）文件，请在 Excel 或 WPS 中另存为 .xlsx 或 CSV 后再导入")
    return _csv_rows(path)


def _index(header: list[str], names: tuple[str, ...]) -> int | None:
    for n in names:
        if n in header:
            return header.index(n)
    return None


def _columns(row: list[object]) -> _Columns | None:
    header = [clean_header(cell_text(c)) for c in row]
    name = _index(header, NAME_COLS)
    phone = _index(header, PHONE_COLS)
    key = phone if phone is not None else _index(header, ID_COLS)
    if name is None or key is None:
        return None
    return _Columns(name, _index(header, SECTOR_COLS), key, phone is not None)


def _find_header(rows: list[list[object]]) -> tuple[int, _Columns] | None:
    """(index of the header row, its columns) among the first HEADER_SEARCH_ROWS rows, or None."""
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        cols = _columns(row)
        if cols is not None:
            return i, cols
    return None


def _get(row: list[object], i: int | None) -> object:
    return row[i] if i is not None and i < len(row) else None


def _check_row(row: list[object], cols: _Columns) -> tuple[str, str, str] | str:
    """(name, sector, key) of a good row, or the Chinese reason it is bad (prefixed with the name if any)."""
    raw_name, raw_sector, raw_key = _get(row, cols.name), _get(row, cols.sector), _get(row, cols.key)
    if raw_name is NO_SAVED_VALUE:
        return "姓名为公式且没有保存的值"
    name = clean_name(cell_text(raw_name))
    if not name:
        return "姓名为空"
    label = "手机号" if cols.key_is_phone else "编号"
    if raw_key is NO_SAVED_VALUE:
        return f"{name}：{label}为公式且没有保存的值"
    sector = "" if raw_sector is NO_SAVED_VALUE else clean_name(cell_text(raw_sector))
    text = cell_text(raw_key)
    key = normalize_phone(text) if cols.key_is_phone else normalize_key(text)
    if not key:
        return f"{name}：{label}为空"
    if cols.key_is_phone and not MOBILE.match(key):
        if re.fullmatch(r"\d(\.\d+)?E\+\d+", key, flags=re.IGNORECASE):
            return f"{name}：手机号被保存成了科学计数法（{text.strip()}），请把这一列设为“文本”并重新填写后再导入"
        return f"{name}：手机号“{text.strip()}”格式不正确（应为11位手机号）"
    if len(name) > 100 or len(sector) > 100 or len(key) > 50:
        return f"{name}：内容过长"
    return name, sector, key


def read_roster(path: Path) -> tuple[list[RosterRow], list[tuple[int, str]]]:
    """Read a roster file: (valid rows, [(row number, Chinese reason)] for each bad row).

    The header row is the first of the top HEADER_SEARCH_ROWS rows holding a name column (姓名/名字/…) and a
    key column (手机/手机号/手机号码/联系电话/电话/… or 编号/委员编号); 界别 is optional. Row numbers are those
    the spreadsheet shows (1-based). A reason starts with the member's name when there is one, e.g.
    "委员己：手机号为公式且没有保存的值". Raises RosterError (Chinese message) when the file is missing, empty,
    unreadable or has no header.
    """
    if not path.exists():
        raise RosterError(f"文件不存在：{path}")
    rows = _read_rows(path)
    if not any(cell_text(c) for row in rows for c in row):
        raise RosterError("文件是空的")
    found = _find_header(rows)
    if found is None:
        raise RosterError(
            f"在前 {HEADER_SEARCH_ROWS} 行中没有找到表头：需要“姓名”列和“手机”（或“编号”）列，可选“界别”列"
        )
    start, cols = found
    good: list[RosterRow] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[start + 1 :], start=start + 2):
        if not any(c is NO_SAVED_VALUE or cell_text(c) for c in row):
            continue
        checked = _check_row(row, cols)
        if isinstance(checked, str):
            errors.append((line, checked))
            continue
        name, sector, key = checked
        if key in seen:
            label = "手机号" if cols.key_is_phone else "编号"
            errors.append((line, f"{name}：{label}与第 {seen[key]} 行重复"))
            continue
        seen[key] = line
        good.append(RosterRow(line=line, name=name, sector=sector, phone=key))
    return good, errors
