"""Hybrid retrieval: BM25 candidates, optional dense fusion, answer-type re-ranking, and an evidence score."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

from bot.answering.types import Passage
from bot.knowledge.analysis import question_terms, synonym_terms
from bot.knowledge.fusion import FUSIONS, minmax_fusion
from bot.knowledge.lexical import K1, LexicalIndex
from bot.knowledge.lexicon import formalize
from bot.textnorm import normalize

CANDIDATES = 30  # lexical (and dense) candidates re-ranked per question
STRENGTH_SCALE = 20.0  # evidence: the BM25 score of a strong match, in units of log(1 + number of chunks)
_NUMBER = r"[\d零〇一二三四五六七八九十百千万两]+"
_MEASURES = "场次个项份件人篇条名家批届期所分元"
_TIME_UNITS = r"(个)?(月|日|天|工作日|年|小时|周|星期)"
_QUANTITY_Q = re.compile(rf"(多少|几)([{_MEASURES}]?)")
_TIME_Q = re.compile(r"多久|多长时间|什么时候|何时|哪天|几天|期限|截止")
_DEFINITION_Q = re.compile(r"^(.{2,8}?)(的.{1,6})?是什么")


class DenseSearch(Protocol):
    """The part of the vector store retrieval needs."""

    def search(self, query: str, k: int) -> list[tuple[str, float]]: ...


@dataclass(frozen=True)
class RetrievalWeights:
    """How the parts of a score combine; chosen on the dev set (see README)."""

    bigram: float = 0.5  # weight of a query's Han bigrams against its words
    synonym: float = 0.4  # weight of synonym expansions
    dense: float = 0.0  # weight of the normalised dense score against the best lexical score (=1)
    fusion: str = "minmax"  # how the two lists combine: "minmax" or "rrf" (bot/knowledge/fusion.py)
    answer_type: float = 0.4  # bonus for a passage shaped like the answer (a count, a definition)


@dataclass
class RetrievalResult:
    """Ranked passages and how much lexical evidence the best of them has."""

    passages: list[Passage]
    evidence: float  # 0..1; low means the knowledge base hardly speaks of the question
    terms: dict[str, float] = field(default_factory=dict)  # the weighted query terms, synonyms included
    own: dict[str, float] = field(
        default_factory=dict
    )  # the question's own terms (no synonyms), as the evidence uses
    article: str = ""  # set when the question names an article (第5条): the passages are that article, whole
    missing_in: str = (
        ""  # the title of the named document that has no such article (the passages are then empty)
    )
    penalty: float = 1.0  # scope penalty of the best passage (another place's or body's rule: below 1)
    cosines: dict[str, float] = field(
        default_factory=dict
    )  # dense similarity of the dense candidates, by chunk id


def asked_answer_types(question: str) -> set[str]:
    """The answer shapes a question asks for: "quantity" (多少/几), "time" (多久/什么时候), "definition" (X是什么)."""
    nq = normalize(question)
    asked = set()
    if _QUANTITY_Q.search(nq) and not _TIME_Q.search(nq):
        asked.add("quantity")
    if _TIME_Q.search(nq):
        asked.add("time")
    if _DEFINITION_Q.match(nq):
        asked.add("definition")
    return asked


# The unit a "how many" question names (多少天, 几个人, 多少学时) and the units that answer it in a document (天 is
# answered by 日 and 工作日, 人 by 名 and 位). A question may name a unit no passage has: then nothing answers it.
_UNIT_GROUPS = (
    "天日",
    "工作日",
    "年",
    "月",
    "周星期",
    "小时学时课时",
    "人名位",
    "字",
    "元块",
    "次",
    "页",
    "票",
    "岁",
    "篇",
    "件",
    "项",
)
# Money, asked in 元: named after the question word (「多少补贴」) or before it (「工资多少」「补贴是多少」). The amount
# asked is the noun's, whatever other numbers the question gives (in 「一个月工资多少」, 「一个月」 is when, not what).
_MONEY = "工资|薪酬|薪水|报酬|酬劳|补贴|津贴|补助|经费|费用|奖金|钱"
_ASKED_UNIT = re.compile(
    r"(?:多少|几)(?:个)?(工作日|学时|课时|小时|星期|万元|[天日年月周人名位字元块次页票岁篇件项])"
    rf"|(?:多少|几)(?:的)?({_MONEY})"
)
_MONEY_BEFORE = re.compile(rf"({_MONEY})(?:标准)?(?:是|有|为|大概|大约|一般|能有|能拿)*(?:多少|几)")


def asked_unit(question: str) -> str | None:
    """The unit a quantity question asks in (「多少学时」 → 学时, 「几天」 → 天, 「多少补贴」「工资多少」 → 元), else None."""
    norm = normalize(question)
    m = _ASKED_UNIT.search(norm)
    if m is None:
        return "元" if _MONEY_BEFORE.search(norm) else None
    return m.group(1) or "元"


def _unit_alternatives(unit: str) -> list[str]:
    for group in _UNIT_GROUPS:
        if unit in group:
            if group in ("天日", "周星期", "人名位", "元块"):
                return [*group] if group != "周星期" else ["周", "星期"]
            if group == "小时学时课时":
                return ["小时", "学时", "课时"]
            return [group]
    return [unit.removeprefix("万")]


def has_unit_answer(unit: str, text: str) -> bool:
    """Whether the text has a number in the asked unit or one that answers it (「二十日」 answers 「几天」)."""
    alternatives = "|".join(map(re.escape, _unit_alternatives(unit)))
    return re.search(rf"{_NUMBER}[多余]?(?:个)?(?:{alternatives})", normalize(text)) is not None


# A question after a named thing (「哪个网上系统」「热线电话是多少」) is answered only by a passage that names one.
_THINGS = re.compile(
    r"系统|平台|网站|网址|电话|热线|邮箱|电子信箱|地址|公众号|客户端|小程序|APP", re.IGNORECASE
)
_WH = re.compile(r"哪|什么|多少|啥")


def asked_thing(question: str) -> str | None:
    """The kind of named thing a question asks for (系统, 平台, 电话, 地址 …), or None."""
    norm = normalize(question)
    m = _THINGS.search(norm)
    return m.group(0).upper() if m and _WH.search(norm) else None


def has_thing(thing: str, text: str) -> bool:
    """Whether the text names a thing of that kind (the word itself occurs)."""
    return thing in normalize(text).upper()


_TIME_ANSWER = re.compile(rf"{_NUMBER}{_TIME_UNITS}")
# A question of how long (「多长时间内」「多久」「几天」) is not answered by a date: 「1995年9月22日…通过」 of an adoption
# note holds 年, 月 and 日 but no span. Dates and years are taken out of a passage before a span is looked for;
# 「什么时候」「何时」「哪天」「截止」 ask when, which a date answers.
_DURATION_Q = re.compile(r"多久|多长时间|几天|几个月|几年|期限")
_WHEN_Q = re.compile(r"什么时候|何时|哪天|截止")
_DIGITS = "\\d〇零一二三四五六七八九十"
_DATE = re.compile(rf"[{_DIGITS}]{{4}}年(?:[{_DIGITS}]{{1,2}}月(?:[{_DIGITS}]{{1,3}}日)?)?")


@lru_cache(maxsize=1024)
def _answer_shapes(question: str) -> tuple[re.Pattern | None, bool, bool, str | None]:
    """What answers a question's shapes: (pattern of a count in its measure, whether a time span answers it,
    whether only a span does (how long, not when: a date does not), the 「X是」 of a definition); all None/False for
    a question that asks no shape (most), which then costs nothing."""
    nq = normalize(question)
    timed = _TIME_Q.search(nq) is not None
    span_only = timed and _DURATION_Q.search(nq) is not None and _WHEN_Q.search(nq) is None
    m = _QUANTITY_Q.search(nq)
    count = re.compile(rf"{_NUMBER}[多余]?个?[{m.group(2) or _MEASURES}]") if m and not timed else None
    d = _DEFINITION_Q.match(nq)
    return count, timed, span_only, d.group(1) + "是" if d else None


def answer_type_bonus(question: str, text: str) -> float:
    """1 for each answer shape the question asks for and the text has (a count with its measure, an 'X 是')."""
    count, timed, span_only, definition = _answer_shapes(question)
    if count is None and not timed and definition is None:
        return 0.0
    nt = normalize(text)
    if span_only:
        nt = _DATE.sub("", nt)
    bonus = 0.0
    if count is not None and count.search(nt):
        bonus += 1.0
    if timed and _TIME_ANSWER.search(nt):
        bonus += 1.0
    if definition is not None and definition in nt:
        bonus += 1.0
    return bonus


class HybridRetriever:
    """Lexical-first retrieval over one knowledge base."""

    def __init__(self, lexical: LexicalIndex, dense: DenseSearch | None, weights: RetrievalWeights) -> None:
        self.lexical = lexical
        self.dense = dense if weights.dense > 0 else None
        self.weights = weights

    def evidence(self, own: dict[str, float], top_score: float) -> float:
        """How much of the question the best passage matches: BM25 share of its ceiling, and absolute strength.

        The ceiling counts the question's own terms only (no synonyms): what it could score if all of them matched.
        """
        n = max(len(self.lexical), 1)
        unseen_idf = math.log(1.0 + (n + 0.5) / 0.5)
        ceiling = sum(w * (self.lexical.idf(t) or unseen_idf) * (K1 + 1) for t, w in own.items())
        if ceiling <= 0 or top_score <= 0:
            return 0.0
        share = top_score / ceiling
        # A good match scores about STRENGTH_SCALE idf-units; idf grows with log(N), so this is size-free.
        strength = min(top_score / (STRENGTH_SCALE * math.log1p(n)), 1.0)
        return math.sqrt(share * strength)

    def search(self, question: str, k: int = 10) -> RetrievalResult:
        """The k best passages for a question."""
        own = question_terms(formalize(question), self.weights.bigram)
        terms = own | synonym_terms(own, self.weights.synonym)
        lexical = self.lexical.search_terms(terms, CANDIDATES)
        top = lexical[0][1] if lexical else 0.0
        dense: list[tuple[str, float]] = []
        if self.dense is not None and question.strip():
            hits = self.dense.search(normalize(question), CANDIDATES)
            dense = [(cid, sim) for cid, sim in hits if self.lexical.get(cid) is not None]
        # Without dense candidates this is the lexical-only ranking: BM25 / best BM25.
        fuse = FUSIONS[self.weights.fusion] if dense else minmax_fusion
        scores = fuse(lexical, dense, self.weights.dense)
        ranked: list[Passage] = []
        for cid, score in scores.items():
            chunk = self.lexical.get(cid)
            if chunk is None:
                continue
            score += self.weights.answer_type * answer_type_bonus(question, chunk.text)
            ranked.append(Passage(cid, chunk.doc_id, chunk.title, chunk.section, chunk.text, round(score, 4)))
        ranked.sort(key=lambda p: (-p.score, p.chunk_id))
        return RetrievalResult(ranked[:k], self.evidence(own, top), terms, own=own, cosines=dict(dense))
