"""Issue 8's targets over the ten real regulations (../shared/corpus/regulations); prints figures, asserts nothing.

    python benchmarks/bench_regulations.py [--runs 3]

- cold ingest with the default settings, in a new process, until the first question is answered from the index
  (`ingest.py` then `lvzhi ask` in new processes; medians over runs), and a re-ingest of the unchanged files;
- `lvzhi kb check`: articles found and intact, chunks over the limit;
- quotes: every citation of every question of eval/regulations_{tune,check}.jsonl checked to be a verbatim substring of
  its document's extracted text;
- the two question sets' R@1 / R@5 / MRR@10 and declines.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LVZHI_SHARED_DIR", REPO.parent / "shared"))
REGULATIONS = SHARED / "corpus" / "regulations"
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def _run(*args: str) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], check=True, capture_output=True)
    return time.perf_counter() - started


def bench_ingest(runs: int) -> None:
    """Cold ingest until answered, and re-ingest of unchanged files, each in new processes."""
    cold, again = [], []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            ingest = _run(str(REPO / "ingest.py"), str(REGULATIONS), "--index", tmp, "--no-progress")
            ask = _run("-m", "bot.cli", "ask", "--index", tmp, "信访事项应当在多少日内办结？")
            cold.append(ingest + ask)
            again.append(_run(str(REPO / "ingest.py"), str(REGULATIONS), "--index", tmp, "--no-progress"))
    print(f"cold ingest + first answer: median {statistics.median(cold):.1f} s {[round(t, 1) for t in cold]}")
    print(
        f"re-ingest of unchanged files: median {statistics.median(again):.1f} s {[round(t, 1) for t in again]}"
    )


def bench_quality() -> None:
    """kb check, verbatim quotes and the question sets' figures over one index."""
    from bot.answering.evaluation import judge, load_items, summarize
    from bot.knowledge.coverage import check_index
    from bot.knowledge.ingest import ingest_paths
    from bot.knowledge.loaders import load_document
    from bot.services import build_services
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(index_dir=Path(tmp), data_dir=Path(tmp))
        ingest_paths([REGULATIONS], settings, progress=False)
        results = check_index(Path(tmp))
        articles = sum(len(r.articles) for r in results)
        broken = sum(len(r.not_intact) for r in results)
        oversize = sum(len(r.oversize) for r in results)
        print(
            f"kb check: {len(results)} documents, {articles} articles, {broken} not intact, {oversize} chunks over limit"
        )
        services = build_services(settings)
        texts = {r.doc_id: load_document(Path(r.source), doc_id=r.doc_id).text for r in results}
        longest = max(len(c.text) for c in services.knowledge.lexical.chunks.values())
        quotes = not_verbatim = 0
        for name in ("regulations_tune", "regulations_check"):
            items = load_items(REPO / "eval" / f"{name}.jsonl")
            judged = []
            for item in items:
                answer = services.answerer.answer(item.q)
                judged.append(judge(item, answer))
                for citation in answer.citations:
                    quotes += 1
                    not_verbatim += citation.quote not in texts[citation.doc]
            m = summarize(judged)
            print(
                f"{name}: R@1 {m.r_at_1:.3f}  R@5 {m.r_at_5:.3f}  MRR@10 {m.mrr_at_10:.3f}  "
                f"unanswerable declined {m.declined_unanswerable}/{m.unanswerable}  "
                f"answerable declined {m.false_declines}/{m.answerable}"
            )
        print(f"quotes: {quotes}, not verbatim: {not_verbatim}; longest chunk {longest} characters")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}"
    )
    bench_ingest(args.runs)
    bench_quality()


if __name__ == "__main__":
    main()
