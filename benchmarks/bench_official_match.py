"""Similar-question matching for official answers: precision and recall at thresholds on labelled pairs.

    python benchmarks/bench_official_match.py [--pairs eval/official_answer_pairs.jsonl] [--index DIR] [--json]

Each line of the pairs file is {"id", "a", "b", "same": bool, "split": "dev"|"test"}: `a` is the question an official
answer was written for, `b` a member's question; same = b asks the same thing (a colloquial paraphrase) or not (a
near-miss sharing its words). The score is bot.answering.official.similarity with the idf of the knowledge index at
--index (default: the settings' index; with no index every term weighs 1.0). For thresholds 0.30 … 0.90 the script
prints precision and recall per split, the threshold chosen on dev (the lowest with precision 1.0 on dev, so that a
member never gets another question's answer; recall comes from the variants staff add), and its figures on test.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PAIRS = ROOT / "eval" / "official_answer_pairs.jsonl"
THRESHOLDS = [round(0.30 + 0.02 * i, 2) for i in range(31)]
TARGET_PRECISION = 1.0


def load_pairs(path: Path) -> list[dict]:
    """The labelled pairs: one JSON object per line."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def weights_for(index: Path | None):
    """The term weights of the knowledge index at `index` (the settings' index when None)."""
    from bot.answering.official import TermWeights
    from bot.knowledge.lexical import LexicalIndex
    from bot.settings import Settings

    directory = index if index is not None else Settings().resolved_index_dir / "lexical"
    if index is not None and (index / "lexical").is_dir():
        directory = index / "lexical"
    lexical = LexicalIndex.open(directory)
    return TermWeights(lexical.idf, len(lexical)) if len(lexical) else TermWeights(), len(lexical)


def scored(pairs: list[dict], weight) -> list[tuple[float, bool, str]]:
    """(similarity, same, split) per pair."""
    from bot.answering.official import similarity

    return [(similarity(p["a"], p["b"], weight), bool(p["same"]), p["split"]) for p in pairs]


def precision_recall(rows: list[tuple[float, bool, str]], threshold: float) -> tuple[float, float, int]:
    """Precision, recall and the number of matches at a threshold (precision 1.0 when nothing matches)."""
    hits = [same for score, same, _ in rows if score >= threshold]
    positives = sum(same for _, same, _ in rows)
    tp = sum(hits)
    return (tp / len(hits) if hits else 1.0), (tp / positives if positives else 0.0), len(hits)


def choose(rows: list[tuple[float, bool, str]]) -> float:
    """The lowest threshold whose precision on these rows reaches TARGET_PRECISION."""
    return next(t for t in THRESHOLDS if precision_recall(rows, t)[0] >= TARGET_PRECISION)


def main() -> int:
    """Print the table and the chosen threshold (or one JSON object with --json)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=PAIRS)
    parser.add_argument("--index", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    from bot.answering.official import MATCH_THRESHOLD

    weight, chunks = weights_for(args.index)
    rows = scored(load_pairs(args.pairs), weight)
    dev = [r for r in rows if r[2] == "dev"]
    test = [r for r in rows if r[2] == "test"]
    chosen = choose(dev)
    table = []
    for t in THRESHOLDS:
        dp, dr, _ = precision_recall(dev, t)
        tp, tr, _ = precision_recall(test, t)
        table.append({"threshold": t, "dev_p": dp, "dev_r": dr, "test_p": tp, "test_r": tr})
    tp, tr, _ = precision_recall(test, MATCH_THRESHOLD)
    result = {
        "pairs": len(rows), "dev": len(dev), "test": len(test), "index_chunks": chunks,
        "chosen_on_dev": chosen, "in_use": MATCH_THRESHOLD, "test_precision": tp, "test_recall": tr,
    }  # fmt: skip
    if args.json:
        print(json.dumps({**result, "table": table}, ensure_ascii=False))
        return 0
    print(f"{len(rows)} pairs ({len(dev)} dev, {len(test)} test); idf from an index of {chunks} chunks")
    print("threshold  dev P  dev R  test P  test R")
    for row in table:
        print(f"{row['threshold']:9.2f}  {row['dev_p']:.2f}   {row['dev_r']:.2f}   {row['test_p']:.2f}    "
              f"{row['test_r']:.2f}")  # fmt: skip
    print(f"chosen on dev (precision {TARGET_PRECISION:.0%}): {chosen:.2f}; in use: {MATCH_THRESHOLD:.2f} → "
          f"test precision {tp:.2f}, recall {tr:.2f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
