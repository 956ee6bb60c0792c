"""The retrieval test (命中测试) for staff: a question's ranked passages with their scores, the decision and the answer.

Scores per passage: `lexical` is the raw BM25 of the question's terms (synonyms included) and `lexical_share` that
score divided by the best candidate's (what the fusion uses); `dense` is the embedding model's cosine when the dense
index took part (None otherwise); `fused` is the final ranking score (fusion, answer-type bonus and scope, see
bot/knowledge/retrieval.py, fusion.py and base.py). The decision is the answerer's own (bot/answering/decision.py): its
confidence against the threshold, the reason in Chinese and the signals, exactly as `lvzhi ask --json` gives them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.answering.decision import model_for
from bot.answering.intake import searchable
from bot.answering.types import Answer
from bot.knowledge.retrieval import CANDIDATES

NO_PASSAGES = "知识库中没有检索到与问题相关的段落"


def mode_needs_passages(meta: dict) -> bool:
    """True for a decline that depends on the passages (not a greeting, markup or a missing article)."""
    return meta.get("mode") == "declined"


@dataclass
class ScoredPassage:
    """One ranked passage of a retrieval test."""

    rank: int
    chunk_id: str
    doc: str
    title: str
    section: str
    text: str
    fused: float
    lexical: float
    lexical_share: float
    dense: float | None


@dataclass
class HitTest:
    """A question's retrieval, the decision (answer / decline and why) and the answer a member would get."""

    question: str
    passages: list[ScoredPassage]
    answered: bool
    mode: str  # the answer's mode: extractive | declined | article_missing | llm | greeting …
    confidence: float | None
    threshold: float | None
    why: str
    signals: dict[str, float] = field(default_factory=dict)
    answer: Answer | None = None
    dense_used: bool = False


def hit_test(answerer, knowledge, question: str, k: int = 10, threshold: float | None = None) -> HitTest:
    """Run one question as a member would ask it, and explain the retrieval behind the answer.

    `answerer` is the service's answerer, `knowledge` its knowledge base; `threshold` the configured
    LVZHI_DECLINE_CONFIDENCE (None: the fitted model's own threshold). k: passages shown (at most CANDIDATES)."""
    question = (question or "").strip()
    answer = answerer.answer(question)
    meta = answer.meta or {}
    result = knowledge.retrieve(searchable(question), min(k, CANDIDATES))
    bm25 = dict(knowledge.lexical.search_terms(result.terms, CANDIDATES)) if result.terms else {}
    top = max(bm25.values(), default=0.0)
    passages = [
        ScoredPassage(
            rank,
            p.chunk_id,
            p.doc,
            p.title,
            p.section,
            p.text,
            p.score,
            bm25.get(p.chunk_id, 0.0),
            bm25.get(p.chunk_id, 0.0) / top if top > 0 else 0.0,
            result.cosines.get(p.chunk_id) if result.cosines else None,
        )
        for rank, p in enumerate(result.passages, start=1)
    ]
    signals = dict(meta.get("signals") or {})
    cut = threshold if threshold is not None else (model_for(signals)["threshold"] if signals else None)
    why = str(meta.get("why", ""))
    if answer.declined and not answer.passages and mode_needs_passages(meta):
        why = NO_PASSAGES
    return HitTest(
        question,
        passages,
        not answer.declined,
        str(meta.get("mode", "")),
        meta.get("confidence"),
        cut,
        why,
        signals,
        answer,
        bool(result.cosines),
    )
