"""Hybrid retrieval: BM25 candidates, optional dense fusion, answer-type re-ranking, and an evidence score."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
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


def answer_type_bonus(question: str, text: str) -> float:
    """1 for each answer shape the question asks for and the text has (a count with its measure, an 'X 是')."""
    nq, nt = normalize(question), normalize(text)
    bonus = 0.0
    m = _QUANTITY_Q.search(nq)
    if m and not _TIME_Q.search(nq):
        measure = m.group(2) or _MEASURES
        if re.search(rf"{_NUMBER}[多余]?个?[{measure}]", nt):
            bonus += 1.0
    if _TIME_Q.search(nq) and re.search(rf"{_NUMBER}{_TIME_UNITS}", nt):
        bonus += 1.0
    m = _DEFINITION_Q.match(nq)
    if m and m.group(1) + "是" in nt:
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
