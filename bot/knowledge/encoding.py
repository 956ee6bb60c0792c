"""Decoding text files saved by Chinese offices: UTF-8/16 with or without BOM, GB18030/GBK, Big5."""

from __future__ import annotations

import codecs
import contextlib
from functools import lru_cache

from bot.knowledge.types import LoadError

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Strict decodes are tried in this order; a later one wins only with a clearly better plausibility.
_CANDIDATES = ("utf-8", "gb18030", "cp950")
_CJK_PUNCT = set("，。、；：？！“”‘’（）《》〈〉【】「」『』…—－·　﹏～")
_ALLOWED_CONTROLS = set("\t\n\r\f\v")


def _table(encoding: str, leads: range, trails: list[int], last: bytes | None = None) -> set[str]:
    chars = set()
    for hi in leads:
        for lo in trails:
            raw = bytes([hi, lo])
            if last is not None and raw > last:
                continue
            with contextlib.suppress(UnicodeDecodeError):
                chars.add(raw.decode(encoding))
    return chars


@lru_cache(maxsize=1)
def common_han() -> frozenset[str]:
    """The frequently used Chinese characters: GB2312 level 1 plus Big5 level 1."""
    gb = _table("gb2312", range(0xB0, 0xD8), list(range(0xA1, 0xFF)))
    big5_trails = list(range(0x40, 0x7F)) + list(range(0xA1, 0xFF))
    big5 = _table("big5", range(0xA4, 0xC7), big5_trails, last=b"\xc6\x7e")
    return frozenset(gb | big5)


def plausibility(text: str) -> float:
    """Share of visible characters that are common Han characters, ASCII or usual CJK punctuation."""
    common = common_han()
    visible = [ch for ch in text if not ch.isspace()]
    if not visible:
        return 1.0
    good = sum(1 for ch in visible if ch in common or " " <= ch <= "~" or ch in _CJK_PUNCT)
    return good / len(visible)


def control_share(text: str) -> float:
    """Share of control characters other than ordinary whitespace."""
    if not text:
        return 0.0
    bad = sum(1 for ch in text if (ch < " " or "\x7f" <= ch <= "\x9f") and ch not in _ALLOWED_CONTROLS)
    return bad / len(text)


def looks_binary(data: bytes) -> bool:
    """True for bytes that are not text: NUL bytes (without a UTF-16/32 BOM) or many control bytes."""
    sample = data[:65536]
    if any(sample.startswith(bom) for bom, _ in _BOMS):
        return False
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 0x20 and b not in (9, 10, 12, 13))
    return bool(sample) and controls / len(sample) > 0.02


def decode_text(data: bytes) -> tuple[str, str]:
    """Decode bytes of a Chinese text file; returns (text, encoding) or raises LoadError."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding).lstrip("\ufeff"), encoding
            except UnicodeDecodeError as exc:
                raise LoadError(f"文件带有 {encoding} 标记，但内容无法按该编码解码") from exc
    if looks_binary(data):
        raise LoadError("文件内容不是文本（含有二进制数据），可能扩展名有误")
    decoded: list[tuple[float, str, str]] = []
    for encoding in _CANDIDATES:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if encoding == "utf-8":
            return (
                text,
                encoding,
            )  # strict UTF-8 on Chinese bytes in another encoding practically never succeeds
        decoded.append((plausibility(text), encoding, text))
    if not decoded:
        # A few damaged bytes should not lose a whole document.
        for encoding in ("utf-8", "gb18030"):
            text = data.decode(encoding, errors="replace")
            if text.count("\ufffd") <= max(2, len(text) // 500):
                decoded.append((plausibility(text), encoding, text))
    if not decoded:
        raise LoadError("无法识别文件编码（支持 UTF-8、UTF-16、GB18030/GBK、Big5）")
    score, encoding, text = max(decoded, key=lambda d: d[0])  # max keeps the first of equal scores
    if score < 0.6 or control_share(text) > 0.01:
        raise LoadError("无法识别文件编码，解码后的内容不像正常文字")
    return text, "big5" if encoding == "cp950" else encoding
