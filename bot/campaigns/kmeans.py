"""Spherical k-means (cosine) with k-means++ seeding, and a sampled silhouette score to choose k."""

from __future__ import annotations

import numpy as np
from scipy import sparse


def spherical_kmeans(
    points: np.ndarray, k: int, rng: np.random.Generator, n_init: int = 3, max_iter: int = 60
) -> tuple[np.ndarray, np.ndarray]:
    """Best of n_init runs on unit rows: (labels, unit centroids), by total similarity to centroids."""
    best: tuple[float, np.ndarray, np.ndarray] | None = None
    for _ in range(n_init):
        centroids = _plus_plus(points, k, rng)
        labels = np.full(len(points), -1)
        for _ in range(max_iter):
            sims = points @ centroids.T
            new = sims.argmax(axis=1)
            if np.array_equal(new, labels):
                break
            labels = new
            centroids = _centroids(points, labels, k, centroids)
        score = float((points @ centroids.T)[np.arange(len(points)), labels].sum())
        if best is None or score > best[0]:
            best = (score, labels.copy(), centroids.copy())
    assert best is not None
    return best[1], best[2]


def _plus_plus(points: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    """k-means++ seeding with cosine distance."""
    chosen = [int(rng.integers(len(points)))]
    dist = np.clip(1.0 - points @ points[chosen[0]], 0.0, None)
    for _ in range(1, k):
        total = dist.sum()
        index = int(rng.choice(len(points), p=dist / total)) if total > 0 else int(rng.integers(len(points)))
        chosen.append(index)
        dist = np.minimum(dist, np.clip(1.0 - points @ points[index], 0.0, None))
    return points[chosen].copy()


def _centroids(points: np.ndarray, labels: np.ndarray, k: int, previous: np.ndarray) -> np.ndarray:
    """Unit mean of each cluster; an emptied cluster keeps its previous centroid."""
    members = sparse.csr_matrix(
        (np.ones(len(labels)), (labels, np.arange(len(labels)))), shape=(k, len(labels))
    )
    sums = np.asarray(members @ points)
    norms = np.linalg.norm(sums, axis=1)
    empty = norms == 0
    sums[~empty] /= norms[~empty, None]
    sums[empty] = previous[empty]
    return sums


def silhouette(points: np.ndarray, labels: np.ndarray) -> float:
    """Mean silhouette with cosine distance; memory is O(n²) so pass a sample of a large set."""
    clusters = np.unique(labels)
    if len(clusters) < 2:
        return -1.0
    dist = np.clip(1.0 - points @ points.T, 0.0, None)
    counts = np.array([(labels == c).sum() for c in clusters])
    mean_to = np.stack([dist[:, labels == c].sum(axis=1) for c in clusters], axis=1)
    own = np.searchsorted(clusters, labels)
    own_count = counts[own]
    a = mean_to[np.arange(len(points)), own] / np.maximum(own_count - 1, 1)
    mean_to = mean_to / counts
    mean_to[np.arange(len(points)), own] = np.inf
    b = mean_to.min(axis=1)
    s = np.where(own_count > 1, (b - a) / np.maximum(np.maximum(a, b), 1e-12), 0.0)
    return float(s.mean())
