"""Fusing the lexical and the dense candidate lists into one score per chunk.

Both functions take the candidate lists best first — lexical as (chunk_id, BM25 score > 0), dense as
(chunk_id, cosine similarity) — and return {chunk_id: fused score} on the scale of the lexical-only ranking (at most 1,
reached by the best lexical match alone), so the answer-type bonus added afterwards weighs the same with or without
dense vectors.

Dense influence is bounded by `weight`: a passage that only the dense model likes can never pass a lexical match
stronger than it by more than `weight` (in units of the best BM25), however confident the model is. Raw cosines are
not used: each model has its own range (multilingual-e5 puts almost every pair between 0.7 and 0.9), so "w × cosine"
added an almost constant offset that favoured whatever the model returned over lexical matches it missed.
"""

from __future__ import annotations

from collections.abc import Sequence

RRF_K = 60  # the constant of reciprocal rank fusion (Cormack, Clarke & Büttcher, SIGIR 2009)


def minmax_fusion(
    lexical: Sequence[tuple[str, float]], dense: Sequence[tuple[str, float]], weight: float
) -> dict[str, float]:
    """(BM25 / best BM25 + weight × cosine min-max normalised within the dense candidates) / (1 + weight).

    BM25 has a natural zero (no shared term), so it is only divided by the best score. Cosine has none, so the
    dense candidates are spread over 0..1 between the worst and the best of them (0 for a passage not among them);
    equal cosines carry no ranking information and add nothing. Dividing by 1 + weight keeps the sum within 0..1, the
    scale on which the answer-type bonus (added afterwards) was tuned, so the bonus keeps its say.
    """
    scores: dict[str, float] = {}
    if lexical and lexical[0][1] > 0:
        top = lexical[0][1]
        scores = {cid: score / top for cid, score in lexical}
    sims = [sim for _, sim in dense]
    if weight <= 0 or not sims or max(sims) - min(sims) <= 1e-9:
        return scores
    low, span = min(sims), max(sims) - min(sims)
    for cid in scores:
        scores[cid] /= 1.0 + weight
    for cid, sim in dense:
        scores[cid] = scores.get(cid, 0.0) + weight / (1.0 + weight) * (sim - low) / span
    return scores


def rrf_fusion(
    lexical: Sequence[tuple[str, float]], dense: Sequence[tuple[str, float]], weight: float, k: int = RRF_K
) -> dict[str, float]:
    """Weighted reciprocal rank fusion: (k + 1) × (1 / (k + lexical rank) + weight / (k + dense rank)), ranks from 1.

    Scaled by k + 1 so that the best lexical match alone scores 1. Scores are ignored, only ranks count.
    """
    scores: dict[str, float] = {}
    for rank, (cid, _) in enumerate(lexical, start=1):
        scores[cid] = (k + 1) / (k + rank)
    if weight > 0:
        for rank, (cid, _) in enumerate(dense, start=1):
            scores[cid] = scores.get(cid, 0.0) + weight * (k + 1) / (k + rank)
    return scores


FUSIONS = {"minmax": minmax_fusion, "rrf": rrf_fusion}
