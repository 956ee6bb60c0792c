"""Fit the decision rule of bot/answering/decision.py on labelled questions; check it on held-out ones.

    python benchmarks/fit_decline.py --regulations DIR --seeds DIR --sample DIR [--write]

Each DIR is an index of that corpus built with the settings to fit for (ingest with LVZHI_VECTORS_IN_BACKGROUND=false
so that the dense index is complete). Fitted on eval/regulations_tune.jsonl, ../shared/eval/dev_qa.jsonl and
eval/sample_qa.jsonl (answerable = 1, unanswerable = 0); checked on eval/regulations_check.jsonl and
eval/seeds_extra_qa.jsonl. Two logistic models (L2-regularised, scipy L-BFGS): "lexical" without the dense features and
"dense" with them. The threshold of each is just below the lowest answerable training question (FIT_MAX_FALSE_DECLINES=0.0).
--write stores them in bot/knowledge/data/decline_model.json. Prints the figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.optimize import minimize

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LVZHI_SHARED_DIR", REPO.parent / "shared"))
sys.path.insert(0, str(REPO))

from bot.answering.decision import DENSE_FEATURES, FEATURES, MODEL_FILE, feature_row, signals  # noqa: E402
from bot.answering.evaluation import load_items  # noqa: E402

TRAIN = [
    ("regulations", "eval/regulations_tune.jsonl"),
    ("seeds", "dev_qa"),
    ("sample", "eval/sample_qa.jsonl"),
]
CHECK = [("regulations", "eval/regulations_check.jsonl"), ("seeds", "eval/seeds_extra_qa.jsonl")]
MAX_FALSE_DECLINES = float(os.environ.get("FIT_MAX_FALSE_DECLINES", "0.0"))


def _path(name: str) -> Path:
    return SHARED / "eval" / "dev_qa.jsonl" if name == "dev_qa" else REPO / name


def collect(index_dirs: dict[str, Path], sets: list[tuple[str, str]]) -> list[dict]:
    """Signals and labels of every question of the sets, through the real knowledge base."""
    from bot.services import build_services
    from bot.settings import Settings

    rows = []
    for corpus, name in sets:
        kb = build_services(Settings(index_dir=index_dirs[corpus])).knowledge
        for item in load_items(_path(name)):
            result = kb.retrieve(item.q)
            top = result.passages[0] if result.passages else None
            values = signals(
                item.q, result.own, kb.lexical.idf, result.evidence, result.penalty, top, result.cosines
            )
            rows.append(
                {"set": name, "label": 1.0 if item.gold else 0.0, "article": bool(result.article), **values}
            )
    return rows


def fit(rows: list[dict], features: tuple[str, ...]) -> dict:
    """Logistic regression with a small L2 penalty on standardised features, written back in raw units.

    The threshold is the highest that keeps the answerable training questions declined under MAX_FALSE_DECLINES.
    """
    raw = np.array([feature_row(r, features) for r in rows])
    mean, std = raw.mean(axis=0), raw.std(axis=0) + 1e-9
    x = (raw - mean) / std
    y = np.array([r["label"] for r in rows])

    def loss(w: np.ndarray) -> float:
        z = x @ w[1:] + w[0]
        return float(np.mean(np.logaddexp(0, z) - y * z) + 0.01 * np.sum(w[1:] ** 2))

    w = minimize(loss, np.zeros(len(features) + 1), method="L-BFGS-B").x
    weights = w[1:] / std
    bias = w[0] - float(np.sum(weights * mean))
    p = 1 / (1 + np.exp(-(raw @ weights + bias)))
    answerable = np.sort(p[y == 1])
    threshold = float(answerable[int(MAX_FALSE_DECLINES * len(answerable))]) - 1e-3
    return {"weights": dict(zip(features, np.round(weights, 4).tolist(), strict=True)), "bias": round(bias, 4),
            "threshold": round(threshold, 4)}  # fmt: skip


def report(rows: list[dict], model: dict, label: str) -> None:
    """Declines per set under a model (a named article is always answered, as in the answerer)."""
    for name in dict.fromkeys(r["set"] for r in rows):
        sub = [r for r in rows if r["set"] == name]
        z = [model["bias"] + sum(w * r.get(f, 0.0) for f, w in model["weights"].items()) for r in sub]
        declined = [
            1 / (1 + math.exp(-v)) < model["threshold"] and not r["article"]
            for v, r in zip(z, sub, strict=True)
        ]
        unans = [d for d, r in zip(declined, sub, strict=True) if not r["label"]]
        ans = [d for d, r in zip(declined, sub, strict=True) if r["label"]]
        print(f"  {label:8} {name:32} unanswerable declined {sum(unans)}/{len(unans)}  "
              f"answerable declined {sum(ans)}/{len(ans)}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    for corpus in ("regulations", "seeds", "sample"):
        parser.add_argument(f"--{corpus}", type=Path, required=True)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    dirs = {"regulations": args.regulations, "seeds": args.seeds, "sample": args.sample}
    print(
        f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, {time.strftime('%Y-%m-%d')}"
    )
    train, check = collect(dirs, TRAIN), collect(dirs, CHECK)
    models = {"lexical": fit(train, FEATURES)}
    if all("dense_top" in r for r in train):
        models["dense"] = fit(train, DENSE_FEATURES)
    for name, model in models.items():
        print(f"{name}: {json.dumps(model, ensure_ascii=False)}")
        print(" training sets:")
        report(train, model, name)
        print(" held-out sets:")
        report(check, model, name)
    if args.write:
        about = (
            "Logistic decision rules of bot/answering/decision.py: 'dense' when the dense index is in use, else "
            "'lexical'. Written by benchmarks/fit_decline.py."
        )
        fitted_on = [name for _, name in TRAIN]
        MODEL_FILE.write_text(
            json.dumps({"about": about, "fitted_on": fitted_on, **models}, ensure_ascii=False, indent=1)
            + "\n"
        )
        print(f"written to {MODEL_FILE}")


if __name__ == "__main__":
    main()
