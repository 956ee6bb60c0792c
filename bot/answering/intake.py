"""What kind of input a message is before it is searched: a question, a greeting, or no question at all.

Markup (「<b>test</b> & <script>」), emoji, punctuation and other text without words is not a question: it gets a
short note, never a quote. A bare greeting or thanks gets a greeting. Everything else is searched.
"""

from __future__ import annotations

import html
import re
import unicodedata

from bot.textnorm import normalize

_HAN = re.compile(r"[\u4e00-\u9fff]")
_TAG = re.compile(r"<[^>]{0,200}>")
_THANKS = frozenset(["谢谢", "多谢", "谢谢你", "谢谢您", "感谢", "非常感谢", "thanks", "thankyou", "辛苦了"])
_GREETINGS = frozenset(
    [
        "你好",
        "您好",
        "你们好",
        "大家好",
        "hi",
        "hello",
        "hey",
        "嗨",
        "哈喽",
        "在吗",
        "在不在",
        "有人吗",
        "早",
        "早上好",
        "上午好",
        "中午好",
        "下午好",
        "晚上好",
        "好的",
        "好",
        "嗯",
        "ok",
        "再见",
        "拜拜",
    ]
)


def _plain(text: str) -> str:
    """The text with HTML entities decoded and markup tags replaced by spaces."""
    return _TAG.sub(" ", html.unescape(text))


def _words(text: str) -> str:
    """Letters, digits and Han characters of the text, markup and entities removed."""
    return "".join(ch for ch in _plain(text) if unicodedata.category(ch)[0] in "LN")


def classify(question: str) -> str:
    """ "question", "greeting" or "not_a_question".

    Not a question: nothing but markup, emoji, punctuation or a lone character, or only Latin letters (the documents
    are Chinese: 「<b>test</b> & <script>」 or a keyboard mash is not something to search).
    """
    words = _words(question)
    plain = normalize(words).lower()
    if plain in _THANKS or plain.replace(" ", "") in _THANKS:
        return "thanks"
    if plain in _GREETINGS:
        return "greeting"
    if len(words) < 2 or not _HAN.search(words):
        return "not_a_question"
    return "question"


def searchable(question: str) -> str:
    """The question as it is searched: markup tags, emoji and other pictographs removed, spaces collapsed.

    「代表任期几年？😀」 is searched as 「代表任期几年？」: a smiley must not change which passage answers.
    """
    kept = "".join(
        " " if unicodedata.category(ch) in ("So", "Sk", "Cs", "Co") or 0xFE00 <= ord(ch) <= 0xFE0F else ch
        for ch in _plain(question)
        if ch != "\u200d"
    )
    return re.sub(r"\s+", " ", kept).strip()
