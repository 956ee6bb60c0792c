"""Cell values for spreadsheets: the CSV formula guard, plain-text forms and XLSX text cells."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # openpyxl is imported when an XLSX is first written (not at every start)
    from openpyxl.worksheet._write_only import WriteOnlyWorksheet

# A cell starting with one of these may be run as a formula by Excel, WPS or LibreOffice (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NUMBER = re.compile(r"-(?:\d+(?:\.\d+)?|\.\d+)")  # a negative number: read as a number, never run


def neutralize(value: object) -> object:
    """For CSV: prefix text that a spreadsheet could run as a formula with a single quote; other values pass
    (a plain negative number such as "-3.5" is a number to every spreadsheet, not a formula, and stays as it is;
    "+1" keeps its guard, since a spreadsheet would show the text as the number 1).

    CSV has no cell types, so Excel, WPS and LibreOffice decide from the text; XLSX cells use xlsx_cell instead.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def as_text(value: object) -> str:
    """The CSV form of a value: dates as ISO, no trailing zeros lost, None as empty."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def xlsx_cell(worksheet: WriteOnlyWorksheet, value: object) -> object:
    """What to append to a write-only worksheet for one value: text is always stored as a text cell.

    openpyxl makes a str starting with "=" a formula and "#N/A"-like strings error cells when it is assigned;
    such text becomes a WriteOnlyCell whose data_type is forced to "s" (an inline string holding exactly the
    text, no guard character: in XLSX the cell type, not the text, decides what is a formula). Other values are
    returned unchanged for openpyxl to type (numbers, dates, text not starting with "=" or "#").
    """
    if isinstance(value, str) and value[:1] in ("=", "#"):
        from openpyxl.cell import WriteOnlyCell

        cell = WriteOnlyCell(worksheet, value)
        cell.data_type = "s"
        return cell
    return value
