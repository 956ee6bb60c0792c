"""Check the regulation question sets (eval/regulations_*.jsonl) against the documents they quote.

Run from the repository root: ``python eval/validate_sets.py [--shared DIR]``. Exit status 1 when an error is found.

Errors: a missing field, a duplicate id or question, an unknown kind, an answerable item whose ``doc`` is not one of the
ten files in ``<shared>/corpus/regulations``, or whose gold phrase does not occur, after the evaluation normalisation
(``bot.textnorm.eval_normalize``: OpenCC t2s, whitespace, P* and Z* dropped), in the text Lvzhi's own loader
(``bot.knowledge.loaders.load_document``) extracts from that file. Warnings: a normalised gold phrase outside 8–25
characters, or one that also occurs in another document (a passage of that document would count as a hit too).
The rules are those of ``<shared>/eval/README.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.knowledge.loaders import load_document  # noqa: E402
from bot.textnorm import eval_normalize  # noqa: E402

SETS = ("regulations_tune.jsonl", "regulations_check.jsonl")
PREFIX = {"regulations_tune.jsonl": "R-T", "regulations_check.jsonl": "R-C"}
ANSWERABLE_KINDS = {"formal", "colloquial", "traditional", "article", "place_body"}
UNANSWERABLE_KINDS = {"unanswerable_on_topic", "unanswerable_off_topic"}


def load_texts(regulations: Path) -> dict[str, str]:
    """Normalised extracted text of every regulation file, keyed by file name."""
    return {
        path.name: eval_normalize(load_document(path).text)
        for path in sorted(regulations.iterdir())
        if path.suffix.lower() in {".txt", ".md", ".docx", ".pdf", ".html"} and path.name != "SOURCES.md"
    }


def check_sets(eval_dir: Path, texts: dict[str, str]) -> tuple[list[str], list[str], list[dict]]:
    """Validate both sets; returns (errors, warnings, all rows)."""
    errors: list[str] = []
    warnings: list[str] = []
    rows: list[dict] = []
    for name in SETS:
        for number, line in enumerate((eval_dir / name).read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            row = json.loads(line)
            row["_set"] = name
            rows.append(row)
            where = f"{name}:{number} {row.get('id')}"
            missing = {"id", "q", "gold", "doc", "kind"} - row.keys()
            if missing:
                errors.append(f"{where}: missing {sorted(missing)}")
                continue
            if not str(row["id"]).startswith(PREFIX[name]):
                errors.append(f"{where}: id should start with {PREFIX[name]}")
            kind, gold = row["kind"], row["gold"]
            if kind in UNANSWERABLE_KINDS:
                if gold or row["doc"] is not None:
                    errors.append(f"{where}: an unanswerable item has no gold and no doc")
                continue
            if kind not in ANSWERABLE_KINDS or not gold:
                errors.append(f"{where}: kind {kind!r} with gold {gold!r}")
                continue
            docs = row["doc"] if isinstance(row["doc"], list) else [row["doc"]]
            unknown = [doc for doc in docs if doc not in texts]
            if unknown:
                errors.append(f"{where}: unknown document {unknown}")
                continue
            for phrase in gold:
                norm = eval_normalize(phrase)
                if not any(norm in texts[doc] for doc in docs):
                    errors.append(f"{where}: gold 「{phrase}」 not in {docs}")
                if not 8 <= len(norm) <= 25:
                    warnings.append(f"{where}: gold 「{phrase}」 has {len(norm)} characters")
                others = [doc for doc in texts if doc not in docs and norm in texts[doc]]
                if others:
                    warnings.append(f"{where}: gold 「{phrase}」 also in {others}")
    for key in ("id", "q"):
        for value, count in Counter(row.get(key) for row in rows).items():
            if count > 1:
                errors.append(f"{key} {value!r} occurs {count} times across the sets")
    return errors, warnings, rows


def main() -> int:
    """Command line entry: print errors, warnings and counts; 1 when there are errors."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared", help="the shared/ directory")
    args = parser.parse_args()
    texts = load_texts(args.shared / "corpus" / "regulations")
    errors, warnings, rows = check_sets(ROOT / "eval", texts)
    for message in warnings:
        print("warning:", message)
    for message in errors:
        print("ERROR:", message)
    for name in SETS:
        part = [row for row in rows if row["_set"] == name]
        kinds = Counter(row.get("kind") for row in part)
        print(f"{name}: {len(part)} items, " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
