"""Cleaning roster cells: numbers typed into cells, full-width digits, separators and invisible characters.

Width folding is Unicode NFKC (the standard library's unicodedata); invisible characters are those of Unicode
category Cf ("format": zero-width space U+200B, U+200C/U+200D, word joiner U+2060, BOM U+FEFF, soft hyphen,
direction marks), which have no glyph and only ever reach a roster by copy and paste.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal

_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
_SPACE_BETWEEN_CJK = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_WHOLE_FLOAT = re.compile(r"^(\d+)\.0+$")


def strip_invisible(text: str) -> str:
    """The text without Unicode format characters (category Cf)."""
    return "".join(ch for ch in text if unicodedata.category(ch) != "Cf")


def cell_text(value: object) -> str:
    """The text of a cell value as the office typed it.

    None is ""; an integral float (13800000012.0, how spreadsheets store numbers) loses its ".0"; dates are ISO;
    text is returned unchanged (cleaning is up to the caller).
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def clean_name(text: str) -> str:
    """A name or sector without invisible characters and surrounding spaces (NBSP and U+3000 too).

    Spaces between two Chinese characters are removed ("王　五", padded to line up with three-character names, is
    王五); other inner spaces (foreign names) are kept. Characters are not width-folded: a name is kept as typed.
    """
    text = strip_invisible(text).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


def clean_header(text: str) -> str:
    """A header cell for matching: NFKC, no invisible characters, no spaces, no "*" markers, lower case."""
    text = strip_invisible(unicodedata.normalize("NFKC", text))
    return re.sub(r"[\s*]+", "", text).lower()


def normalize_phone(text: str) -> str:
    """The digits of a phone number as typed in a roster cell.

    Full-width digits become ASCII (NFKC); invisible characters, spaces (NBSP too), hyphens and dashes (category
    Pd, U+2212), dots and parentheses are removed; a whole-number float form ("13800000012.0") loses ".0"; a
    leading +86 / 0086 / 86 before an 11-digit mobile is dropped. Anything else is returned as it is, to be
    rejected by the caller's check.
    """
    v = strip_invisible(unicodedata.normalize("NFKC", text)).strip()
    whole = _WHOLE_FLOAT.match(v)
    if whole:
        v = whole.group(1)
    v = "".join(ch for ch in v if not (ch.isspace() or unicodedata.category(ch) == "Pd" or ch in "\u2212()"))
    if re.fullmatch(r"[\d.]+", v) and not _WHOLE_FLOAT.match(v):
        v = v.replace(".", "")  # 138.0000.0015
    for prefix in ("+86", "0086", "86"):
        if v.startswith(prefix) and len(v) == len(prefix) + 11:
            return v[len(prefix) :]
    return v


def normalize_key(text: str) -> str:
    """A member number (编号) as typed: NFKC, no invisible characters, no surrounding spaces."""
    return strip_invisible(unicodedata.normalize("NFKC", text)).strip()
