"""The scoring engine: matching rules, caps, deductions, ordering and determinism."""

from __future__ import annotations

import argparse
import random
from datetime import date
from decimal import Decimal
from pathlib import Path

from bot.records import Activity, load_rules, parse_rules, score
from bot.records import cli as records_cli
from bot.records.render import render_report

ROOT = Path(__file__).resolve().parent.parent
TABLE = load_rules(ROOT / "rules" / "scoring" / "2026.csv")
FIRST = {"role": "第一提案人"}


def cli_main(argv: list[str]) -> int:
    """Run `lvzhi records …` through the module's own parser."""
    parser = argparse.ArgumentParser(prog="lvzhi")
    records_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


def _points(report, rule_id: str) -> list[Decimal]:
    return [line.points for line in report.lines if line.rule_id == rule_id]


def test_accepted_key_proposal_earns_base_and_extra_lines() -> None:
    report = score(
        [Activity("proposal", date(2026, 2, 1), "TA-2026-0001", {**FIRST, "accepted": True, "key": True})],
        TABLE,
    )
    assert [(line.rule_id, line.points) for line in report.lines] == [
        ("TA-01", 2),
        ("TA-03", 3),
        ("TA-05", 5),
    ]
    assert report.total == 10
    assert all(line.reference == "TA-2026-0001" and line.activity_name == "提交提案" for line in report.lines)


def test_co_signers_get_half_as_the_guide_says() -> None:
    report = score(
        [Activity("proposal", date(2026, 2, 1), "TA-1", {"role": "联名", "accepted": "是"})], TABLE
    )
    assert [(line.rule_id, line.points) for line in report.lines] == [("TA-02", 1), ("TA-04", Decimal("1.5"))]


def test_yearly_cap_is_applied_in_date_order_and_explained() -> None:
    micro = [Activity("micro", date(2026, 1, d), f"WJ-{d}") for d in range(28, 0, -3)]  # 10, unsorted
    micro += [Activity("micro", date(2026, 2, d), f"WJ-b{d}") for d in (1, 2)]
    report = score(micro, TABLE)
    lines = [line for line in report.lines if line.rule_id == "WJ-01"]
    assert [line.on for line in lines] == sorted(line.on for line in lines)
    assert [line.points for line in lines] == [Decimal("0.5")] * 10 + [0, 0]
    assert report.total == 5
    assert "已达年度上限 5 分" in lines[-1].note and "每年最多计 5 分" in lines[-1].note


def test_partial_cap_and_quantity() -> None:
    table = parse_rules(
        "# version: t\n# year: 2026\n# effective: 2026-01-01\n规则编号,活动代码,名称,分值,年度上限\n"
        "PX,training,培训（每天）,1,6\n"
    )
    acts = [Activity("training", date(2026, m, 1), "", {}, Decimal(4)) for m in (6, 5)]
    report = score(acts, table)
    assert _points(report, "PX") == [4, 2]
    assert report.lines[1].on == date(2026, 6, 1)
    assert report.lines[1].note == "受年度上限 6 分限制，计 2 分（原 4 分）"


def test_meetings_by_type_and_capped_deductions() -> None:
    plenary = {"meeting_type": "全体会议"}
    absent = [
        Activity("meeting", date(2026, 3, d), f"会议{d}", {**plenary, "attended": False}) for d in range(1, 6)
    ]
    excused = Activity("meeting", date(2026, 4, 1), "请假", {**plenary, "excused": "是"})
    present = Activity("meeting", date(2026, 4, 2), "全会", {**plenary, "attended": True})
    standing = Activity("meeting", date(2026, 4, 3), "常委会", {"meeting_type": "常委会议", "attended": True})
    report = score([*absent, excused, present, standing], TABLE)
    assert _points(report, "HY-03") == [-2, -2, -2, 0, 0]
    assert _points(report, "HY-01") == [2] and _points(report, "HY-02") == [1]
    assert [line.note for line in report.lines if line.reference == "请假"] == [
        "规则表中没有适用的规则，不计分"
    ]
    assert report.total == -6 + 2 + 1


def test_opinion_extras_and_unmatched_activities() -> None:
    report = score(
        [
            Activity("opinion", date(2026, 7, 1), "SQ-1", {"adopted": True, "leader_comment": True}),
            Activity("visit_family", date(2026, 7, 2), "走访"),
        ],
        TABLE,
    )
    assert [line.rule_id for line in report.lines] == ["SQ-01", "SQ-02", "SQ-03", ""]
    assert report.lines[-1].points == 0 and "没有适用的规则" in report.lines[-1].note
    assert report.total == 9


def test_activities_of_other_years_are_counted_but_not_scored() -> None:
    report = score([Activity("speech", date(2025, 12, 31)), Activity("speech", date(2026, 1, 1))], TABLE)
    assert report.total == 3 and report.outside_year == 1


def test_same_input_in_any_order_gives_the_same_report() -> None:
    rng = random.Random(7)
    kinds = ["proposal", "opinion", "micro", "campaign_answer", "meeting", "training", "inspection"]
    acts = [
        Activity(
            rng.choice(kinds),
            date(2026, rng.randint(1, 12), rng.randint(1, 28)),
            f"R{i % 17}",
            {
                "role": rng.choice(["第一提案人", "联名"]),
                "accepted": rng.random() < 0.5,
                "attended": rng.random() < 0.8,
            },
        )
        for i in range(300)
    ]
    first = score(acts, TABLE)
    for _ in range(3):
        rng.shuffle(acts)
        assert score(acts, TABLE) == first
    assert first.total == sum(line.points for line in first.lines)


def test_rendered_report_and_cli(tmp_path: Path, capsys) -> None:
    report = score(
        [Activity("proposal", date(2026, 2, 1), "TA-2026-0001", {**FIRST, "accepted": True})], TABLE
    )
    text = render_report(report)
    assert "2026 年履职积分（规则表版本 2026.1）" in text
    assert "2026-02-01 提交提案 TA-2026-0001：TA-03 提案被立案（第一提案人），3 分" in text and text.endswith(
        "合计：5 分"
    )
    acts = tmp_path / "acts.csv"
    acts.write_text(
        "kind,date,reference,quantity,role,accepted\nproposal,2026-02-01,TA-1,,第一提案人,是\n",
        encoding="utf-8",
    )
    assert cli_main(["records", "score", str(ROOT / "rules/scoring/2026.csv"), str(acts)]) == 0
    assert "合计：5 分" in capsys.readouterr().out
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "# version: 1\n# year: 2026\n# effective: 2026-01-01\n规则编号,活动代码,名称,分值\nA,proposal,x,y\n",
        encoding="utf-8",
    )
    assert cli_main(["records", "check", str(bad)]) == 1
    assert "第 5 行第 4 列（分值）" in capsys.readouterr().out


def test_score_export_rows_stream_into_a_spreadsheet(tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from bot.exports import write_xlsx
    from bot.records.export import HEADER, SUMMARY_HEADER, score_line_rows, score_summary_rows

    acts = [Activity("proposal", date(2026, 2, 1), "=TA-1", {**FIRST, "accepted": True})]
    reports = [("张委员", "经济界", score(acts, TABLE)), ("李委员", "教育界", score([], TABLE))]
    assert write_xlsx(score_line_rows(iter(reports)), tmp_path / "lines.xlsx", HEADER) == 2
    assert write_xlsx(score_summary_rows(iter(reports)), tmp_path / "sum.xlsx", SUMMARY_HEADER) == 2
    lines = list(load_workbook(tmp_path / "lines.xlsx").active.iter_rows(values_only=True))
    assert lines[1][:3] == ("张委员", "经济界", 2026) and lines[1][6] == "=TA-1" and lines[2][9] == 3
    summary = list(load_workbook(tmp_path / "sum.xlsx").active.iter_rows(values_only=True))
    assert summary[1][4] == 5 and summary[2][4] == 0
