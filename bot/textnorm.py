"""Chinese text normalisation: Traditional/Simplified conversion, full/half width, script detection."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from opencc import OpenCC


@lru_cache(maxsize=1)
def _t2s() -> OpenCC:
    return OpenCC("t2s")


@lru_cache(maxsize=1)
def _s2t() -> OpenCC:
    return OpenCC("s2t")


# Full-width ASCII forms and the ideographic space become half-width; CJK punctuation is kept.
_WIDTH = {cp: cp - 0xFEE0 for cp in range(0xFF01, 0xFF5F)}
_WIDTH[0x3000] = 0x20
# ...except the full-width punctuation that Chinese text uses as sentence structure.
for _ch in "，：；！？（）":
    _WIDTH.pop(ord(_ch), None)


@lru_cache(maxsize=1)
def _s2tw() -> OpenCC:
    return OpenCC("s2tw")


def to_traditional_display(text: str) -> str:
    """Simplified text in the Traditional characters readers use today (OpenCC s2tw: 為, 裡), for the bot's words."""
    return _s2tw().convert(text)


_WHITESPACE = re.compile(r"\s+")


def without_whitespace(text: str) -> str:
    """The text with every whitespace character (spaces, tabs, line breaks, ideographic spaces) removed."""
    return _WHITESPACE.sub("", text)


def to_half_width(text: str) -> str:
    """Turn full-width letters, digits and spaces into half-width ones."""
    return text.translate(_WIDTH)


def to_simplified(text: str) -> str:
    """Convert Traditional characters to Simplified."""
    return _t2s().convert(text)


def to_traditional(text: str) -> str:
    """Convert Simplified characters to Traditional."""
    return _s2t().convert(text)


# Passage text -> its normalised form, as stored by the lexical index at ingest (registered when an index is
# opened or extended). A pure cache: a text missing here is normalised afresh, so correctness never depends on it.
_STORED: dict[str, str] = {}
SCRIPT_CACHE = 256  # texts whose script counts are remembered (script_counts)


def remember_normalized(pairs: Iterable[tuple[str, str]]) -> None:
    """Register (text, normalize(text)) pairs computed at ingest, so that questions never convert passages again.

    Answering compares the question with up to 30 candidate passages (answer type, place, body); converting them
    with OpenCC at every question was most of the server's CPU time (issue 9 profile)."""
    _STORED.update(pairs)


@lru_cache(maxsize=16384)
def _normalize_now(text: str) -> str:
    return to_simplified(to_half_width(text))


def normalize(text: str) -> str:
    """The form every index and query uses: Simplified, half-width letters and digits.

    Passages are looked up in the forms stored at ingest; other texts (questions, titles) are converted once and
    remembered (an LRU cache of 16,384 texts)."""
    stored = _STORED.get(text)
    return stored if stored is not None else _normalize_now(text)


@lru_cache(maxsize=SCRIPT_CACHE)
def script_counts(text: str) -> tuple[int, int]:
    """(Traditional-only, Simplified-only) Han characters of a text: how many change under t2s, and under s2t.

    Remembered for the last SCRIPT_CACHE texts: one message is asked its script several times while it is
    handled (the member's script, the answer's, a follow-up check), each a pair of OpenCC conversions."""
    han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    if not han:
        return 0, 0
    changed_t2s = sum(a != b for a, b in zip(han, to_simplified(han), strict=False))
    changed_s2t = sum(a != b for a, b in zip(han, to_traditional(han), strict=False))
    return changed_t2s, changed_s2t


@lru_cache(maxsize=SCRIPT_CACHE)
def is_traditional(text: str) -> bool:
    """True when the text is written in Traditional characters (more chars change under t2s than s2t).

    Remembered for the last SCRIPT_CACHE texts, like script_counts."""
    han = "".join(ch for ch in text if "\u4e00" <= ch <= "\u9fff")
    if (
        not han or to_simplified(han) == han
    ):  # nothing Traditional: s2t (a 1 MB dictionary, ~0.1 s) is not needed
        return False
    changed_t2s, changed_s2t = script_counts(text)
    return changed_t2s >= changed_s2t


def in_script_of(text: str, question: str) -> str:
    """Render text in the script the question was written in."""
    return to_traditional(text) if is_traditional(question) else to_simplified(text)


_DROP_CATEGORIES = ("P", "Z")


def eval_normalize(text: str) -> str:
    """Normalisation used by the evaluation: t2s, then drop punctuation, separators and whitespace."""
    simplified = to_simplified(text)
    return "".join(
        ch
        for ch in simplified
        if not unicodedata.category(ch).startswith(_DROP_CATEGORIES) and not ch.isspace()
    )


_HAN_RE = re.compile(r"[\u4e00-\u9fff]")


def han_count(text: str) -> int:
    """Number of CJK ideographs in text."""
    return len(_HAN_RE.findall(text))
