"""Duty records on SQLite and PostgreSQL: automatic, idempotent recording, manual entries, merge, recomputation."""

from __future__ import annotations

import argparse
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.chat.types import ChatRef, Event
from bot.members.service import identity_for
from bot.records import parse_rules
from bot.records.db_cli import register_db_commands
from bot.records.engine import format_points
from bot.records.models import DutyActivity
from bot.records.recorder import set_mark, sync_all, sync_submission
from bot.records.scores import member_report, rule_table
from bot.settings import Settings
from bot.storage.models import Member, Notification, StatusChange, Submission
from bot.suggestions import service
from bot.suggestions.merge import merge
from bot.suggestions.models import Supporter
from bot.suggestions.status import StatusError, set_status
from bot.suggestions.support import add_supporter

RULES_DIR = Settings(_env_file=None).resolved_rules_dir
PROPOSAL = {"title": "关于加快老旧小区加装电梯的建议", "background": "老旧小区老年人上下楼困难。" * 6,
            "recommendations": "建议简化审批流程并给予财政补贴。" * 2}  # fmt: skip


def member(s, name: str, phone: str):
    m = Member(name=name, sector="经济界", phone=phone)
    s.add(m)
    s.flush()
    ident = identity_for(s, "web", f"u{phone}", f"c{phone}", name)
    ident.member_id = m.id
    return m, ident


def submit(s, ident, type_key="proposal", fields=None):
    return service.submit(s, ident, type_key, {"fields": dict(fields or PROPOSAL), "category": "其他"})


def lines(s, member_id: int, year: int) -> list[tuple[str, str, str]]:
    report = member_report(s, member_id, rule_table(RULES_DIR, year))
    return [(ln.reference, ln.rule_id, format_points(ln.points)) for ln in report.lines]


def test_submission_and_acceptance_are_recorded_once(database):
    with database.session() as s:
        m, ident = member(s, "张三", "1")
        item = submit(s, ident)
        year = item.created_at.year
        set_status(s, item.receipt_no, "reviewing")
        set_status(s, item.receipt_no, "accepted")
        for _ in range(3):  # a repair or a repeated hook changes nothing
            sync_submission(s, item)
        sync_all(s)
        assert s.scalar(select(func.count()).select_from(DutyActivity)) == 1
        assert lines(s, m.id, year) == [(item.receipt_no, "TA-01", "2"), (item.receipt_no, "TA-03", "3")]
        with pytest.raises(StatusError):  # a repeated status change is refused and adds nothing
            set_status(s, item.receipt_no, "accepted")
        set_mark(s, item, "key")
        assert [r for _, r, _ in lines(s, m.id, year)] == ["TA-01", "TA-03", "TA-05"]
        op = submit(s, ident, "opinion", {"title": "农村客运班线减少影响出行", "situation": "多个乡镇反映客运班线减少。" * 3, "suggestion": "建议恢复早晚两班客运。"})  # fmt: skip
        set_status(s, op.receipt_no, "reviewing")
        set_status(s, op.receipt_no, "adopted")
        camp = submit(s, ident, "campaign", {"content": "建议打造山地运动品牌赛事。"})
        got = {(ref, rule) for ref, rule, _ in lines(s, m.id, year)}
        assert {(op.receipt_no, "SQ-01"), (op.receipt_no, "SQ-02"), (camp.receipt_no, "ZJ-01")} <= got


def test_redelivered_update_does_not_double_count(database, tmp_path):
    from bot.chat.assistant import Assistant

    with database.session() as s:
        m, ident = member(s, "李四", "2")
    assistant = Assistant(database, answerer=None, rules_dir=RULES_DIR)
    ref = ChatRef("web", ident.chat_id, ident.external_id, "李四")
    for i, data in enumerate(["f:t:micro", "f:c:0", "f:k"]):
        if i == 0:
            assistant.handle(ref, Event("command", "suggest", update_key="k0"))
        assistant.handle(ref, Event("press", data, update_key=f"p{i}"))
    assistant.handle(ref, Event("text", "建议在地铁站增加无障碍电梯，方便老人出行。", update_key="t1"))
    assistant.handle(ref, Event("press", "f:d", update_key="d1"))
    first = assistant.handle(ref, Event("press", "f:s", update_key="s1"))
    assert assistant.handle(ref, Event("press", "f:s", update_key="s1")) == []  # the same update again
    assert "提交成功" in first[0].html
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 1
        assert s.scalar(select(func.count()).select_from(DutyActivity)) == 1
    record = assistant.handle(ref, Event("command", "record", update_key="r1"))
    assert (
        "WJ-01" in record[0].html and "合计：<b>" not in record[0].html and "合计：0.5 分" in record[-1].html
    )


def test_cosigner_supporters_and_merge(database):
    with database.session() as s:
        a, ia = member(s, "张三", "1")
        b, ib = member(s, "李四", "2")
        c, ic = member(s, "王五", "3")
        keep = submit(s, ia)
        dup = submit(s, ib, fields={**PROPOSAL, "title": "关于老旧小区增设电梯的建议"})
        year = keep.created_at.year
        assert add_supporter(s, ic, dup) == "ok"
        assert add_supporter(s, ic, dup) == "already"
        assert add_supporter(s, ib, dup) == "own"
        assert lines(s, c.id, year) == [(dup.receipt_no, "TA-02", "1")]  # a 联名人 of the proposal
        merge(s, dup.receipt_no, keep.receipt_no, actor="staff-1")
        assert s.get(Submission, dup.id).status == "merged"
        assert s.get(Submission, dup.id).fields["title"] == "关于老旧小区增设电梯的建议"  # both texts kept
        last = s.scalars(select(StatusChange).where(StatusChange.submission_id == dup.id).order_by(StatusChange.id.desc())).first()  # fmt: skip
        assert (last.to_status, last.reason.startswith(f"并入 {keep.receipt_no}")) == ("merged", True)
        sup = s.scalars(select(Supporter)).one()
        assert (sup.submission_id, sup.moved_from_id, sup.member_id) == (keep.id, dup.id, c.id)
        note = s.scalars(select(Notification).where(Notification.identity_id == ib.id)).all()[-1]
        assert keep.receipt_no in note.html and "已并案" in note.html
        set_status(s, keep.receipt_no, "reviewing")
        set_status(s, keep.receipt_no, "accepted")
        assert lines(s, c.id, year) == [(keep.receipt_no, "TA-02", "1"), (keep.receipt_no, "TA-04", "1.5")]
        assert lines(s, b.id, year) == [
            (dup.receipt_no, "TA-01", "2")
        ]  # the duplicate's author keeps the submission
        with pytest.raises(StatusError, match="已经并案"):
            merge(s, dup.receipt_no, keep.receipt_no)
        with pytest.raises(StatusError, match="本身已并案"):
            merge(s, keep.receipt_no, dup.receipt_no)
        assert add_supporter(s, ia, dup) == "closed"


def test_rule_change_recomputes_the_same_every_time(database):
    with database.session() as s:
        m, ident = member(s, "赵六", "4")
        for _ in range(12):
            submit(s, ident, "micro", {"content": "建议在地铁站增加无障碍电梯，方便老人出行。"})
        year = s.scalars(select(Submission)).first().created_at.year
        first = lines(s, m.id, year)
        assert [p for *_, p in first].count("0") == 2 and sum(float(p) for *_, p in first) == 5  # the cap
        text = rule_table(RULES_DIR, year).source
        raw = (
            (RULES_DIR / text)
            .read_text(encoding="utf-8")
            .replace("WJ-01,micro,提交微建议（示例补充项）,0.5,5", "WJ-01,micro,提交微建议（示例补充项）,1,8")
        )
        changed = parse_rules(raw)
        results = {tuple(map(str, (r.total, [(ln.rule_id, ln.points, ln.note) for ln in r.lines]))) for r in (member_report(s, m.id, changed) for _ in range(5))}  # fmt: skip
        assert len(results) == 1 and member_report(s, m.id, changed).total == 8
        assert lines(s, m.id, year) == first  # back on the published table, the old result


def run_cli(monkeypatch, database, argv: list[str]) -> int:
    monkeypatch.setenv("LVZHI_DATABASE_URL", database.url)
    from bot import services

    monkeypatch.setattr(services, "get_settings", lambda: Settings(_env_file=None, database_url=database.url))
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="c")
    register_db_commands(sub)
    from bot.suggestions.cli import register

    register(sub)
    args = parser.parse_args(argv)
    return args.func(args)


def test_manual_entries_show_and_export(database, monkeypatch, capsys, tmp_path):
    with database.session() as s:
        m, ident = member(s, "孙七", "5")
    assert run_cli(monkeypatch, database, ["add", "孙七", "meeting", "2026-03-05", "--attr", "attended", "--attr", "meeting_type=全体会议", "--note", "十届三次全会"]) == 0  # fmt: skip
    assert run_cli(monkeypatch, database, ["add", "孙七", "training", "2026-13-01"]) == 2
    assert "日期「2026-13-01」格式不对" in capsys.readouterr().err
    assert run_cli(monkeypatch, database, ["add", "没这个人", "training", "2026-04-01"]) == 2
    assert run_cli(monkeypatch, database, ["add", "孙七", "dancing", "2026-04-01"]) == 2
    assert "未知活动代码「dancing」" in capsys.readouterr().err
    assert run_cli(monkeypatch, database, ["add", "孙七", "training", "2026-04-01", "--note", "=cmd|x"]) == 0
    capsys.readouterr()
    assert run_cli(monkeypatch, database, ["show", "孙七", "--year", "2026"]) == 0
    out = capsys.readouterr().out
    assert "HY-01 出席全体会议，2 分" in out and "PX-01 参加学习培训，1 分" in out and "合计：3 分" in out
    out_csv, out_xlsx = tmp_path / "s.csv", tmp_path / "s.xlsx"
    assert run_cli(monkeypatch, database, ["export", "scores", "--year", "2026", "--format", "csv", "--out", str(out_csv)]) == 0  # fmt: skip
    rows = out_csv.read_text(encoding="utf-8-sig").splitlines()
    assert rows[0].startswith("委员,界别,年度") and len(rows) == 3 and "'=cmd|x" in rows[2]
    assert run_cli(monkeypatch, database, ["export", "scores", "--year", "2026", "--format", "xlsx", "--summary", "--out", str(out_xlsx)]) == 0  # fmt: skip
    sheet = load_workbook(out_xlsx).active
    assert [c.value for c in list(sheet.rows)[1]][:5] == ["孙七", "经济界", 2026, "2026.1", 3]
    with database.session() as s:
        assert {a.source for a in s.scalars(select(DutyActivity))} == {"manual"}
        assert date(2026, 3, 5) in {a.on_date for a in s.scalars(select(DutyActivity))}
