"""Exact cosine nearest neighbours over a small collection's vectors held in memory (numpy).

Chroma's HNSW query costs about 1.2 ms of CPU per question on the ten regulations (541 vectors), most of it in
crossing into its Rust bindings; one matrix-vector product over the same vectors costs ~0.05 ms, and gives the exact
neighbours rather than approximate ones. Above a few tens of thousands of vectors the product costs more than the
graph search (1 ms at 20,000 and 3.5 ms at 50,000 vectors of 384 dimensions, measured on this machine), so the
vector store uses this only up to `LVZHI_EXACT_DENSE_MAX` vectors.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class ExactCosine:
    """The vectors of a collection as unit rows of one float32 matrix, searched exactly.

    `ids[i]` names row i of `vectors` (n × d, any float type); a zero vector stays zero (similarity 0 to all)."""

    def __init__(self, ids: Sequence[str], vectors) -> None:
        matrix = (
            np.asarray(vectors, dtype=np.float32).reshape(len(ids), -1)
            if len(ids)
            else np.zeros((0, 1), np.float32)
        )
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        self.ids = list(ids)
        self.matrix = matrix / norms

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, vector: Sequence[float], k: int) -> list[tuple[str, float]]:
        """The k rows nearest to `vector` as (id, cosine similarity in [-1, 1]), best first; [] when k <= 0 or there
        are no rows. Equal similarities are listed lower row first, but of rows tied at the k-th place any may be
        the one kept."""
        n = len(self.ids)
        k = min(k, n)
        if k <= 0:
            return []
        query = np.asarray(vector, dtype=np.float32)
        norm = float(np.linalg.norm(query))
        if norm:
            query = query / norm
        sims = self.matrix @ query
        top = np.argpartition(-sims, k - 1)[:k] if k < n else np.arange(n)
        order = top[np.lexsort((top, -sims[top]))]
        return [(self.ids[i], float(sims[i])) for i in order]
