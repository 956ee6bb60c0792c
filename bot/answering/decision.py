"""Whether to answer: one calibrated rule over every signal of a retrieval (issue 9).

Signals, each 0..1: the lexical evidence (BM25 share of the question's ceiling combined with absolute strength), the
coverage of the question's words by the best passage (idf-weighted) and of its character bigrams, whether the passage
has the shape of the answer the question asks for (a count, a duration, a definition), and the scope penalty (another
place's or body's rule). A logistic model over them (coefficients in data/decline_model.json, fitted by
benchmarks/fit_decline.py on labelled questions and checked on held-out ones) gives the confidence that the best
passage answers; below the model's threshold the assistant declines.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from bot.knowledge.analysis import BIGRAM_PREFIX, analyze
from bot.knowledge.retrieval import answer_type_bonus, asked_answer_types

MODEL_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "data" / "decline_model.json"
FEATURES = ("log_evidence", "coverage", "bigram_coverage", "type_match", "type_miss", "log_penalty")
DENSE_FEATURES = (*FEATURES, "dense_top", "dense_margin")  # when the dense index is in use


@dataclass
class Decision:
    """The decision for one question: answer or not, how confident, and the signals behind it."""

    answer: bool
    confidence: float  # 0..1, the model's probability that the best passage answers the question
    signals: dict[str, float] = field(default_factory=dict)
    why: str = ""  # the strongest reason, for `lvzhi ask --json` and the logs


def signals(
    question: str,
    terms: dict[str, float],
    idf,
    evidence: float,
    penalty: float,
    passage,
    cosines: dict[str, float] | None = None,
    present_terms: Callable[[Any, Iterable[str]], set[str] | None] | None = None,
) -> dict:
    """The decision's inputs for the best passage (None when there is none); terms are the question's own terms.

    With the dense candidates' cosines, two more: the best passage's cosine (the lowest candidate's when it is not
    among them) and its margin over the candidates' mean. `present_terms(passage, terms)`: which of the terms the
    passage's title, section path and text have, as the index stored them at ingest (None: not known there, and
    they are analysed here, as `analyze_chunk` does).
    """
    dense = {}
    if cosines:
        floor = min(cosines.values())
        top = cosines.get(passage.chunk_id, floor) if passage is not None else floor
        dense = {"dense_top": top, "dense_margin": top - sum(cosines.values()) / len(cosines)}
    if passage is None:
        return dict.fromkeys(FEATURES, 0.0) | {"evidence": 0.0} | dense
    present = present_terms(passage, terms) if present_terms is not None else None
    if present is None:
        present = set(analyze(f"{passage.title}\n{passage.section}\n{passage.text}"))
    words = {t: max(idf(t), 0.1) for t in terms if not t.startswith(BIGRAM_PREFIX)}
    grams = [t for t in terms if t.startswith(BIGRAM_PREFIX)]
    coverage = sum(w for t, w in words.items() if t in present) / sum(words.values()) if words else 0.0
    bigram_coverage = sum(t in present for t in grams) / len(grams) if grams else 0.0
    asked = asked_answer_types(question)
    matched = answer_type_bonus(question, passage.text) > 0
    return {
        "evidence": evidence,
        "log_evidence": math.log(max(evidence, 1e-3)),
        "coverage": coverage,
        "bigram_coverage": bigram_coverage,
        "type_match": float(bool(asked) and matched),
        "type_miss": float(bool(asked) and not matched),
        "log_penalty": math.log(max(penalty, 1e-3)),
        **dense,
    }


@lru_cache(maxsize=1)
def load_models(path: Path = MODEL_FILE) -> dict:
    """The fitted models, "lexical" and "dense": each {"weights": {feature: w}, "bias": b, "threshold": t}."""
    return json.loads(path.read_text(encoding="utf-8"))


def model_for(values: dict) -> dict:
    """The dense model when the signals have the dense features, else the lexical one."""
    models = load_models()
    return models["dense"] if "dense_top" in values and "dense" in models else models["lexical"]


_WHY = {
    "log_evidence": "文档中与问题相关的词很少",
    "coverage": "最相关的段落没有覆盖问题的关键词",
    "bigram_coverage": "最相关的段落与问题的字面重合很少",
    "type_miss": "段落中没有问题所问的数量或时间",
    "log_penalty": "相关规定属于其他地方或其他机关",
    "dense_top": "最相关的段落与问题的意思相距较远",
    "dense_margin": "最相关的段落与问题的意思相距较远",
}


def decide(values: dict, model: dict | None = None, threshold: float | None = None) -> Decision:
    """Answer when the model's probability reaches its threshold (or the given one)."""
    model = model or model_for(values)
    weights = model["weights"]
    contributions = {f: weights.get(f, 0.0) * values.get(f, 0.0) for f in weights}
    z = model["bias"] + sum(contributions.values())
    confidence = 1.0 / (1.0 + math.exp(-z))
    cut = model["threshold"] if threshold is None else threshold
    answer = confidence >= cut
    weakest = min(
        (f for f in contributions if f in _WHY), key=lambda f: contributions[f], default="log_evidence"
    )
    why = "证据充分" if answer else _WHY[weakest]
    return Decision(answer, confidence, dict(values), why)


def feature_row(values: dict, features: tuple[str, ...] = FEATURES) -> list[float]:
    """The feature vector of a signals dict, in the given order."""
    return [float(values.get(f, 0.0)) for f in features]
