"""The shared ingest cases (../shared/cases/ingest): every knowledge case is ingested and asked as the README says.

Each case runs on a new, empty index with the dense index off, through the real ingest and the real extractive
answerer, and checks the JSON fields of `lvzhi ask --json` (answer, declined, citations) with the checks of
expectations.json.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SHARED_DIR

from bot.textnorm import han_count, to_simplified, to_traditional

CASES_DIR = SHARED_DIR / "cases" / "ingest"
_WS = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]+")


def _cases(kind: str) -> list[dict]:
    data = json.loads((CASES_DIR / "expectations.json").read_text(encoding="utf-8"))
    return [case for case in data["cases"] if case["kind"] == kind]


def _squash(text: str) -> str:
    return _WS.sub("", text)


def _ask_all(tmp_path: Path, case: dict, paths: list[str], exclude: tuple[str, ...] = ()) -> dict[str, dict]:
    """Ingest the case's paths (minus exclude) into a new index and answer every question; {question id: JSON}."""
    import shutil

    from bot.knowledge.ingest import ingest_paths
    from bot.services import build_services
    from bot.settings import Settings

    folder = CASES_DIR / case["id"]
    if exclude:  # a copy of the inputs without the excluded files
        copy = tmp_path / "inputs"
        for rel in paths:
            shutil.copytree(folder / rel, copy / rel) if (folder / rel).is_dir() else None
        for rel in exclude:
            (copy / rel).unlink()
        folder = copy
    settings = Settings(
        _env_file=None, data_dir=tmp_path / "data", index_dir=tmp_path / "index", dense_index=False
    )
    report = ingest_paths([folder / rel for rel in paths], settings, progress=False)
    assert report.ok, report.summary_zh()
    answerer = build_services(settings).answerer
    return {q["id"]: answerer.answer(q["q"]).to_json() for q in case["questions"]}


def _own_words(result: dict) -> str:
    """What is left of the answer after taking out the document's own text, titles and section paths."""
    rest = result["answer"]
    for citation in result["citations"]:
        for piece in (citation["text"], citation["title"], citation["section"]):
            rest = rest.replace(piece, "")
        for line in citation["text"].split("\n"):
            rest = rest.replace(line, "")
    return rest


def check(expect: dict, result: dict, baseline: dict | None = None) -> list[str]:
    """The failed checks of one question (the vocabulary of cases/ingest/README.md); [] when all hold."""
    failures = []
    answer, citations = _squash(result["answer"]), result["citations"]
    first = citations[0] if citations else {"title": None, "section": "", "text": ""}
    if "answered" in expect and expect["answered"] != (not result["declined"] and bool(citations)):
        failures.append(f"answered should be {expect['answered']}")
    for phrase in expect.get("contains", []):
        if _squash(phrase) not in answer:
            failures.append(f"answer lacks {phrase}")
    for phrase in expect.get("excludes", []):
        if _squash(phrase) in answer:
            failures.append(f"answer has {phrase}")
    for phrase, n in expect.get("count", {}).items():
        if answer.count(_squash(phrase)) != n:
            failures.append(f"{phrase} occurs {answer.count(_squash(phrase))} times, not {n}")
    if "title" in expect and (
        first["title"] != expect["title"] or f"《{expect['title']}》" not in result["answer"]
    ):
        failures.append(f"title {first['title']} is not {expect['title']}")
    if "section" in expect and first["section"] != expect["section"]:
        failures.append(f"section {first['section']!r} is not {expect['section']!r}")
    if "section_endswith" in expect and not first["section"].endswith(expect["section_endswith"]):
        failures.append(f"section {first['section']!r} does not end with {expect['section_endswith']}")
    for phrase in expect.get("section_excludes", []):
        if phrase in first["section"]:
            failures.append(f"section has {phrase}")
    for phrase in expect.get("first_citation_excludes", []):
        if phrase in first["text"]:
            failures.append(f"first passage has {phrase}")
    if expect.get("unique_citations") and len({c["text"] for c in citations}) != len(citations):
        failures.append("two citations quote the same passage")
    if "own_words" in expect:
        rest = _own_words(result)
        convert = to_traditional if expect["own_words"] == "traditional" else to_simplified
        if not han_count(rest) or convert(rest) != rest:
            failures.append(f"own words not {expect['own_words']}: {rest!r}")
    if expect.get("same_as_baseline") and baseline is not None:
        mine = (result["declined"], [(c["title"], c["section"], c["text"]) for c in citations[:1]])
        base = (
            baseline["declined"],
            [(c["title"], c["section"], c["text"]) for c in baseline["citations"][:1]],
        )
        if mine != base:
            failures.append(f"differs from the baseline: {mine} vs {base}")
    return failures


@pytest.mark.parametrize("case", _cases("knowledge"), ids=lambda case: case["id"])
def test_knowledge_case(case: dict, tmp_path: Path) -> None:
    results = _ask_all(tmp_path / "case", case, case["ingest"])
    baseline = None
    if "baseline" in case:
        baseline = _ask_all(
            tmp_path / "baseline", case, case["baseline"]["ingest"], tuple(case["baseline"]["exclude"])
        )
    failures = {}
    for question in case["questions"]:
        failed = check(question["expect"], results[question["id"]], (baseline or {}).get(question["id"]))
        if failed:
            failures[f"{question['id']} {question['q']}"] = failed + [results[question["id"]]["answer"]]
    assert not failures, json.dumps(failures, ensure_ascii=False, indent=1)


def test_the_checks_catch_altered_words() -> None:
    """The checker itself fails an answer that converts a quote's script or adds page furniture."""
    result = {
        "answer": "根據知識庫，相關原文如下：\n“二、範某某委員介紹了…”\n——《纪要》 二、",
        "declined": False,
        "citations": [{"title": "纪要", "section": "二、", "text": "二、范某某委员介绍了…"}],
    }
    expect = {"contains": ["二、范某某委员介绍了"], "excludes": ["範"], "own_words": "traditional"}
    assert check(expect, result) == ["answer lacks 二、范某某委员介绍了", "answer has 範"]
