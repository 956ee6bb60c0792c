"""Theme labels: a theme's most distinctive nouns, written exactly as they appear in one of its answers."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from functools import lru_cache

import jieba.posseg
import numpy as np

from bot.campaigns.features import label_stopwords
from bot.knowledge.analysis import _tokenizer
from bot.textnorm import normalize

# jieba part-of-speech tags that name things: nouns (n), proper nouns (nz, nt, nr …) and verbal nouns (vn, 管理 as a
# thing), abbreviations (j). Place names (ns: 青川, 城东) say where, not what, so they do not name a theme.
NOUN_TAGS = ("n", "vn", "j")
_lock = threading.Lock()


@lru_cache(maxsize=1)
def _tagger() -> jieba.posseg.POSTokenizer:
    """A part-of-speech tagger over the knowledge base's jieba tokenizer (same dictionary and user words)."""
    with _lock:
        return jieba.posseg.POSTokenizer(_tokenizer())


def is_noun(word: str, context: str) -> bool:
    """Whether `word` (normalised) is a noun: by jieba's dictionary tag, or for a word jieba found only by its
    HMM (文创, 充电桩), by the tag it gets when `context` (a normalised answer containing it) is tagged."""
    tagger = _tagger()
    tag = tagger.word_tag_tab.get(word)
    if tag is None:
        tag = next((t for w, t in tagger.lcut(context) if w == word), "x")
    return tag.startswith(NOUN_TAGS) and not tag.startswith("ns")


@lru_cache(maxsize=20000)
def _normalized(text: str) -> str:
    """normalize(text).lower(), remembered: labels look at the same answers again and again."""
    return normalize(text).lower()


def as_written(word: str, texts: Sequence[str]) -> tuple[str, str] | None:
    """`word` (normalised: Simplified, lower case) as one of `texts` writes it, Simplified spelling first, with that
    text normalised (its context); None when no text contains it. Normalisation maps character to character, so a
    match in a normalised text is cut from the same place of the original (a Traditional answer gives 停車場)."""
    for text in texts:
        if word in text:
            return word, _normalized(text)
    for text in texts:
        norm = _normalized(text)
        at = norm.find(word)
        if at >= 0 and len(norm) == len(text):
            return text[at : at + len(word)], norm
    return None


def _without(word: str, stop: frozenset[str]) -> str:
    """`word` with every stop word it contains taken out (方便群众 → "", 农村公路 → 公路)."""
    for s in stop:
        if s in word:
            word = word.replace(s, "")
    return word


def theme_label(
    lift: np.ndarray, terms: Sequence[str], texts: Sequence[str], count: int, look_at: int = 40
) -> list[str]:
    """Up to `count` label words for one theme, most distinctive first.

    lift: (len(terms),) how distinctive each word is of the theme (> 0 to be considered); terms: the normalised
    words; texts: the theme's answers as written. Among the `look_at` words of highest lift, a word qualifies when
    it keeps two or more characters once the shared proposal/policy words it contains are taken out
    (data/label_stopwords.txt: not 建议 nor 方便群众, but 农村公路), is a noun (is_noun) and occurs in an answer (as_written gives its written form). A
    word inside a chosen one is skipped; a chosen word inside a longer qualifying word is replaced by it
    (停车 → 停车场). When no noun qualifies (a theme of 「同意」), the other qualifying words are used.
    """
    stop = label_stopwords()
    top = [i for i in np.lexsort((np.arange(len(lift)), -lift))[:look_at] if lift[i] > 0]
    chosen = _pick(top, terms, texts, stop, count, nouns=True)
    return chosen or _pick(top, terms, texts, stop, count, nouns=False)  # e.g. a theme of 「同意」


def _pick(
    top: list[int], terms: Sequence[str], texts: Sequence[str], stop: frozenset[str], count: int, nouns: bool
) -> list[str]:
    """theme_label's choice among the word indices `top` (best first); nouns=False drops the noun condition."""
    chosen: list[tuple[str, str]] = []  # (normalised, as written)
    for index in top:
        word = terms[index]
        if len(_without(word, stop)) < 2 or any(word in c for c, _ in chosen):
            continue
        found = as_written(word, texts)
        if found is None or (nouns and not is_noun(word, found[1])):
            continue
        written = found[0]
        longer = [i for i, (c, _) in enumerate(chosen) if c in word]
        if longer:
            chosen[longer[0]] = (word, written)
        elif len(chosen) < count:
            chosen.append((word, written))
    return [written for _, written in chosen]
