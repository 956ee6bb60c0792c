"""Knowledge-base benchmark: seeds (cold ingest, dev-set metrics, query latency) and a synthetic 100k-chunk corpus.

    python benchmarks/bench_knowledge.py seeds [--runs 3]
    python benchmarks/bench_knowledge.py scale [--chunks 100000] [--dense]

Prints figures; it asserts nothing. Run on an otherwise idle machine and quote medians.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LVZHI_SHARED_DIR", REPO.parent / "shared"))
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# Ingest waits for the vectors here, so that the cold-ingest figure includes them and the answers use them.
os.environ["LVZHI_VECTORS_IN_BACKGROUND"] = "false"

from bot.answering.evaluation import judge, load_items, percentile, summarize  # noqa: E402
from bot.settings import Settings  # noqa: E402


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bench_seeds(runs: int) -> None:
    """Cold ingest of the seeds in a fresh process, then metrics and latency over the dev set."""
    seeds = SHARED / "corpus" / "seeds"
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as tmp:
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, str(REPO / "ingest.py"), str(seeds), "--index", tmp, "--no-progress"],
                check=True,
                capture_output=True,
            )
            times.append(time.perf_counter() - started)
    print(
        f"cold ingest of {len(list(seeds.glob('*')))} seed files (new process, model load included): "
        f"median {statistics.median(times):.1f} s over {runs} runs {[round(t, 1) for t in times]}"
    )

    from bot.services import build_services

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, index_dir=Path(tmp), data_dir=Path(tmp))
        subprocess.run(
            [sys.executable, str(REPO / "ingest.py"), str(seeds), "--index", tmp, "--no-progress"],
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        answerer = build_services(settings).answerer
        answerer.answer("预热")
        print(f"start-up (open indexes, load tokenizer, first answer): {time.perf_counter() - started:.2f} s")
        items = load_items(SHARED / "eval" / "dev_qa.jsonl")
        metrics = summarize(judge(item, answerer.answer(item.q)) for item in items)
        print(metrics.table())
        latencies = []
        for _ in range(20):
            for item in items:
                latencies.append(answerer.answer(item.q).ms)
        print(
            f"query time over {len(latencies)} answers: p50 {percentile(latencies, 50):.1f} ms, "
            f"p95 {percentile(latencies, 95):.1f} ms"
        )


CITIES = ["青川", "江北", "临湖", "石门", "云台", "北岭", "南溪", "东坪", "西岗", "白沙"]
TOPICS = [
    "养老服务",
    "学前教育",
    "老旧小区改造",
    "河道治理",
    "营商环境",
    "乡村振兴",
    "社区医疗",
    "公共交通",
    "停车管理",
    "垃圾分类",
    "职业教育",
    "文旅融合",
    "数字政协",
    "委员履职",
    "社情民意",
    "提案办理",
]


def seed_sentences() -> list[str]:
    """Sentences of the seed documents (Simplified) to recombine into synthetic documents."""
    from bot.knowledge.chunking import split_sentences
    from bot.knowledge.loaders import load_document
    from bot.textnorm import to_simplified

    sentences = []
    for path in sorted((SHARED / "corpus" / "seeds").glob("*")):
        text = to_simplified(load_document(path).text)
        sentences += [s for s in split_sentences(text.replace("\n", "")) if 12 <= len(s) <= 120]
    return sentences


def write_synthetic_corpus(directory: Path, target_chunks: int, rng: random.Random) -> int:
    """Regulation-like documents (chapters, articles) of recombined sentences; returns the files written."""
    sentences = seed_sentences()
    articles_per_doc = 60
    docs = target_chunks // articles_per_doc + 1
    for d in range(docs):
        city, topic = rng.choice(CITIES), rng.choice(TOPICS)
        lines = [f"{city}市政协关于{topic}的工作办法（合成样本第{d}号）"]
        for a in range(articles_per_doc):
            if a % 10 == 0:
                lines.append(f"第{a // 10 + 1}章 {rng.choice(TOPICS)}")
            body = "".join(rng.sample(sentences, 2))
            lines.append(f"第{a + 1}条 {city}{topic}编号{d}-{a}：{body}")
        (directory / f"doc_{d:05d}.txt").write_text("\n".join(lines), encoding="utf-8")
    return docs


def bench_scale(target_chunks: int, dense: bool) -> None:
    """Ingest throughput, query latency and peak memory on a synthetic corpus."""
    from bot.knowledge.base import KnowledgeBase
    from bot.knowledge.ingest import ingest_paths

    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        corpus.mkdir()
        files = write_synthetic_corpus(corpus, target_chunks, rng)
        settings = Settings(_env_file=None, index_dir=index, data_dir=Path(tmp), dense_index=dense)
        started = time.perf_counter()
        report = ingest_paths([corpus], settings, progress=False)
        seconds = time.perf_counter() - started
        chunks = report.chunks_written
        print(f"synthetic corpus: {files} files, {chunks} chunks, dense index {'on' if dense else 'off'}")
        print(f"ingest: {seconds:.1f} s, {chunks / seconds:.0f} chunks/s; peak RSS {peak_rss_mb():.0f} MB")

        started = time.perf_counter()
        kb = KnowledgeBase.open(settings)
        print(f"open knowledge base ({len(kb)} chunks): {time.perf_counter() - started:.2f} s")
        sample = rng.sample(list(kb.lexical.chunks.values()), 300)
        questions = []
        for chunk in sample:
            words = [w for w in chunk.text.split("：", 1)[-1][:60].split("，") if w]
            questions.append(f"{words[0][:12]}有什么要求？")
        kb.search("预热", 10)
        latencies = []
        for question in questions:
            started = time.perf_counter()
            kb.search(question, 10)
            latencies.append((time.perf_counter() - started) * 1000)
        print(
            f"query over {len(kb)} chunks ({len(latencies)} questions): p50 {percentile(latencies, 50):.1f} ms, "
            f"p95 {percentile(latencies, 95):.1f} ms; peak RSS {peak_rss_mb():.0f} MB"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="what", required=True)
    seeds = sub.add_parser("seeds")
    seeds.add_argument("--runs", type=int, default=3)
    scale = sub.add_parser("scale")
    scale.add_argument("--chunks", type=int, default=100_000)
    scale.add_argument("--dense", action="store_true", help="also embed every chunk (slow on 2 CPU cores)")
    args = parser.parse_args()
    print(
        f"machine: {os.cpu_count()} cores; python {sys.version.split()[0]}; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    if args.what == "seeds":
        bench_seeds(args.runs)
    else:
        bench_scale(args.chunks, args.dense)
    print(json.dumps({"peak_rss_mb": round(peak_rss_mb())}))


if __name__ == "__main__":
    main()
