"""Theme clustering of campaign answers (in the spirit of Pol.is): groups by subject, representatives, noun labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from threadpoolctl import threadpool_limits

from bot.campaigns.features import TermMatrix, label_stopwords, normalize_rows, reduce, tfidf
from bot.campaigns.kmeans import silhouette, spherical_kmeans
from bot.campaigns.spectral import eigengaps, neighbour_count, neighbour_graph, spectral_points
from bot.campaigns.theme_labels import theme_label

Embedder = Callable[[list[str]], np.ndarray]
K_CAP = 30  # more themes than this are no longer an overview for staff
__all__ = ["Clustering", "Embedder", "Theme", "cluster_answers", "k_range", "label_stopwords"]


@dataclass(frozen=True)
class Theme:
    """One group of answers on a subject: a label of its distinctive nouns, its size, members and representatives
    (indices into the texts given to cluster_answers)."""

    label: str
    keywords: tuple[str, ...]
    size: int
    members: tuple[int, ...]
    representatives: tuple[int, ...]


@dataclass(frozen=True)
class Clustering:
    """Themes largest first; `unclustered` holds answers with no usable words (empty, or only shared words such
    as 「建议加强」); `silhouette` is the themes' mean silhouette; `tried` is (k, eigenvalue jump) for every k
    considered (spectral.eigengaps)."""

    themes: tuple[Theme, ...]
    unclustered: tuple[int, ...]
    silhouette: float
    tried: tuple[tuple[int, float], ...]


def k_range(n: int, k_min: int = 2, k_max: int | None = None) -> range:
    """The numbers of themes tried for n usable answers: k_min … k_max, where k_max defaults to ⌊√n⌋ + 5 capped at
    K_CAP (19 for 224 answers, 30 from 625 on), and never reaches n."""
    top = min(K_CAP, int(n**0.5) + 5) if k_max is None else k_max
    return range(max(2, k_min), min(top, n - 1) + 1)


def cluster_answers(
    texts: Sequence[str],
    *,
    k_min: int = 2,
    k_max: int | None = None,
    representatives: int = 3,
    keywords: int = 3,
    seed: int = 0,
    dims: int = 100,
    sample_size: int = 1000,
    embed: Embedder | None = None,
    dense_weight: float = 0.0,
) -> Clustering:
    """Group answers by subject and label each group with its distinctive nouns.

    Steps: TF-IDF over each answer's subject words and their characters (features.py; Traditional answers are
    normalised first), a `dims`-dimensional latent projection, optionally joined with dense vectors from `embed`
    (a callable list[str] → (n, d) array, called once with the usable answers; weight dense_weight in [0, 1]), a
    nearest-neighbour graph and its spectral coordinates (spectral.py). The number of themes k is the one in
    k_range(n, k_min, k_max) (and at most the number of distinct answers) after which the graph's eigenvalues jump
    most (`tried` lists (k, jump)); spherical k-means in the first k spectral coordinates forms the themes, and
    copies of one answer all join the theme most of them are in. `silhouette` is the result's mean silhouette
    (cosine, features, a sample of ≤ sample_size answers). Deterministic for a seed.
    Labels: theme_labels.theme_label (nouns, written as in the answers). BLAS runs on one thread here: the matrices
    are small, and on a busy 2-core server OpenBLAS threads waiting for one another made a 224-answer run take
    seconds instead of a fraction of one.
    """
    terms = tfidf(texts)
    usable = np.flatnonzero(terms.matrix.getnnz(axis=1) > 0)
    unclustered = tuple(int(i) for i in np.setdiff1d(np.arange(len(texts)), usable))
    if len(usable) == 0:
        return Clustering(themes=(), unclustered=unclustered, silhouette=0.0, tried=())
    dense = None
    if embed is not None and dense_weight > 0:  # the model may use all cores: outside the thread limit
        dense = normalize_rows(np.asarray(embed([texts[i] for i in usable]), dtype=np.float64))
    with threadpool_limits(limits=1):
        points = reduce(terms.matrix[usable], dims, seed)
        if dense is not None:
            points = normalize_rows(
                np.hstack([np.sqrt(1 - dense_weight) * points, np.sqrt(dense_weight) * dense])
            )
        rng = np.random.default_rng(seed)
        # Copies of one answer (「同意」, pasted texts) stay together: no more themes than distinct answers, and
        # all copies go to the theme most of them landed in.
        _, copy_of = np.unique(np.round(points, 8), axis=0, return_inverse=True)
        copy_of = copy_of.ravel()
        ks = k_range(len(usable), k_min, k_max)
        ks = range(ks.start, max(ks.start, min(ks.stop, copy_of.max() + 2)))
        labels, score, tried = _groups(points, ks, rng, sample_size)
        votes = sparse.csr_matrix((np.ones(len(labels)), (copy_of, labels))).toarray()
        labels = votes.argmax(axis=1)[copy_of]
        words = _WordShares.of(terms, usable)
        themes = [
            _theme(texts, words, usable, points, np.flatnonzero(labels == c), representatives, keywords)
            for c in np.unique(labels)
        ]
    themes.sort(key=lambda t: (-t.size, t.members[0]))
    return Clustering(themes=tuple(themes), unclustered=unclustered, silhouette=score, tried=tried)


def _groups(
    points: np.ndarray, ks: range, rng: np.random.Generator, sample_size: int
) -> tuple[np.ndarray, float, tuple[tuple[int, float], ...]]:
    """Group numbers (n,), the silhouette of the grouping and (k, eigenvalue jump) for each k of ks."""
    if not ks:  # one or two usable answers: a single theme
        return np.zeros(len(points), dtype=int), 0.0, ()
    graph = neighbour_graph(points, neighbour_count(len(points)))
    values, vectors = spectral_points(graph, ks[-1] + 1, int(rng.integers(2**31)))
    gaps = eigengaps(values, ks)
    k = max(gaps, key=lambda kg: (kg[1], -kg[0]))[0]  # the largest jump; the smaller k on a tie
    labels, _ = spherical_kmeans(normalize_rows(vectors[:, :k]), k, rng, n_init=10)
    sample = np.sort(rng.choice(len(points), size=min(sample_size, len(points)), replace=False))
    return labels, silhouette(points[sample], labels[sample]), tuple((k, round(g, 4)) for k, g in gaps)


@dataclass(frozen=True)
class _WordShares:
    """Which usable answers contain each word (0/1 rows), the share of all answers that do, and the words."""

    present: sparse.csr_matrix
    overall: np.ndarray
    terms: list[str]

    @classmethod
    def of(cls, terms: TermMatrix, usable: np.ndarray) -> _WordShares:
        present = (terms.matrix[usable][:, np.flatnonzero(terms.is_word)] > 0).astype(np.float64).tocsr()
        words = [t for t, w in zip(terms.terms, terms.is_word, strict=True) if w]
        return cls(present, np.asarray(present.mean(axis=0)).ravel(), words)

    def distinctiveness(self, rows: np.ndarray) -> np.ndarray:
        """Per word: s·log(s/S), with s its share among `rows`' answers and S its share among all; high for words
        most of the theme uses and few other answers do (老人 is common in two themes, 电梯 only in one)."""
        inside = np.asarray(self.present[rows].mean(axis=0)).ravel()
        with np.errstate(divide="ignore", invalid="ignore"):
            score = np.where(inside > 0, inside * np.log(inside / self.overall), 0.0)
        return score + 1e-6 * inside  # a theme of all answers (log 1 = 0) still ranks its words by share


def _theme(
    texts: Sequence[str],
    words: _WordShares,
    usable: np.ndarray,
    points: np.ndarray,
    rows: np.ndarray,
    representatives: int,
    keywords: int,
) -> Theme:
    """The theme of rows (positions in usable): members, the answers nearest its centroid, its label."""
    centroid = normalize_rows(points[rows].mean(axis=0, keepdims=True))[0]
    order = rows[np.lexsort((rows, -(points[rows] @ centroid)))]
    label = theme_label(words.distinctiveness(rows), words.terms, [texts[usable[i]] for i in order], keywords)
    return Theme(
        label="、".join(label),
        keywords=tuple(label),
        size=len(rows),
        members=tuple(int(usable[i]) for i in rows),
        representatives=tuple(int(usable[i]) for i in order[:representatives]),
    )
