"""Official answers first (办公室答复): a question like one the office has answered gets the office's answer.

Staff write an official answer for a question the documents do not answer (bot/staff/official.py); the answerer
consults it before retrieval, for every channel and for `lvzhi ask` (decision "official"). Similar-question matching
reuses the knowledge base's lexical machinery: the question in the documents' words (lexicon.formalize), its jieba
words (analysis.words, precise cut, stopwords out), the character bigrams of those words (robust to segmentation) and
their synonyms (analysis.synonym_terms), each weighted by the knowledge base's BM25 idf — a word the documents never
use (「委员证」 when no document speaks of it) gets the highest idf the index can give, since it is exactly what makes
such a question distinctive. Similarity is the cosine of the two weighted term vectors; a question matches the best of
an answer's phrasings (its question and the variants staff added) when the cosine reaches MATCH_THRESHOLD.

MATCH_THRESHOLD = 0.84 was chosen for precision on the labelled pairs of eval/official_answer_pairs.jsonl (dev split)
and checked on the held-out test split by benchmarks/bench_official_match.py: see the README section 「办公室答复」.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot.answering.intake import classify
from bot.answering.types import Answer, Citation
from bot.knowledge.analysis import bigrams, synonym_terms, words
from bot.knowledge.lexicon import formalize
from bot.prompts import render_for
from bot.textnorm import is_traditional, to_traditional_display

log = logging.getLogger(__name__)

MATCH_THRESHOLD = 0.84  # cosine; measured by benchmarks/bench_official_match.py (README 「办公室答复」)
BIGRAM_WEIGHT = 0.5
SYNONYM_WEIGHT = 0.4
TIMEZONE = ZoneInfo("Asia/Shanghai")  # the office's dates
Idf = Callable[[str], float]


def phrase_terms(question: str) -> dict[str, float]:
    """Weighted terms of a question for matching: {term: weight} — words 1.0, bigrams of the words 0.5 (prefixed
    like the index's), synonyms of the words 0.4; all on the formalized, normalised (Simplified) text."""
    formal = formalize(question)
    own: dict[str, float] = {}
    content = words(formal, search_mode=False)
    for w in content:
        own[w] = own.get(w, 0.0) + 1.0
    for b in bigrams(" ".join(content)):
        own[b] = own.get(b, 0.0) + BIGRAM_WEIGHT
    return own | synonym_terms(own, SYNONYM_WEIGHT)


class TermWeights:
    """idf of a term from the knowledge base's BM25 index; a term no document has gets the index's ceiling.

    idf: the lexical index's idf (0.0 for an unknown term); chunks: the number of chunks in the index (0: every
    term weighs 1.0)."""

    def __init__(self, idf: Idf | None = None, chunks: int = 0) -> None:
        self._idf = idf
        self.ceiling = math.log(1.0 + (chunks + 0.5) / 0.5) if chunks else 1.0

    def __call__(self, term: str) -> float:
        """The weight of one term (> 0)."""
        value = self._idf(term) if self._idf is not None else 0.0
        return value if value > 0 else self.ceiling


def vector(terms: dict[str, float], weight: Callable[[str], float]) -> dict[str, float]:
    """A unit-length vector {term: weight × idf} (empty for no terms)."""
    raw = {t: w * weight(t) for t, w in terms.items()}
    norm = math.sqrt(sum(v * v for v in raw.values()))
    return {t: v / norm for t, v in raw.items()} if norm else {}


def cosine(a: dict[str, float], b: dict[str, float]) -> float:
    """The cosine of two unit vectors from vector(): 0..1."""
    if len(a) > len(b):
        a, b = b, a
    return sum(v * b.get(t, 0.0) for t, v in a.items())


def similarity(first: str, second: str, weight: Callable[[str], float] | None = None) -> float:
    """How alike two questions are, 0..1 (the matcher's measure; weight defaults to 1.0 for every term)."""
    w = weight or TermWeights()
    return cosine(vector(phrase_terms(first), w), vector(phrase_terms(second), w))


@dataclass(frozen=True)
class Match:
    """The official answer a question matched: its id, the phrasing it matched and the cosine."""

    official_id: int
    phrasing: str
    score: float


@dataclass(frozen=True)
class Entry:
    """An active official answer as the answerer uses it (a snapshot of the database row)."""

    id: int
    kind: str  # quote | text
    text: str
    source: str
    chunk_ids: tuple[str, ...]
    updated_at: datetime
    phrasings: tuple[str, ...]


class Matcher:
    """The phrasings of the active official answers as term vectors; best(question) finds the closest one."""

    def __init__(self, entries: list[Entry], weight: Callable[[str], float]) -> None:
        self.weight = weight
        self._vectors = [(e.id, p, vector(phrase_terms(p), weight)) for e in entries for p in e.phrasings]

    def best(self, question: str, threshold: float = MATCH_THRESHOLD) -> Match | None:
        """The best phrasing with cosine ≥ threshold (ties: the lower id), or None."""
        if not self._vectors:  # no active official answer: nothing to cut the question into terms for
            return None
        q = vector(phrase_terms(question), self.weight)
        if not q:
            return None
        scored = [(cosine(q, v), -i, i, p) for i, p, v in self._vectors]
        if not scored:
            return None
        score, _, official_id, phrasing = max(scored)
        return Match(official_id, phrasing, score) if score >= threshold else None


class OfficialAnswers:
    """The office's active answers, read from the database and refreshed when staff change them.

    db: a callable giving the bot.storage.Database; knowledge: a callable giving the KnowledgeBase (for quoted
    passages and the idf). A cheap check (count and newest update of the table) runs before each match, at most
    every `recheck_s` seconds; the matcher is rebuilt only when it changed."""

    def __init__(
        self, db: Callable[[], object], knowledge: Callable[[], object], recheck_s: float = 0.0
    ) -> None:
        self._db = db
        self._knowledge = knowledge
        self.recheck_s = recheck_s
        self._lock = threading.Lock()
        self._stamp: tuple | None = None
        self._checked = 0.0
        self._entries: dict[int, Entry] = {}
        self._matcher: Matcher | None = None

    def _weights(self) -> TermWeights:
        kb = self._knowledge()
        lexical = getattr(kb, "lexical", None)
        return TermWeights(lexical.idf, len(lexical)) if lexical is not None else TermWeights()

    def _refresh(self) -> None:
        from sqlalchemy import func, select

        from bot.storage.models import OfficialAnswer

        now = time.monotonic()
        if self._matcher is not None and now - self._checked < self.recheck_s:
            return
        with self._db().session() as s:
            active = OfficialAnswer.status == "active"
            stamp = tuple(
                s.execute(
                    select(func.count(OfficialAnswer.id), func.max(OfficialAnswer.updated_at)).where(active)
                ).one()
            )
            if stamp == self._stamp and self._matcher is not None:
                self._checked = now
                return
            rows = s.scalars(select(OfficialAnswer).where(active).order_by(OfficialAnswer.id)).all()
            entries = {
                r.id: Entry(r.id, r.kind, r.text, r.source, tuple(r.chunk_ids or ()), r.updated_at,
                            tuple(r.phrasings()))
                for r in rows
            }  # fmt: skip
        self._entries, self._stamp, self._checked = entries, stamp, now
        self._matcher = Matcher(list(entries.values()), self._weights())

    def match(self, question: str, threshold: float = MATCH_THRESHOLD) -> Match | None:
        """The active official answer for a question, or None (only real questions: not greetings or markup)."""
        if classify(question) != "question":
            return None
        with self._lock:
            self._refresh()
            matcher = self._matcher
        return matcher.best(question, threshold) if matcher is not None else None

    def answer(self, question: str, match: Match) -> Answer | None:
        """The labelled official answer to a matched question, in the asker's script (quotes verbatim); None when
        none of a quoting answer's passages is in the knowledge base any more."""
        entry = self._entries.get(match.official_id)
        if entry is None:
            return None
        trad = is_traditional(question)
        date = entry.updated_at.astimezone(TIMEZONE)
        date_text = f"{date.year}年{date.month}月{date.day}日"
        citations: list[Citation] = []
        if entry.kind == "quote":
            kb = self._knowledge()
            for chunk_id in entry.chunk_ids:
                chunk = kb.chunk(chunk_id)
                if chunk is None:
                    log.warning(
                        "official answer %s quotes a passage no longer indexed: %s", entry.id, chunk_id
                    )
                    continue
                citations.append(
                    Citation(chunk.chunk_id, chunk.doc_id, chunk.title, chunk.section, chunk.text,
                             chunk.text.strip(), ocr=chunk.ocr)
                )  # fmt: skip
            if not citations:
                return None
            body = "\n".join(
                render_for("answers/quote", trad, quote=c.quote, label=c.label())
                + (render_for("answers/ocr_note", trad) if c.ocr else "")
                for c in citations
            )
        else:
            own = to_traditional_display(entry.text) if trad else entry.text
            source = to_traditional_display(entry.source) if trad else entry.source
            body = own + ("\n" + render_for("answers/official_source", trad, source=source) if source else "")
        text = render_for("answers/official", trad, date=date_text, body=body)
        meta = {
            "mode": "official",
            "decision": "official",
            "official_id": entry.id,
            "confidence": round(match.score, 4),
            "why": render_for(
                "answers/official_why", False, phrasing=match.phrasing, score=f"{match.score:.2f}"
            ),
            "signals": {"official_similarity": round(match.score, 4)},
        }
        return Answer(question, text, False, citations, [], traditional=trad, meta=meta)


class OfficialFirst:
    """An answerer that gives the office's answer when the question matches one, else asks the inner answerer.

    Everything else (settings, knowledge, an LLM answerer's condense/stream) is the inner answerer's."""

    def __init__(self, inner, official: OfficialAnswers) -> None:
        self.inner = inner
        self.official = official

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def answer(self, question: str, *args, **kwargs) -> Answer:
        """The official answer when one matches (the time taken included), else the inner answerer's answer (also when
        the database cannot be read: logged, never raised)."""
        from sqlalchemy.exc import SQLAlchemyError

        started = time.perf_counter()
        asked = (question or "").strip()[:500]
        try:
            found = self.official.match(asked) if asked else None
        except SQLAlchemyError as exc:  # the database is out of reach: the documents still answer
            log.warning("official answers not consulted: %s", type(exc).__name__)
            found = None
        answer = self.official.answer(asked, found) if found is not None else None
        if answer is None:
            return self.inner.answer(question, *args, **kwargs)
        answer.ms = (time.perf_counter() - started) * 1000
        return answer
