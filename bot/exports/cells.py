"""Cell values for spreadsheets: formula neutralisation and plain-text forms."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

# A cell starting with one of these may be run as a formula by Excel, WPS or LibreOffice (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """Prefix text that a spreadsheet could run as a formula with a single quote; other values pass."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
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
