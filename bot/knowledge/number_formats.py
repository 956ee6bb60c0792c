"""Word's list number formats (ECMA-376 Part 1, §17.18.59 ST_NumberFormat) written as Word shows them.

Sources of the rules:
- decimal, decimalZero, roman, letters, ordinal and the Chinese formats follow Microsoft's own list-label
  renderer, Open-XML-PowerTools (github.com/OfficeDev/Open-Xml-PowerTools, files GetListItemText_Default.cs and
  GetListItemText_zh_CN.cs), written to reproduce the labels Word displays:
  * chineseCounting: 1–9 一…九, 10 十, 11–19 十一…十九, 20–99 二十, 二十一 …; 100–9999 digit by digit with
    ○ (U+25CB) for zero, e.g. 101 → 一○一.
  * chineseCountingThousand: 11 十一, 20 二十, 100 一百, 101 一百〇一 (〇 U+3007 for a gap of zeros), 110 一百一十,
    1010 一千〇一十. This is the form the ingest cases name (第一百〇二条).
  * ideographTraditional: 甲 乙 丙 … 癸 for 1–10.
- The enclosed and full-width digits are the Unicode characters of the same names (① U+2460, ⑴ U+2474,
  ⒈ U+2488, ㈠ U+3220, full-width digits U+FF10…).

Where neither source gives a value (a number beyond a format's range, such as ㉑ or the 13th zodiac sign, or a
format not listed here) the number is written in decimal, so a label is never lost. taiwaneseCounting and
japaneseCounting are written like chineseCounting (identical characters for 1–99, the range documents use),
taiwaneseCountingThousand like chineseCountingThousand.

Why own code: no Python library renders these formats as Word does (docx2python knows only decimal, letters and
roman numerals; cn2an writes 一百零一, where Word writes 一百〇一 or 一○一).
"""

from __future__ import annotations

_CC_DIGITS = "○一二三四五六七八九"  # chineseCounting: zero is U+25CB WHITE CIRCLE
_CCT_DIGITS = "〇一二三四五六七八九"  # chineseCountingThousand: zero is U+3007 IDEOGRAPHIC NUMBER ZERO
_HEAVENLY_STEMS = "甲乙丙丁戊己庚辛壬癸"
_EARTHLY_BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_ROMAN = (
    (1000, "M"),
    (900, "CM"),
    (500, "D"),
    (400, "CD"),
    (100, "C"),
    (90, "XC"),
    (50, "L"),
    (40, "XL"),
    (10, "X"),
    (9, "IX"),
    (5, "V"),
    (4, "IV"),
    (1, "I"),
)


def _chinese_counting(n: int) -> str:
    if not 1 <= n <= 9999:
        return str(n)
    if n < 10:
        return _CC_DIGITS[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return ("" if tens == 1 else _CC_DIGITS[tens]) + "十" + (_CC_DIGITS[ones] if ones else "")
    return "".join(_CC_DIGITS[int(d)] for d in str(n))


def _chinese_counting_thousand(n: int) -> str:
    if not 1 <= n <= 9999:
        return str(n)
    if 10 <= n <= 19:
        return "十" + (_CCT_DIGITS[n - 10] if n > 10 else "")
    out: list[str] = []
    zero_pending = False
    for power, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // power % 10
        if digit == 0:
            zero_pending = bool(out)
            continue
        if zero_pending:
            out.append(_CCT_DIGITS[0])
            zero_pending = False
        out.append(_CCT_DIGITS[digit] + unit)
    return "".join(out)


def _roman(n: int) -> str:
    if not 1 <= n <= 3999:
        return str(n)
    out: list[str] = []
    for value, letters in _ROMAN:
        count, n = divmod(n, value)
        out.append(letters * count)
    return "".join(out)


def _letter(n: int) -> str:
    """A…Z, then AA…ZZ, AAA…: the letter repeated once more for every round of 26 (cycle of 780)."""
    if n < 1:
        return str(n)
    n = (n - 1) % 780
    return chr(ord("A") + n % 26) * (n // 26 + 1)


def _ordinal(n: int) -> str:
    suffix = "th" if n % 100 in (11, 12, 13) else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _in_range(n: int, first_char: str, count: int) -> str:
    return chr(ord(first_char) + n - 1) if 1 <= n <= count else str(n)


def _full_width(n: int) -> str:
    return "".join(chr(0xFF10 + int(d)) if d.isdigit() else d for d in str(n))


_FORMATS = {
    "decimal": str,
    "decimalHalfWidth": str,
    "decimalZero": lambda n: f"0{n}" if 0 <= n <= 9 else str(n),
    "decimalFullWidth": _full_width,
    "decimalFullWidth2": _full_width,
    "decimalEnclosedCircle": lambda n: _in_range(n, "\u2460", 20),
    "decimalEnclosedCircleChinese": lambda n: _in_range(n, "\u2460", 20),
    "decimalEnclosedParen": lambda n: _in_range(n, "\u2474", 20),
    "decimalEnclosedFullstop": lambda n: _in_range(n, "\u2488", 20),
    "ideographEnclosedCircle": lambda n: _in_range(n, "\u3220", 10),
    "upperRoman": _roman,
    "lowerRoman": lambda n: _roman(n).lower(),
    "upperLetter": _letter,
    "lowerLetter": lambda n: _letter(n).lower(),
    "ordinal": _ordinal,
    "chineseCounting": _chinese_counting,
    "japaneseCounting": _chinese_counting,
    "taiwaneseCounting": _chinese_counting,
    "chineseCountingThousand": _chinese_counting_thousand,
    "taiwaneseCountingThousand": _chinese_counting_thousand,
    "ideographTraditional": lambda n: _HEAVENLY_STEMS[n - 1] if 1 <= n <= 10 else str(n),
    "ideographZodiac": lambda n: _EARTHLY_BRANCHES[n - 1] if 1 <= n <= 12 else str(n),
    "none": lambda n: "",
}


def format_number(value: int, number_format: str) -> str:
    """The list number `value` written in Word's `number_format` (a §17.18.59 name such as "chineseCounting").

    Returns "" for "none"; "bullet" and unknown formats are written in decimal (the caller decides about bullets).
    Never raises.
    """
    return _FORMATS.get(number_format, str)(value)
