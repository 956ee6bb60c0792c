"""Storage of the member bot on SQLite and PostgreSQL: migrations, receipts, roster, invitations, status, export."""

from __future__ import annotations

import csv
from datetime import timedelta
from threading import Thread

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.members.roster import read_roster
from bot.members.service import create_invitations, identity_for, import_members, redeem
from bot.storage.models import Invitation, Member, Notification, StatusChange, Submission
from bot.suggestions import service
from bot.suggestions.export import export
from bot.suggestions.status import StatusError, set_status


def test_migrations_stairway(database):
    database.downgrade("base")
    database.migrate()
    with database.session() as s:
        assert s.scalar(select(func.count()).select_from(Submission)) == 0


def test_receipts_are_sequential_and_unique_under_concurrency(database):
    out: list[str] = []

    def worker() -> None:
        for _ in range(10):
            with database.session() as s:
                out.append(service.next_receipt(s, "TA", 2026))

    threads = [Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(out) == [f"TA-2026-{i:04d}" for i in range(1, 41)]
    with database.session() as s:
        assert service.next_receipt(s, "SQ", 2026) == "SQ-2026-0001"
        assert service.next_receipt(s, "TA", 2027) == "TA-2027-0001"


def test_roster_import_reports_bad_rows_and_imports_the_rest(database, tmp_path):
    path = tmp_path / "roster.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.writer(fh)
        w.writerows([["姓名", "界别", "手机"], ["张三", "经济界", "138 0000 0001"], ["", "教育界", "13800000002"],
                     ["李四", "教育界", "12345"], ["王五", "医药卫生界", "+8613800000003"],
                     ["赵六", "经济界", "13800000001"]])  # fmt: skip
    good, errors = read_roster(path)
    assert [r.name for r in good] == ["张三", "王五"]
    assert [line for line, _ in errors] == [3, 4, 6]
    assert "姓名为空" in errors[0][1] and "格式不正确" in errors[1][1] and "重复" in errors[2][1]
    xlsx = tmp_path / "roster.xlsx"
    wb = Workbook()
    wb.active.append(["姓名", "界别", "手机"])
    wb.active.append(["张三", "经联界", 13800000001])
    wb.save(xlsx)
    with database.session() as s:
        assert import_members(s, good).added == 2
    with database.session() as s:
        res = import_members(s, read_roster(xlsx)[0])
        assert (res.added, res.updated) == (0, 1)
        assert s.scalars(select(Member).where(Member.phone == "13800000001")).one().sector == "经联界"


def test_invitations_bind_once_and_expire(database):
    with database.session() as s:
        s.add_all(
            [Member(name="张三", sector="经济界", phone="1"), Member(name="李四", sector="教育界", phone="2")]
        )
    with database.session() as s:
        codes = [i.code for i in create_invitations(s, days=7)]
        assert len(codes) == 2 and create_invitations(s) == []  # valid unused codes are not duplicated
        a = identity_for(s, "telegram", "100", "100")
        b = identity_for(s, "telegram", "200", "200")
        assert redeem(s, a, "nope")[0] == "invalid"
        result, member = redeem(s, a, codes[0].lower())
        assert result == "ok" and a.member_id == member.id
        assert redeem(s, a, codes[0])[0] == "already"
        assert redeem(s, b, codes[0])[0] == "used"
        inv = s.scalars(select(Invitation).where(Invitation.code == codes[1])).one()
        inv.expires_at = inv.expires_at - timedelta(days=8)
        assert redeem(s, b, codes[1])[0] == "expired" and b.member_id is None


def _submit(database, type_key="proposal"):
    with database.session() as s:
        m = Member(name="张三", sector="经济界", phone="1")
        s.add(m)
        s.flush()
        ident = identity_for(s, "telegram", "100", "100")
        ident.member_id = m.id
        draft = {"category": "社会建设", "fields": {"title": "关于加装电梯的建议", "background": "背景" * 30,
                 "recommendations": "=HYPERLINK(1)" + "建议" * 10}, "attachments": [{"kind": "photo", "file_id": "F1"}]}  # fmt: skip
        return service.submit(s, ident, type_key, draft).receipt_no


def test_status_workflow_refuses_illegal_moves_and_notifies(database):
    receipt = _submit(database)
    assert receipt.startswith("TA-") and receipt.endswith("-0001")
    with database.session() as s, pytest.raises(StatusError, match="不能改为"):
        set_status(s, receipt, "立案")
    with database.session() as s:
        set_status(s, receipt, "审查")
    with database.session() as s, pytest.raises(StatusError, match="必须说明理由"):
        set_status(s, receipt, "rejected")
    with database.session() as s:
        set_status(s, receipt, "不予立案", reason="建议转为社情民意信息")
    with database.session() as s, pytest.raises(StatusError, match="最终状态"):
        set_status(s, receipt, "accepted")
    with database.session() as s:
        history = s.scalars(select(StatusChange).order_by(StatusChange.id)).all()
        assert [(h.from_status, h.to_status) for h in history] == [
            (None, "submitted"), ("submitted", "reviewing"), ("reviewing", "rejected")]  # fmt: skip
        notes = s.scalars(select(Notification).order_by(Notification.id)).all()
        assert len(notes) == 2 and notes[0].chat_id == "100"
        assert "不予立案" in notes[1].html and "建议转为社情民意信息" in notes[1].html


def test_export_csv_and_xlsx_neutralises_formulas(database, tmp_path):
    _submit(database)
    with database.session() as s:
        assert export(s, tmp_path / "a.csv", "csv") == 1
        assert export(s, tmp_path / "a.xlsx", "xlsx") == 1
    rows = list(csv.reader((tmp_path / "a.csv").open(encoding="utf-8-sig")))
    header, row = rows
    assert (
        row[0].startswith("TA-")
        and row[1] == "提案"
        and row[4] == "提交"
        and row[5] == "张三"
        and row[8] == "1"
    )
    assert row[header.index("提案·具体建议")].startswith("'=HYPERLINK")
    ws = load_workbook(tmp_path / "a.xlsx").active
    assert ws.cell(2, 3).value == "社会建设"
