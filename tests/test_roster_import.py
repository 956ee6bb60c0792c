"""`lvzhi members import` on rosters as offices keep them (case BH-14), then `lvzhi members invite` finds them."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from conftest import SHARED_DIR
from openpyxl import Workbook
from sqlalchemy import select

from bot import services as services_module
from bot.cli import main
from bot.members.cleaning import clean_header, clean_name, normalize_phone
from bot.storage import Database
from bot.storage.models import Member

CASE_DIR = SHARED_DIR / "cases" / "ingest" / "BH-14"
EXPECTED = next(
    c for c in json.loads((SHARED_DIR / "cases/ingest/expectations.json").read_text("utf-8"))["cases"]
    if c["id"] == "BH-14"
)  # fmt: skip


@pytest.fixture
def lvzhi(make_settings, monkeypatch, capsys):
    """Run `lvzhi …` against a fresh data folder of this test; (exit code, stdout, stderr)."""
    settings = make_settings()
    monkeypatch.setattr(services_module, "get_settings", lambda: settings)

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(list(argv))
        out = capsys.readouterr()
        return code, out.out, out.err

    run.settings = settings
    return run


def members(settings) -> list[tuple[str, str, str]]:
    """(name, sector, phone) of every member in the data folder's database, in id order."""
    db = Database(settings.resolved_database_url)
    db.migrate()  # a folder where nothing was imported has no schema yet
    try:
        with db.session() as s:
            return [(m.name, m.sector, m.phone) for m in s.scalars(select(Member).order_by(Member.id))]
    finally:
        db.dispose()


def invited(stdout: str) -> list[str]:
    """Names in the lines `lvzhi members invite` printed."""
    return [line.split("\t")[0] for line in stdout.splitlines() if "\t" in line]


@pytest.mark.parametrize("entry", EXPECTED["imports"], ids=lambda e: e["file"])
def test_bh14_rosters_import_and_members_are_found_by_phone(lvzhi, entry):
    code, out, err = lvzhi("members", "import", str(CASE_DIR / entry["file"]))
    if "exit_code" in entry:
        assert code == entry["exit_code"], err
    assert f"新增 {len(entry['members'])} 人" in out
    assert [m[0] for m in members(lvzhi.settings)] == entry["members"]
    for name in entry.get("not_reported", []):
        assert name not in err
    code, out, _ = lvzhi("members", "invite")
    assert code == 0 and invited(out) == entry["members"]
    for phone, name in entry.get("phones", {}).items():
        code, out, _ = lvzhi("members", "invite", "--phone", phone)
        assert code == 0 and invited(out) == [name]


def test_bh14_number_cells_are_stored_as_plain_mobiles_and_the_formula_row_is_reported(lvzhi):
    code, _, err = lvzhi("members", "import", str(CASE_DIR / "名册_数字格式.xlsx"))
    assert code == 0
    assert err.splitlines() == ["第5行 委员己：手机号为公式且没有保存的值，已跳过"]
    assert members(lvzhi.settings) == [
        ("委员丙", "科技界", "13800000011"),
        ("委员丁", "科技界", "13800000012"),
        ("委员戊", "医药卫生界", "13800000013"),
        ("委员庚", "文化艺术界", "13800000015"),
    ]
    # the office may type the phone as the roster shows it
    code, out, _ = lvzhi("members", "invite", "--phone", "138 0000 0015")
    assert code == 0 and invited(out) == ["委员庚"]
    code, _, err = lvzhi("members", "invite", "--phone", "13800000014")
    assert code == 1 and "没有找到手机号（编号）为 13800000014 的在册委员" in err


def test_csv_with_title_line_bom_synonyms_and_dirty_phones(lvzhi, tmp_path: Path):
    path = tmp_path / "名册.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:  # UTF-8 with BOM, as "CSV UTF-8" saves it
        csv.writer(fh).writerows([
            ["政协青川市委员会委员联系表", "", ""],
            ["", "", ""],
            ["名字", "界别", "手机号码"],
            ["委员辛", "经济界", "138-0000-0021"],
            ["\u200b 委员壬\ufeff", "教育界", "138\u00a00000\u00a00022"],
            ["王\u3000五", "农业界", "+86 138\u20600000\u200c0023\u200d"],
            ["委员癸", "科技界", "12345"],
            ["", "", ""],
            ["委员子", "科技界", "（138）0000—0021"],
        ])  # fmt: skip
    code, out, err = lvzhi("members", "import", str(path))
    assert code == 0 and "新增 3 人" in out and "跳过 2 行" in out
    assert err.splitlines() == [
        "第7行 委员癸：手机号“12345”格式不正确（应为11位手机号），已跳过",
        "第9行 委员子：手机号与第 4 行重复，已跳过",
    ]
    assert members(lvzhi.settings) == [
        ("委员辛", "经济界", "13800000021"),
        ("委员壬", "教育界", "13800000022"),
        ("王五", "农业界", "13800000023"),
    ]
    code, out, _ = lvzhi("members", "invite", "--phone", "13800000022")
    assert code == 0 and invited(out) == ["委员壬"]


def test_xlsx_with_header_on_row_3_and_spreadsheet_row_numbers(lvzhi, tmp_path: Path):
    path = tmp_path / "名册.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["A1"] = "政协第十届青川市委员会委员名单"
    ws.merge_cells("A1:D1")
    ws["A2"] = "填报单位：委员工作室"
    for row in (
        ["序号", "委员姓名", "所属界别", "联系电话"],
        [1, "委员丑", "经济界", 13800000031],
        [2, "委员寅", "教育界", 13800000032.0],
        [3, "委员卯", "教育界", "１３８－００００－００３３"],
        [4, "委员辰", "教育界", None],
        [5, "委员巳", "教育界", 13800000],
    ):
        ws.append(row)
    wb.save(path)
    code, _, err = lvzhi("members", "import", str(path))
    assert code == 0
    assert err.splitlines() == [
        "第7行 委员辰：手机号为空，已跳过",
        "第8行 委员巳：手机号“13800000”格式不正确（应为11位手机号），已跳过",
    ]
    assert [m[2] for m in members(lvzhi.settings)] == ["13800000031", "13800000032", "13800000033"]


def test_xlsx_whose_first_rows_are_empty_and_header_has_spaces(lvzhi, tmp_path: Path):
    path = tmp_path / "名册.xlsx"
    wb = Workbook()
    ws = wb.active
    for col, value in enumerate(["姓　名", " 界 别", "手机*"], start=2):  # sheet starts at B3
        ws.cell(row=3, column=col, value=value)
    for col, value in enumerate(["委员午", "经济界", "13800000041"], start=2):
        ws.cell(row=4, column=col, value=value)
    for col, value in enumerate(["委员未", "经济界", "13800000041"], start=2):
        ws.cell(row=6, column=col, value=value)
    wb.save(path)
    code, _, err = lvzhi("members", "import", str(path))
    assert code == 0 and err.splitlines() == ["第6行 委员未：手机号与第 4 行重复，已跳过"]
    assert members(lvzhi.settings) == [("委员午", "经济界", "13800000041")]


def test_unicode_text_export_is_read_too(lvzhi, tmp_path: Path):
    path = tmp_path / "名册.txt"  # Excel "Unicode 文本": UTF-16 with BOM, tab-separated
    path.write_bytes("姓名\t界别\t手机\r\n委员申\t经济界\t13800000051\r\n".encode("utf-16"))
    code, _, _ = lvzhi("members", "import", str(path))
    assert code == 0 and members(lvzhi.settings) == [("委员申", "经济界", "13800000051")]


def test_exit_codes_when_nothing_can_be_imported(lvzhi, tmp_path: Path):
    bad_rows = tmp_path / "bad.csv"
    bad_rows.write_text("姓名,手机\n委员酉,123\n,13800000061\n委员戌,1.38E+10\n", encoding="utf-8")
    code, out, err = lvzhi("members", "import", str(bad_rows))
    assert code == 1 and out == ""
    assert err.splitlines() == [
        "第2行 委员酉：手机号“123”格式不正确（应为11位手机号），已跳过",
        "第3行 姓名为空，已跳过",
        "第4行 委员戌：手机号被保存成了科学计数法（1.38E+10），请把这一列设为“文本”并重新填写后再导入，已跳过",
        "没有可以导入的委员，名单未作任何修改",
    ]
    no_header = tmp_path / "no_header.csv"
    no_header.write_text("委员酉,13800000061\n", encoding="utf-8")
    old = tmp_path / "old.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 504)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"PK\x03\x04 not really a zip")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    for path, message in [
        (no_header, "在前 20 行中没有找到表头"),
        (old, "不支持旧版 Excel（.xls）文件"),
        (broken, "无法读取这个 Excel 文件"),
        (empty, "文件是空的"),
        (tmp_path / "missing.csv", "文件不存在"),
    ]:
        code, _, err = lvzhi("members", "import", str(path))
        assert code == 2 and err.startswith("错误：") and message in err, (path, err)
    assert members(lvzhi.settings) == []


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("13800000012.0", "13800000012"),
        ("１３８００００００１３", "13800000013"),
        ("138 0000 0015\u200b", "13800000015"),
        ("\ufeff138-0000-0016\u00a0", "13800000016"),
        ("138\u20600000\u200c00\u200d17", "13800000017"),
        ("+86 138 0000 0018", "13800000018"),
        ("0086-13800000019", "13800000019"),
        ("138.0000.0020", "13800000020"),
        ("1.38E+10", "1.38E+10"),  # a lost number stays as typed, to be rejected
        ("0851-8888 6666", "085188886666"),
    ],
)
def test_normalize_phone(typed: str, digits: str) -> None:
    assert normalize_phone(typed) == digits


def test_names_and_headers_are_cleaned_without_changing_characters() -> None:
    assert clean_name("\u200b 委员己\ufeff\u00a0") == "委员己"
    assert clean_name("王　五") == "王五" and clean_name("Mary Smith") == "Mary Smith"
    assert clean_name("阿依古丽·买买提") == "阿依古丽·买买提"
    assert clean_name("ＡＢ") == "ＡＢ"  # names are not width-folded
    assert clean_header(" 手机号码＊ ") == "手机号码" and clean_header("Phone") == "phone"


def test_roster_on_a_sheet_after_an_instructions_sheet(lvzhi, tmp_path: Path):
    path = tmp_path / "名册.xlsx"
    wb = Workbook()
    wb.active.title = "填写说明"
    wb.active.append(["请在“名单”表中填写，手机号请填写11位手机号"])
    roster = wb.create_sheet("名单")
    roster.append(["姓名", "界别", "手机号"])
    roster.append(["委员亥", "经济界", "13800000071"])
    wb.save(path)
    assert lvzhi("members", "import", str(path))[0] == 0
    assert members(lvzhi.settings) == [("委员亥", "经济界", "13800000071")]
