"""Text from a request made safe for a log line: control characters are written as escapes."""

from __future__ import annotations

import unicodedata


def clean(value: object, limit: int = 200) -> str:
    """`value` as text of at most `limit` characters with every control, format or line/paragraph separator
    character (Unicode categories Cc, Cf, Zl, Zp: newline, carriage return, ESC, U+2028, bidi overrides…) replaced
    by its \\xNN / \\uNNNN escape, and backslashes doubled, so one log call stays one unforgeable line."""
    out = []
    for ch in str(value)[:limit]:
        if ch == "\\":
            out.append("\\\\")
        elif unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp"):
            code = ord(ch)
            out.append(f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)
