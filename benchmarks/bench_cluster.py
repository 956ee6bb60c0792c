"""Benchmark: theme clustering of 5,000 synthetic campaign answers — time and peak memory."""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc

from bot.campaigns.clustering import cluster_answers
from bot.campaigns.sample_answers import THEMES, generate
from bot.knowledge.analysis import warm_up


def main() -> None:
    """Cluster N answers a few times and print median time, peak traced memory and max RSS."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--answers", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    pairs = generate(-(-args.answers // len(THEMES)), seed=1)[: args.answers]
    texts = [text for _, text in pairs]
    warm_up()  # the jieba dictionary load is a one-off cost of the process, not of clustering
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        result = cluster_answers(texts, seed=0)
        times.append(time.perf_counter() - start)
    tracemalloc.start()  # a separate run: tracing slows allocation-heavy code down
    cluster_answers(texts, seed=0)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"answers: {len(texts)}, themes found: {len(result.themes)} (k tried: {[k for k, _ in result.tried]})"
    )
    print(f"time: median {statistics.median(times):.2f} s (runs: {', '.join(f'{t:.2f}' for t in times)})")
    print(f"peak traced memory during clustering: {peak:.1f} MiB; process max RSS {rss:.0f} MiB")
    for theme in result.themes:
        print(f"  {theme.size:5d}  {theme.label}")


if __name__ == "__main__":
    main()
