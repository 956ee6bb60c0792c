"""Scope of a question: the place, the body (政协, 人大, 政府) and the document it names, matched to document titles.

A question about one place or body is not answered from another's rule (issue 9): passages of a document whose title
names another place or body are demoted, those of the named place, body or document promoted. Documents whose titles
name no place or body (a national law, 信访工作条例) are neutral. Place names: provincial-level divisions and large cities
(data/places.txt) plus the places that start the knowledge base's own titles (「青川市政协…」 → 青川).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from bot.knowledge.articles import quoted_titles
from bot.textnorm import normalize

PLACES_FILE = Path(__file__).resolve().parent / "data" / "places.txt"
SAME = 1.25  # factor for a passage of the named place, body or document
OTHER_PLACE = 0.4  # factor for a passage of another place's document
OTHER_BODY = 0.5  # factor for a passage of another body's document
UNRELATED_BODY = (
    0.6  # factor for a passage that names no body, of a document that names none, for a body question
)
_TITLE_PLACE = re.compile(
    r"^(?!中华人民共和国|全国)([\u4e00-\u9fff]{2,4}?)(?:省|市|自治区|特别行政区|自治州|县|区)"
)
_NOT_A_PLACE_START = "在关全对加做进于为把以和与本我各该"  # 「在全市…」「关于…」 start no place name
_BODIES = {
    "政协": ("政协", "政治协商"),
    "人大": ("人大", "人民代表大会", "人民代表"),
    "政府": ("人民政府", "行政"),
}
_DOC_NAME = re.compile(r"[\u4e00-\u9fff]{1,12}?(?:法|条例|规定|办法|规则|细则|制度|指南|章程|决定)")


@lru_cache(maxsize=1)
def known_places() -> tuple[str, ...]:
    """Place names of data/places.txt (normalised)."""
    words = []
    for line in PLACES_FILE.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            words.extend(normalize(w) for w in line.split())
    return tuple(words)


@lru_cache(maxsize=4096)  # a knowledge base has few titles, asked for at every question with a scope
def title_place(title: str) -> str | None:
    """The place a document title starts with (「上海市人民代表大会…」 → 上海), None for a national or placeless one."""
    norm = normalize(title)
    for place in known_places():
        if norm.startswith(place):
            return place
    m = _TITLE_PLACE.match(norm)
    return m.group(1) if m and m.group(1)[0] not in _NOT_A_PLACE_START else None


@lru_cache(maxsize=8192)  # titles and candidate passages come back at every question with a body in it
def bodies(text: str) -> frozenset[str]:
    """The bodies a text names: 政协, 人大, 政府."""
    norm = normalize(text)
    return frozenset(body for body, words in _BODIES.items() if any(w in norm for w in words))


@dataclass(frozen=True)
class Scope:
    """What a question names: places, bodies and document-name phrases (all normalised)."""

    places: frozenset[str]
    bodies: frozenset[str]
    doc_names: tuple[str, ...]


def question_scope(question: str, titles: list[str]) -> Scope:
    """The places (known ones and those of the given titles), bodies and document names a question mentions."""
    norm = normalize(question)
    candidates = set(known_places()) | {p for p in map(title_place, titles) if p}
    places = frozenset(p for p in candidates if p in norm)
    quoted = quoted_titles(norm)
    names = tuple(quoted) + tuple(m.group(0) for m in _DOC_NAME.finditer(norm) if len(m.group(0)) >= 3)
    return Scope(places, frozenset(bodies(norm)), names)


_QUOTED_IN_TITLE = re.compile(r"《[^》]*》")


def _names_document(scope: Scope, title: str) -> bool:
    """Whether the question names this document. A law quoted inside another title (浙江省实施《…代表法》办法) is
    that law's name, not this document's: 「代表法规定…」 asks the law itself."""
    own = _QUOTED_IN_TITLE.sub("", normalize(title))
    return any(len(name) >= 3 and name in own for name in scope.doc_names)


def scope_factors(scope: Scope, title: str, text: str = "") -> tuple[float, float]:
    """(ranking factor, evidence penalty) of a passage for the question's scope.

    The ranking factor is >1 for the named place, body or document, 1 when neutral, <1 for another's rule; the penalty
    (≤1) keeps only the mismatches. A document that names no body is neutral for a question about a body only when
    the passage itself speaks of that body (信访工作条例 on 政协机关); otherwise it counts as another body's rule.
    """
    factor = penalty = 1.0
    if _names_document(scope, title):
        factor *= SAME
    place = title_place(title)
    if scope.places and place:
        if place in scope.places:
            factor *= SAME
        else:
            factor, penalty = factor * OTHER_PLACE, penalty * OTHER_PLACE
    title_bodies = bodies(title) - ({"政府"} if "人大" in bodies(title) else set())
    if scope.bodies and title_bodies:
        if scope.bodies & title_bodies:
            factor *= SAME
        else:
            factor, penalty = factor * OTHER_BODY, penalty * OTHER_BODY
    elif scope.bodies and not (scope.bodies & bodies(text)):
        factor, penalty = factor * UNRELATED_BODY, penalty * UNRELATED_BODY
    return factor, penalty


def scope_factor(scope: Scope, title: str, text: str = "") -> float:
    """The ranking factor of scope_factors."""
    return scope_factors(scope, title, text)[0]
