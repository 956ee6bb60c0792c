"""Spreadsheet exports: formulas neutralised in CSV and XLSX, Chinese readable by Excel, rows streamed."""

from __future__ import annotations

import csv
import tracemalloc
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook

from bot.exports import csv_chunks, write_csv, write_table, write_xlsx

DANGEROUS = ["=1+1", "+SUM(A1:A2)", "-2+3", "@cmd", "\t=1", "\r=1", '=HYPERLINK("http://x","点我")']
HEADER = ["受理编号", "标题", "内容", "分值", "日期"]


def sample_rows() -> list[list[object]]:
    rows = [
        [f"TA-2026-{i:04d}", text, "正常内容", Decimal("0.5"), date(2026, 3, 1)]
        for i, text in enumerate(DANGEROUS)
    ]
    rows.append(["TA-2026-9999", "普通标题", "中间的=号没事", -3, None])
    return rows


def test_xlsx_cells_are_strings_not_formulas(tmp_path: Path) -> None:
    out = tmp_path / "x.xlsx"
    assert write_xlsx(iter(sample_rows()), out, HEADER, sheet="提交事项") == len(DANGEROUS) + 1
    sheet = load_workbook(out)["提交事项"]
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == HEADER
    for row, text in zip(sheet.iter_rows(min_row=2), DANGEROUS, strict=False):
        assert row[1].data_type == "s" and row[1].value == "'" + text
    last = values[-1]
    assert last[2] == "中间的=号没事" and last[3] == -3 and last[4] is None
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


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
