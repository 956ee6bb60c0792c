"""Spreadsheet exports: CSV formula guard, XLSX text cells holding the exact text, Chinese readable by Excel, streaming."""

from __future__ import annotations

import csv
import tracemalloc
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from bot.exports import csv_chunks, write_csv, write_table, write_xlsx, xlsx_cell

DANGEROUS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x","点我")']
HEADER = ["受理编号", "标题", "内容", "分值", "日期"]


def sample_rows() -> list[list[object]]:
    rows = [
        [f"TA-2026-{i:04d}", text, "正常内容", Decimal("0.5"), date(2026, 3, 1)]
        for i, text in enumerate(DANGEROUS)
    ]
    rows.append(["TA-2026-9999", "普通标题", "中间的=号没事", -3, None])
    return rows


def sheet_xml(path: Path) -> str:
    """The XML of the first worksheet inside an XLSX file."""
    with zipfile.ZipFile(path) as archive:
        return archive.read("xl/worksheets/sheet1.xml").decode("utf-8")


def test_xlsx_cells_hold_the_exact_text_as_text_cells(tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    assert write_xlsx(iter(sample_rows()), out, HEADER, sheet="提交事项") == len(DANGEROUS) + 1
    sheet = load_workbook(out)["提交事项"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER
    for row, text in zip(sheet.iter_rows(min_row=2), DANGEROUS, strict=False):
        assert (row[1].data_type, row[1].value) == ("s", text)
    last = values[-1]
    assert last[2] == "中间的=号没事" and last[3] == -3 and last[4] is None
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert "<f>" not in sheet_xml(out) and "<f " not in sheet_xml(out)


def test_xlsx_cell_forces_text_only_where_openpyxl_would_not_keep_it() -> None:
    worksheet = Workbook(write_only=True).create_sheet("s")
    for text in ["=SUM(A1:A2)", "=", "#N/A", "#DIV/0!"]:
        cell = xlsx_cell(worksheet, text)
        assert (cell.data_type, cell.value) == ("s", text)
    for value in ["@城管局", "- 建议", "+ 补贴", "普通", "", 13800000001, -3, 0.5, None, date(2026, 3, 1)]:
        assert xlsx_cell(worksheet, value) is value  # openpyxl types these itself (text stays text)


def test_xlsx_text_that_openpyxl_reads_as_formula_or_error_is_kept(tmp_path: Path) -> None:
    texts = [
        "=老旧小区加装电梯补贴",
        "#N/A",
        "#REF!",
        "=",
        "==",
        "@城管局 老旧小区停车难",
        "- 一；- 二",
        "+ 三；= 四",
    ]
    out = tmp_path / "t.xlsx"
    write_xlsx([[text, i] for i, text in enumerate(texts)], out, ["文字", "序号"])
    rows = list(load_workbook(out).active.iter_rows(min_row=2))
    assert [(r[0].value, r[0].data_type, r[1].value) for r in rows] == [
        (text, "s", i) for i, text in enumerate(texts)
    ]
    xml = sheet_xml(out)
    assert "<f>" not in xml and 't="e"' not in xml and xml.count('t="inlineStr"') == len(texts) + 2


def test_csv_is_utf8_with_bom_and_neutralised(tmp_path: Path) -> None:
    out = tmp_path / "x.csv"
    assert write_csv(sample_rows(), out, HEADER) == len(DANGEROUS) + 1
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    with out.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == HEADER
    assert [row[1] for row in rows[1:-1]] == ["'" + text for text in DANGEROUS]
    assert rows[1][3:] == ["0.5", "2026-03-01"]
    assert rows[-1][2:] == [
        "中间的=号没事",
        "'-3",
        "",
    ]  # a negative number written as text is neutralised too
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_write_table_picks_format_by_suffix(tmp_path: Path) -> None:
    assert write_table([["=x"]], tmp_path / "a.csv") == 1
    assert write_table([[datetime(2026, 1, 2, 3, 4, 5)]], tmp_path / "a.xlsx") == 1
    assert load_workbook(tmp_path / "a.xlsx").active["A1"].value == datetime(2026, 1, 2, 3, 4, 5)
    with pytest.raises(ValueError, match="不支持的导出格式"):
        write_table([], tmp_path / "a.txt")


def _big_rows(count: int, progress: list[int]):
    for i in range(count):
        progress.append(i) if i % 10_000 == 0 else None
        yield [f"SQ-2026-{i:06d}", f"=恶意公式{i}", "社情民意信息内容" * 4, i, date(2026, 1, 1)]


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_100k_rows_stream_without_building_a_list(tmp_path: Path, suffix: str) -> None:
    progress: list[int] = []
    rows = _big_rows(100_000, progress)
    tracemalloc.start()
    written = write_table(rows, tmp_path / f"big{suffix}", HEADER)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert written == 100_000 and len(progress) == 10
    # Held in a list these rows take about 31 MiB of Python objects; a streamed export stays far below that.
    assert peak < 8 * 2**20, f"peak {peak / 2**20:.1f} MiB"


def test_csv_chunks_are_produced_lazily() -> None:
    pulled: list[int] = []

    def rows():
        for i in range(2000):
            pulled.append(i)
            yield [i, "+1"]

    chunks = csv_chunks(rows(), ["n", "v"], rows_per_chunk=500)
    assert next(chunks) == "\ufeff".encode()
    first = next(chunks).decode("utf-8")
    assert len(pulled) == 500 - 1  # header + 499 rows make the first chunk
    assert first.startswith("n,v\r\n0,'+1\r\n")
    rest = b"".join(chunks)
    assert len(pulled) == 2000 and rest.decode().endswith("1999,'+1\r\n")
