"""Article numbers: 「第5条」「第５条」「第五条」「第一百〇二条」 all name the same article of a regulation.

Numerals are read with cn2an (Chinese numerals with 〇/零/两, ASCII and full-width digits). An ArticleIndex maps each
document's articles (the 第X条/條 label at the end of a chunk's section path) to their chunks, so a question that names
an article gets that article whole.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from functools import lru_cache

from bot.knowledge.types import Chunk
from bot.textnorm import normalize

_NUMERAL = r"[零〇一二三四五六七八九十百千两兩\d]+"
_REF = re.compile(rf"第\s*({_NUMERAL})\s*[条條]")
_LABEL = re.compile(rf"第({_NUMERAL})[条條]$")
_TITLE_QUOTED = re.compile(r"[《〈<]([^》〉>]{2,60})[》〉>]")
_HINT_NOISE = re.compile(r"^(请问|請問|问一下|問一下|请|我想问|我想知道|关于|關於|查一下|看看)+")
_HAN = re.compile(r"[\u4e00-\u9fff]")


@lru_cache(maxsize=4096)
def numeral_value(numeral: str) -> int | None:
    """The value of an article numeral: 「五」→5, 「１６」→16, 「一百〇二」→102; None when it is not a number."""
    text = unicodedata.normalize("NFKC", numeral).replace("兩", "两")
    if text.isdigit():
        return int(text)
    import cn2an  # its import costs ~0.1 s of CPU: paid by the first Chinese numeral, not by every start

    try:
        value = cn2an.cn2an(text, "smart")
    except (ValueError, KeyError, IndexError):  # cn2an rejects malformed numerals with these
        return None
    return int(value) if value and float(value).is_integer() else None


def article_number(section: str) -> int | None:
    """The number of the article a section path ends with (「第二章 … > 第五条」 → 5), or None."""
    last = section.rsplit(" > ", 1)[-1].strip()
    m = _LABEL.match(last)
    return numeral_value(m.group(1)) if m else None


@dataclass(frozen=True)
class ArticleRef:
    """An article a question names: its number and, when the question names a document, the words naming it."""

    number: int
    label: str  # as the member wrote it, e.g. 第5条
    title_hint: str  # 《X》's X, or the words just before 第N条 (「履职服务指南」), else ""


def find_article_ref(question: str) -> ArticleRef | None:
    """The first article a question names, or None."""
    text = question
    m = _REF.search(text)
    if not m:
        return None
    number = numeral_value(m.group(1))
    if not number:
        return None
    quoted = quoted_titles(text)
    if quoted:
        hint = quoted[0]
    else:
        before = re.split(r"[，,。？?！!；;：:\s]", text[: m.start()])[-1]
        hint = _HINT_NOISE.sub("", before).rstrip("的中里")
    return ArticleRef(number, m.group(0), hint if len(_HAN.findall(hint)) >= 2 else "")


def quoted_titles(text: str) -> list[str]:
    """The document titles a text quotes in 《》 (or 〈〉, <>), in order."""
    return _TITLE_QUOTED.findall(text)


@lru_cache(maxsize=8192)
def normalized_title(text: str) -> str:
    """normalize() of a title or a title hint, remembered: the same titles are compared at every article question."""
    return normalize(text)


@lru_cache(maxsize=8192)
def _bigrams(text: str) -> frozenset[str]:
    han = "".join(_HAN.findall(normalized_title(text)))
    return frozenset(han[i : i + 2] for i in range(len(han) - 1)) or frozenset(han)


def title_match(hint: str, title: str) -> float:
    """Share of the hint's character bigrams found in the title (0..1), script and width normalised."""
    wanted = _bigrams(hint)
    return len(wanted & _bigrams(title)) / len(wanted) if wanted else 0.0


class ArticleIndex:
    """Chunks by (document, article number), in document order; built from the lexical index's chunk store."""

    def __init__(self, chunks: dict[str, Chunk]) -> None:
        by_article: dict[tuple[str, int], list[Chunk]] = defaultdict(list)
        for chunk in chunks.values():
            number = article_number(chunk.section)
            if number is not None:
                by_article[(chunk.doc_id, number)].append(chunk)
        self._chunks = {key: sorted(found, key=lambda c: c.ordinal) for key, found in by_article.items()}
        self._docs: dict[int, list[str]] = defaultdict(list)
        for doc_id, number in sorted(self._chunks):
            self._docs[number].append(doc_id)

    def documents_with(self, number: int) -> list[str]:
        """Ids of the documents that have an article with this number."""
        return list(self._docs.get(number, []))

    def chunks(self, doc_id: str, number: int) -> list[Chunk]:
        """The chunks of one article of one document, in order ([] when it has none)."""
        return list(self._chunks.get((doc_id, number), []))
