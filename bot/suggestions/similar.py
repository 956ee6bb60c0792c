"""Similar-item detection: TF-IDF cosine over jieba words and Han bigrams, optionally blended with embeddings."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.knowledge.analysis import bigrams, words
from bot.storage.models import Submission

BIGRAM_WEIGHT = 0.5  # bigrams catch segmentation differences; words carry most of the meaning
SKIP_FIELDS = {"cosigners", "contact", "source"}  # names and contacts say nothing about the matter
CLOSED = {"rejected", "not_adopted", "merged"}  # items nobody can usefully support any more


@dataclass(frozen=True)
class Match:
    """An existing item close to a draft: its id, receipt, title and similarity (0–1)."""

    submission_id: int
    receipt: str
    title: str
    score: float


def matter_text(title: str, fields: dict) -> str:
    """The words that say what an item is about: its title and its text fields."""
    parts = [title] + [str(v) for k, v in fields.items() if k not in SKIP_FIELDS and k != "title" and v]
    return "\n".join(p for p in parts if p)


def has_own_title(item: Submission) -> bool:
    """True when the item's title is the author's own title field, not the start of its text."""
    own = str((item.fields or {}).get("title") or "").strip()
    return bool(own) and item.title.strip() == own[:300].strip()


def terms(text: str) -> Counter[str]:
    """Weighted term counts: precise jieba words (1.0) and Han bigrams (BIGRAM_WEIGHT)."""
    counts: Counter[str] = Counter()
    for w in words(text, search_mode=False):
        counts[w] += 1.0
    for b in bigrams(text):
        counts[b] += BIGRAM_WEIGHT
    return counts


def cosine_scores(query: Counter[str], docs: Sequence[Counter[str]]) -> list[float]:
    """TF-IDF (sublinear tf, smoothed idf over docs + query) cosine of the query against each doc."""
    n = len(docs) + 1
    df: Counter[str] = Counter()
    for d in [query, *docs]:
        df.update(d.keys())

    def vector(counts: Counter[str]) -> dict[str, float]:
        vec = {t: (1.0 + math.log1p(c)) * (math.log((1 + n) / (1 + df[t])) + 1.0) for t, c in counts.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {t: v / norm for t, v in vec.items()}

    q = vector(query)
    return [sum(w * q.get(t, 0.0) for t, w in vector(d).items()) for d in docs]


class SimilarFinder:
    """Finds existing items of the same type close to a draft (thresholds from settings)."""

    def __init__(
        self, threshold: float, limit: int = 3, pool: int = 2000, dense_weight: float = 0.0, embeddings=None
    ) -> None:
        self.threshold, self.limit, self.pool = threshold, limit, pool
        self.dense_weight, self.embeddings = dense_weight, embeddings
        self._cache: dict[int, Counter[str]] = {}
        self._vectors: dict[int, list[float]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> SimilarFinder:
        """A finder configured by LVZHI_SIMILAR_*; the embedding model only when it has weight."""
        embeddings = None
        if settings.similar_dense_weight > 0:
            from bot.knowledge.embedding_models import embeddings_for

            embeddings = embeddings_for(settings)
        return cls(
            settings.similar_threshold,
            settings.similar_max,
            settings.similar_pool,
            settings.similar_dense_weight,
            embeddings,
        )

    def find(
        self, session: Session, type_key: str, title: str, fields: dict, campaign_id: int | None = None
    ) -> list[Match]:
        """The closest open items of the same type (same campaign for campaign answers), best first.

        Only items that may be shown to another person: not private, not hidden from offers by staff, and
        titled by their author (a title made from the start of the text would show that text)."""
        stmt = select(Submission).where(
            Submission.type == type_key,
            Submission.status.not_in(CLOSED),
            Submission.private.is_(False),
            Submission.offer_hidden.is_(False),
        )
        if campaign_id is not None and hasattr(Submission, "campaign_id"):
            stmt = stmt.where(Submission.campaign_id == campaign_id)  # answers to the same campaign only
        items = list(session.scalars(stmt.order_by(Submission.id.desc()).limit(self.pool)))
        items = [i for i in items if has_own_title(i)]
        if not items:
            return []
        text = matter_text(title, fields)
        scores = cosine_scores(terms(text), [self._terms(i) for i in items])
        if self.dense_weight > 0 and self.embeddings is not None:
            dense = self._dense(text, items)
            scores = [
                (1 - self.dense_weight) * s + self.dense_weight * d
                for s, d in zip(scores, dense, strict=True)
            ]
        ranked = sorted(zip(scores, items, strict=True), key=lambda p: (-p[0], p[1].id))
        return [
            Match(i.id, i.receipt_no, i.title, round(s, 3))
            for s, i in ranked[: self.limit]
            if s >= self.threshold
        ]

    def _terms(self, item: Submission) -> Counter[str]:
        with self._lock:
            cached = self._cache.get(item.id)
        if cached is None:
            cached = terms(matter_text(item.title, item.fields or {}))
            with self._lock:
                if len(self._cache) > 4 * self.pool:
                    self._cache.clear()
                self._cache[item.id] = cached
        return cached

    def _dense(self, text: str, items: list[Submission]) -> list[float]:
        missing = [i for i in items if i.id not in self._vectors]
        if missing:
            vectors = self.embeddings.embed_documents([matter_text(i.title, i.fields or {}) for i in missing])
            self._vectors.update({i.id: v for i, v in zip(missing, vectors, strict=True)})
        q = self.embeddings.embed_query(text)
        return [max(0.0, _dot(q, self._vectors[i.id])) for i in items]


def _dot(a: list[float], b: list[float]) -> float:
    na = math.sqrt(sum(x * x for x in a)) or 1.0
    nb = math.sqrt(sum(x * x for x in b)) or 1.0
    return sum(x * y for x, y in zip(a, b, strict=True)) / (na * nb)
