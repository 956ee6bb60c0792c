"""benchmarks/compare_baselines.py on a tiny corpus: three rows per question set, figures checked by hand."""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from bot.answering.evaluation import EvalItem
from bot.knowledge.loaders import load_document

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "compare_baselines.py"

PARKING = (
    "城区停车办法\n第一条 为了规范停车秩序，制定本办法。\n第二条 夜间停车免费，白天停车每小时收费五元。\n"
)
LIBRARY = "图书馆借阅规定\n第一条 读者凭借阅证借书。\n第二条 每次最多借阅十本图书，借期三十天。\n"
ELDERLY = "养老服务指引\n第一条 老人可以申请助餐服务。\n第二条 高龄津贴每月发放一次。\n"

ITEMS = [
    EvalItem("T1", "白天停车每小时收费多少？", ["白天停车每小时收费五元"]),
    EvalItem("T2", "每次最多借阅几本图书？", ["每次最多借阅十本图书"]),
    # Worded only with the library document's words, but the gold phrase is in the elderly-care document: a
    # keyword ranker must put the library passage first, a miss at rank 1.
    EvalItem("T3", "读者凭借阅证借书吗？", ["老人可以申请助餐服务"]),
    EvalItem("T4", "今天天气怎么样？", []),
]


@pytest.fixture(scope="module")
def compare():
    """The script loaded as a module."""
    spec = importlib.util.spec_from_file_location("compare_baselines", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_run(compare, tmp_path_factory):
    """compare_corpus over three one-chunk documents and the four questions (one pass)."""
    root = tmp_path_factory.mktemp("baselines")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in [("停车.txt", PARKING), ("图书.txt", LIBRARY), ("养老.txt", ELDERLY)]:
        (corpus / name).write_text(text, encoding="utf-8")
    (corpus / "SOURCES.md").write_text("# 来源\n这是说明文件，不参加比较。\n", encoding="utf-8")
    rows, systems = compare.compare_corpus(corpus, {"tiny": ITEMS}, root / "work", runs=2)
    return corpus, root / "work", rows, systems


def test_three_rows_with_the_hand_computed_recipe_figures(compare, tiny_run):
    corpus, _, rows, systems = tiny_run
    assert [r.system for r in rows] == [compare.PRODUCT, compare.DENSE, compare.BM25]
    assert all(r.question_set == "tiny" for r in rows)
    product, dense, bm25 = (r.metrics for r in rows)
    for m in (product, dense, bm25):
        assert (m.answerable, m.unanswerable) == (3, 1)

    # BM25: T1 and T2 share words only with their own document (first), T3 only with the library one (a miss).
    assert bm25.r_at_1 == pytest.approx(2 / 3)
    assert bm25.misses == ["T3"]
    # Each short document is one chunk of each recipe, and a recipe returns all three: every gold is in the top 5.
    assert [s.chunks for s in systems[1:]] == [3, 3]
    assert dense.r_at_5 == 1.0 and bm25.r_at_5 == 1.0
    # The recipe cites its first chunk, the whole (stripped) document: parking, library, library.
    length = {name: len(load_document(corpus / name).text.strip()) for name in ("停车.txt", "图书.txt")}
    assert bm25.mean_cited_chars == pytest.approx((length["停车.txt"] + 2 * length["图书.txt"]) / 3)
    # Recipes never decline.
    assert dense.declined_unanswerable == bm25.declined_unanswerable == 0
    assert dense.false_declines == bm25.false_declines == 0


def test_product_row_agrees_with_lvzhi_eval(tiny_run, tmp_path, capsys):
    from bot.answering.cli import run_eval

    _, workdir, rows, _ = tiny_run
    questions = tmp_path / "tiny.jsonl"
    questions.write_text(
        "\n".join(json.dumps({"id": i.id, "q": i.q, "gold": i.gold}, ensure_ascii=False) for i in ITEMS),
        encoding="utf-8",
    )
    capsys.readouterr()
    args = argparse.Namespace(file=questions, index=workdir / "product", json=True, verbose_items=False)
    assert run_eval(args) == 0
    expected = json.loads(capsys.readouterr().out)
    got = rows[0].metrics
    keys = ("r_at_1", "r_at_5", "mrr_at_10", "declined_unanswerable", "false_declines", "mean_cited_chars")
    for key in keys:
        assert getattr(got, key) == pytest.approx(expected[key]), key


def test_markdown_table_has_one_line_per_row_and_na_for_recipes(compare, tiny_run):
    _, _, rows, _ = tiny_run
    lines = compare.markdown_table(rows).splitlines()
    assert lines[0].startswith("| questions | system |") and set(lines[1]) <= set("|-")
    body = lines[2:]
    assert len(body) == 3
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in body]
    assert [c[1] for c in cells] == [compare.PRODUCT, compare.DENSE, compare.BM25]
    assert cells[2][3] == "0.67"  # the BM25 recipe's R@1
    assert cells[1][6:8] == cells[2][6:8] == ["n/a", "n/a"]
    assert "n/a" not in cells[0]
    assert all(len(c) == len(lines[0].strip("|").split("|")) for c in cells)
