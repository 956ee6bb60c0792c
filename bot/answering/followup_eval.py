"""Measure follow-up rewriting: R@k of the second turn of two-turn conversations, with and without rewriting."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.answering.followup import Turn, rule_rewrite
from bot.textnorm import eval_normalize

DEFAULT_FILE = Path(__file__).resolve().parent.parent.parent / "eval" / "followup_dev.jsonl"


@dataclass
class Result:
    """R@k per strategy, and the queries each strategy sent (for inspection)."""

    k: int
    n: int
    recall: dict[str, float] = field(default_factory=dict)  # R@k
    recall_at_1: dict[str, float] = field(default_factory=dict)
    mrr: dict[str, float] = field(default_factory=dict)  # MRR@k
    queries: dict[str, list[str]] = field(default_factory=dict)


def load(path: Path | None = None) -> list[dict]:
    """The conversations of a follow-up dev file: {"id", "turns": [q1, q2], "gold": [...]}."""
    path = path or DEFAULT_FILE
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def hit(passages: list[Any], gold: list[str]) -> bool:
    """True when any gold phrase is in any passage (after evaluation normalisation)."""
    golds = [eval_normalize(g) for g in gold]
    return any(g in eval_normalize(p.text) for p in passages for g in golds)


def evaluate(knowledge: Any, items: list[dict], k: int = 5, llm: Any = None) -> Result:
    """R@k of the second turn: as asked, rule-rewritten, LLM-condensed (when llm is given), and the gold standalone."""
    strategies: dict[str, list[str]] = {"none": [], "rules": [], "oracle": []}
    if llm is not None:
        strategies["llm"] = []
    for item in items:
        first, second = item["turns"][0], item["turns"][1]
        history = [Turn(question=first)]
        strategies["none"].append(second)
        strategies["rules"].append(rule_rewrite(second, history))
        strategies["oracle"].append(item.get("standalone") or second)
        if llm is not None:
            strategies["llm"].append(asyncio.run(llm.condense(second, history))[0])
    result = Result(k=k, n=len(items), queries=strategies)
    n = max(1, len(items))
    for name, queries in strategies.items():
        ranks = [
            first_hit(knowledge.search(q, k=k)[:k], item["gold"])
            for q, item in zip(queries, items, strict=True)
        ]
        result.recall[name] = sum(r is not None for r in ranks) / n
        result.recall_at_1[name] = sum(r == 1 for r in ranks) / n
        result.mrr[name] = sum(1 / r for r in ranks if r is not None) / n
    return result


def first_hit(passages: list[Any], gold: list[str]) -> int | None:
    """1-based rank of the first passage that hits, or None."""
    for rank, p in enumerate(passages, start=1):
        if hit([p], gold):
            return rank
    return None
