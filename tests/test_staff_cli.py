"""`lvzhi staff …` and `lvzhi export replies` against SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import sys
from datetime import timedelta
from pathlib import Path

from openpyxl import load_workbook

from bot.cli import main as lvzhi
from bot.members.service import identity_for
from bot.settings import Settings
from bot.staff import review
from bot.staff.accounts import Staff
from bot.staff.models import SubmissionReply
from bot.staff.ratings import rate
from bot.storage.models import Member
from bot.suggestions.service import submit

PROPOSAL = {
    "category": "社会建设",
    "fields": {"title": "关于加快老旧小区加装电梯的建议", "background": "老旧小区居民上下楼困难。" * 6,
               "recommendations": "建议简化审批流程，设立专项补贴资金。"},
}  # fmt: skip


def _cli(monkeypatch, database, tmp_path, argv: list[str], stdin: str = "") -> int:
    from bot import services

    settings = Settings(_env_file=None, database_url=database.url, data_dir=tmp_path / "data")
    monkeypatch.setattr(services, "get_settings", lambda: settings)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    return lvzhi(argv)


def test_staff_accounts_cli(database, monkeypatch, capsys, tmp_path):
    run = lambda argv, stdin="": _cli(monkeypatch, database, tmp_path, argv, stdin)  # noqa: E731
    assert run(["staff", "add", "wang", "--role", "admin", "--name", "王主任", "--telegram-id", "9001",
                "--password-stdin"], "a long password\n") == 0  # fmt: skip
    assert "已新增管理员账号 wang" in capsys.readouterr().out
    assert run(["staff", "add", "wang", "--password-stdin"], "another password\n") == 2
    assert "用户名 wang 已存在" in capsys.readouterr().err
    assert run(["staff", "add", "li", "--password-stdin"], "short\n") == 2
    assert "密码至少需要 8 个字符" in capsys.readouterr().err
    assert run(["staff", "list"]) == 0
    assert "wang\t王主任\tadmin\t9001\t启用" in capsys.readouterr().out
    assert run(["staff", "set-password", "wang", "--password-stdin"], "a new long password\n") == 0
    assert run(["staff", "set-password", "nobody", "--password-stdin"], "a new long password\n") == 2
    assert run(["staff", "remove", "wang"]) == 0
    capsys.readouterr()
    assert run(["staff", "audit", "--limit", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[1:5] for line in out] == [
        ["cli", "cli", "staff_remove", "staff:wang"], ["cli", "cli", "staff_password", "staff:wang"]]  # fmt: skip
    assert '"active": true} → {' in out[0] and '"active": false' in out[0]


def test_staff_add_without_a_terminal_says_what_to_do(tmp_path):
    """No terminal to type the password into (a script; stdin closed, no controlling terminal): a Chinese message
    pointing to --password-stdin and status 1, not getpass's EOFError traceback."""
    import os
    import subprocess

    env = {**os.environ, "LVZHI_DATA_DIR": str(tmp_path / "data")}
    env.pop("LVZHI_DATABASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "staff", "add", "zhang"], stdin=subprocess.DEVNULL, capture_output=True,
        text=True, env=env, start_new_session=True, timeout=120, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "没有可输入密码的终端" in done.stderr and "--password-stdin" in done.stderr


def test_overdue_remind_and_replies_export(database, monkeypatch, capsys, tmp_path):
    run = lambda argv: _cli(monkeypatch, database, tmp_path, argv)  # noqa: E731
    staff = Staff("li", "staff", channel="cli")
    with database.session() as s:
        m = Member(name="张三", sector="经济界", phone="1")
        s.add(m)
        s.flush()
        ident = identity_for(s, "telegram", "501", "501")
        ident.member_id = m.id
        late, answered = submit(s, ident, "proposal", PROPOSAL), submit(s, ident, "proposal", PROPOSAL)
        late.created_at -= timedelta(days=95)
        for item in (late, answered):
            review.perform(s, staff, item.receipt_no, "accept")
            review.perform(
                s,
                staff,
                item.receipt_no,
                "assign",
                review.ActionInput(lead="=市住建局", assisting=["市财政局"]),
            )
        review.perform(
            s,
            staff,
            answered.receipt_no,
            "reply",
            review.ActionInput(reply="=HYPERLINK(1)已列入计划", grade="B"),
        )
        reply_id = s.query(SubmissionReply).one().id
        rate(s, ident, str(reply_id), "3")
    assert run(["staff", "overdue"]) == 0
    out = capsys.readouterr().out
    assert f"{late.receipt_no}\t关于加快老旧小区加装电梯的建议\t交办\t逾期 5 天\t=市住建局" in out
    assert answered.receipt_no not in out
    assert run(["staff", "remind", late.receipt_no]) == 0
    assert "已提醒：=市住建局" in capsys.readouterr().out
    assert run(["staff", "remind", answered.receipt_no]) == 2
    assert "已答复或已办结，无需催办" in capsys.readouterr().err

    out_csv, out_xlsx = tmp_path / "r.csv", tmp_path / "r.xlsx"
    assert run(["export", "replies", "--format", "csv", "--out", str(out_csv)]) == 0
    assert "已导出 1 条答复与评价" in capsys.readouterr().out
    rows = list(csv.reader(out_csv.read_text(encoding="utf-8-sig").splitlines()))
    assert rows[0][:3] == ["受理编号", "类型", "标题"] and len(rows) == 2
    row = dict(zip(rows[0], rows[1], strict=True))
    assert (row["受理编号"], row["主办单位"], row["协办单位"], row["答复等级"]) == (
        answered.receipt_no, "'=市住建局", "市财政局", "B")  # fmt: skip
    assert (
        row["答复内容"] == "'=HYPERLINK(1)已列入计划"
        and row["委员评价"] == "不满意"
        and row["状态"] == "委员评价"
    )
    assert run(["export", "replies", "--format", "xlsx", "--out", str(out_xlsx)]) == 0
    sheet = load_workbook(out_xlsx).active
    values = [c.value for c in next(sheet.iter_rows(min_row=2, max_row=2))]
    assert "=HYPERLINK(1)已列入计划" in values and "不满意" in values
