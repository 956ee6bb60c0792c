"""Evaluation metrics of ../shared/eval/README.md over answers to a JSONL question set."""

from __future__ import annotations

import json
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.answering.types import Answer
from bot.textnorm import eval_normalize


@dataclass
class EvalItem:
    """One question of an evaluation set."""

    id: str
    q: str
    gold: list[str]


@dataclass
class ItemResult:
    """How one answer did."""

    item: EvalItem
    rank: int | None  # 0-based rank of the first passage that hits, within the first 10
    declined: bool
    cited_lengths: list[int]
    ms: float
    evidence: float


@dataclass
class Metrics:
    """The figures of one evaluation run."""

    answerable: int
    unanswerable: int
    r_at_1: float
    r_at_5: float
    mrr_at_10: float
    decline_rate: float  # over unanswerable items
    declined_unanswerable: int
    false_declines: int  # answerable items declined
    false_decline_rate: float
    mean_cited_chars: float
    p50_ms: float
    p95_ms: float
    misses: list[str] = field(default_factory=list)  # ids of answerable items without a hit at rank 1

    def rows(self) -> list[tuple[str, str]]:
        """(metric, value) rows for a table."""
        return [
            ("answerable / unanswerable", f"{self.answerable} / {self.unanswerable}"),
            ("R@1", f"{self.r_at_1:.3f}"),
            ("R@5", f"{self.r_at_5:.3f}"),
            ("MRR@10", f"{self.mrr_at_10:.3f}"),
            (
                "declined (unanswerable)",
                f"{self.declined_unanswerable}/{self.unanswerable} ({self.decline_rate:.2f})",
            ),
            (
                "false declines (answerable)",
                f"{self.false_declines}/{self.answerable} ({self.false_decline_rate:.2f})",
            ),
            ("mean cited passage (chars)", f"{self.mean_cited_chars:.1f}"),
            ("time p50 / p95 (ms)", f"{self.p50_ms:.1f} / {self.p95_ms:.1f}"),
        ]

    def table(self) -> str:
        """A plain-text table."""
        width = max(len(name) for name, _ in self.rows())
        lines = [f"{'metric'.ljust(width)}  value", f"{'-' * width}  -----"]
        lines += [f"{name.ljust(width)}  {value}" for name, value in self.rows()]
        if self.misses:
            lines.append(f"{'not first'.ljust(width)}  {', '.join(self.misses)}")
        return "\n".join(lines)


def load_items(path: Path) -> list[EvalItem]:
    """Read a JSONL question set ({"id", "q", "gold"})."""
    items = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            items.append(EvalItem(str(row.get("id", len(items))), row["q"], list(row.get("gold", []))))
    return items


def hit(text: str, gold: list[str]) -> bool:
    """A passage hits when a normalised gold phrase is a substring of its normalised text."""
    norm = eval_normalize(text)
    return any(g and eval_normalize(g) in norm for g in gold)


def judge(item: EvalItem, answer: Answer) -> ItemResult:
    """Score one answer against its item."""
    rank = next((i for i, p in enumerate(answer.passages[:10]) if hit(p.text, item.gold)), None)
    cited = [len(c.text) for c in answer.citations]
    return ItemResult(item, rank, answer.declined, cited, answer.ms, float(answer.meta.get("evidence", 0.0)))


def percentile(values: list[float], pct: float) -> float:
    """Nearest-rank percentile (0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def summarize(results: Iterable[ItemResult]) -> Metrics:
    """Aggregate item results into the metrics."""
    results = list(results)
    ans = [r for r in results if r.item.gold]
    una = [r for r in results if not r.item.gold]
    n = max(len(ans), 1)
    cited = [length for r in ans if not r.declined for length in r.cited_lengths]
    times = [r.ms for r in results]
    declined_una = sum(r.declined for r in una)
    false_declines = sum(r.declined for r in ans)
    return Metrics(
        answerable=len(ans),
        unanswerable=len(una),
        r_at_1=sum(r.rank == 0 for r in ans) / n,
        r_at_5=sum(r.rank is not None and r.rank < 5 for r in ans) / n,
        mrr_at_10=sum(1 / (r.rank + 1) for r in ans if r.rank is not None) / n,
        decline_rate=declined_una / max(len(una), 1),
        declined_unanswerable=declined_una,
        false_declines=false_declines,
        false_decline_rate=false_declines / n,
        mean_cited_chars=statistics.fmean(cited) if cited else 0.0,
        p50_ms=percentile(times, 50),
        p95_ms=percentile(times, 95),
        misses=[r.item.id for r in ans if r.rank != 0],
    )
