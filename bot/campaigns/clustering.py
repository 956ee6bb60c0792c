"""Theme clustering of campaign answers (in the spirit of Pol.is): groups, representatives, keyword labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from bot.campaigns.features import normalize_rows, reduce, tfidf
from bot.campaigns.kmeans import silhouette, spherical_kmeans

Embedder = Callable[[list[str]], np.ndarray]
DATA_DIR = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Theme:
    """One group of similar answers: a keyword label, its size, members and representatives (by index)."""

    label: str
    keywords: tuple[str, ...]
    size: int
    members: tuple[int, ...]
    representatives: tuple[int, ...]


@dataclass(frozen=True)
class Clustering:
    """Themes largest first; `unclustered` holds answers with no usable words (e.g. 「同意」)."""

    themes: tuple[Theme, ...]
    unclustered: tuple[int, ...]
    silhouette: float
    tried: tuple[tuple[int, float], ...]


def cluster_answers(
    texts: Sequence[str],
    *,
    k_min: int = 2,
    k_max: int = 12,
    representatives: int = 3,
    keywords: int = 3,
    seed: int = 0,
    dims: int = 100,
    sample_size: int = 1000,
    embed: Embedder | None = None,
    dense_weight: float = 0.0,
    tolerance: float = 0.03,
) -> Clustering:
    """Cluster answers; k is the smallest in [k_min, k_max] whose silhouette is within tolerance of the best."""
    terms = tfidf(texts)
    usable = np.flatnonzero(terms.matrix.getnnz(axis=1) > 0)
    unclustered = tuple(int(i) for i in np.setdiff1d(np.arange(len(texts)), usable))
    if len(usable) == 0:
        return Clustering(themes=(), unclustered=unclustered, silhouette=0.0, tried=())
    rng = np.random.default_rng(seed)
    points = reduce(terms.matrix[usable], dims, seed)
    if embed is not None and dense_weight > 0:
        dense = normalize_rows(np.asarray(embed([texts[i] for i in usable]), dtype=np.float64))
        points = normalize_rows(
            np.hstack([np.sqrt(1 - dense_weight) * points, np.sqrt(dense_weight) * dense])
        )
    sample = np.sort(rng.choice(len(usable), size=min(sample_size, len(usable)), replace=False))
    fits = []
    for k in range(max(2, k_min), min(k_max, len(usable) - 1) + 1):
        labels, centroids = spherical_kmeans(points, k, rng)
        fits.append((silhouette(points[sample], labels[sample]), labels, centroids))
    tried = tuple((len(f[2]), round(f[0], 4)) for f in fits)
    # Silhouette creeps up as themes split into sub-themes; staff read fewer themes, so prefer the smallest k.
    top = max((f[0] for f in fits), default=0.0)
    best = next((f for f in fits if f[0] >= top - tolerance), None)
    if best is None:  # one or two usable answers: a single theme
        best = (0.0, np.zeros(len(usable), dtype=int), normalize_rows(points.mean(axis=0, keepdims=True)))
    score, labels, centroids = best
    word_matrix = terms.matrix[usable][:, np.flatnonzero(terms.is_word)]
    word_terms = [t for t, w in zip(terms.terms, terms.is_word, strict=True) if w]
    overall = np.asarray(word_matrix.mean(axis=0)).ravel()
    themes = []
    for c in range(centroids.shape[0]):
        rows = np.flatnonzero(labels == c)
        if len(rows) == 0:
            continue
        closeness = points[rows] @ centroids[c]
        order = rows[np.lexsort((rows, -closeness))]
        lift = np.asarray(word_matrix[rows].mean(axis=0)).ravel() - overall
        words = _top_words(lift, word_terms, keywords)
        themes.append(
            Theme(
                label="、".join(words),
                keywords=tuple(words),
                size=len(rows),
                members=tuple(int(usable[i]) for i in rows),
                representatives=tuple(int(usable[i]) for i in order[:representatives]),
            )
        )
    themes.sort(key=lambda t: (-t.size, t.members[0]))
    return Clustering(themes=tuple(themes), unclustered=unclustered, silhouette=float(score), tried=tried)


@lru_cache(maxsize=1)
def label_stopwords() -> frozenset[str]:
    """Words too common in answers to name a theme (建议, 加强, 政府 …)."""
    return frozenset((DATA_DIR / "label_stopwords.txt").read_text(encoding="utf-8").split())


def _top_words(lift: np.ndarray, terms: list[str], count: int) -> list[str]:
    """The most distinctive words of a cluster, skipping stopwords and single characters, merging overlaps."""
    stop = label_stopwords()
    chosen: list[str] = []
    for index in np.lexsort((np.arange(len(lift)), -lift))[: 20 * count]:
        word = terms[index]
        if lift[index] <= 0:
            break
        if len(word) < 2 or word in stop or any(word in c for c in chosen):
            continue
        longer = [i for i, c in enumerate(chosen) if c in word]  # 红绿 → 红绿灯: keep the whole word
        if longer:
            chosen[longer[0]] = word
        elif len(chosen) < count:
            chosen.append(word)
    return chosen
