"""Spectral view of answers: a nearest-neighbour graph of their feature vectors, its Laplacian's leading eigenvectors
as coordinates, and the eigengap to choose the number of themes.

Short answers on one subject share few words with one another (停车楼 / 泊位 / 车库), but they are linked through
chains of close neighbours; clustering the graph's spectral coordinates follows those chains where k-means on the
vectors themselves splits a subject by wording and merges subjects that share a generic word. With k well separated
groups the normalised Laplacian has k eigenvalues near 0 and a jump before the next one, so the largest jump names k
(Ng, Jordan & Weiss, "On spectral clustering", NIPS 2001; von Luxburg, "A tutorial on spectral clustering",
Statistics and Computing 17, 2007, §8.3). The neighbour graph comes from scikit-learn, the eigenvectors from SciPy.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.sparse.csgraph import laplacian
from scipy.sparse.linalg import eigsh
from sklearn import config_context
from sklearn.neighbors import kneighbors_graph

DENSE_UP_TO = 300  # below this many points a full dense eigendecomposition is fast and exact


def neighbour_count(n: int, low: int = 10, high: int = 50) -> int:
    """Neighbours per answer in the graph for n answers: about √n, at least `low` (or n/4 for small n), at most
    `high` and below n: 3 for 8 answers, 10 for 100, 15 for 224, 50 from 2,500 on. Enough that repeated answers do
    not form islands and a subject of ~16 answers stays linked; few enough that subjects stay apart."""
    return max(1, min(n - 1, high, max(round(n**0.5), min(low, n // 4))))


def neighbour_graph(points: np.ndarray, neighbours: int) -> sparse.csr_matrix:
    """Symmetric 0/1 graph of shape (n, n): i and j are linked when either is among the other's `neighbours` most
    cosine-similar points. points: (n, d) with n > neighbours ≥ 1. Distances are computed in blocks of ≤ 64 MiB
    (scikit-learn's working memory), not as one n × n matrix."""
    with config_context(working_memory=64):
        graph = kneighbors_graph(points, neighbours, metric="cosine", mode="connectivity", include_self=False)
    return sparse.csr_matrix(graph.maximum(graph.T))


def spectral_points(graph: sparse.csr_matrix, dims: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The `dims` smallest eigenvalues of the graph's symmetric normalised Laplacian, ascending (in [0, 2]), and their
    eigenvectors as columns, shape (n, dims); dims ≤ n. Deterministic for a seed (the start vector of the sparse
    solver). A graph in several pieces is fine: each piece adds an eigenvalue 0."""
    n = graph.shape[0]
    lap = laplacian(graph.astype(np.float64), normed=True)
    if n <= DENSE_UP_TO or dims >= n - 1:
        values, vectors = np.linalg.eigh(lap.toarray())
        return values[:dims], vectors[:, :dims]
    start = np.random.default_rng(seed).uniform(-1.0, 1.0, n)
    # Shift-invert just below 0: the smallest eigenvalues of the positive semidefinite Laplacian converge fast.
    values, vectors = eigsh(lap, k=dims, sigma=-1e-3, which="LM", v0=start)
    order = np.argsort(values)
    return values[order], vectors[:, order]


def eigengaps(values: np.ndarray, ks: range) -> list[tuple[int, float]]:
    """(k, λ_k − λ_{k−1}) for each k in ks, with values ascending and 0-indexed (λ_0 = 0): the jump after the k-th
    smallest eigenvalue. Needs len(values) > max(ks)."""
    return [(k, float(values[k] - values[k - 1])) for k in ks]
