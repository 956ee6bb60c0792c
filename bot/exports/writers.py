"""Streaming CSV (UTF-8 with BOM for Excel, formula guard) and XLSX (openpyxl write-only, text cells) writers."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

from bot.exports.cells import as_text, neutralize, xlsx_cell

Row = Sequence[object]


def csv_chunks(rows: Iterable[Row], header: Row | None = None, rows_per_chunk: int = 500) -> Iterator[bytes]:
    """UTF-8-with-BOM CSV bytes in chunks, for a streamed download; rows are read one at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    yield "\ufeff".encode()
    pending = 0
    for row in _with_header(rows, header):
        writer.writerow([neutralize(as_text(v)) for v in row])
        pending += 1
        if pending >= rows_per_chunk:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
            pending = 0
    if pending:
        yield buffer.getvalue().encode("utf-8")


def write_csv(rows: Iterable[Row], out: Path, header: Row | None = None) -> int:
    """Write rows (plus an optional header) to a CSV file; the number of data rows written."""
    out.parent.mkdir(parents=True, exist_ok=True)
    counter = _Counter(rows)
    with out.open("wb") as handle:
        for chunk in csv_chunks(counter, header):
            handle.write(chunk)
    return counter.count


def write_xlsx(rows: Iterable[Row], out: Path, header: Row | None = None, sheet: str = "导出") -> int:
    """Write rows to an XLSX file in openpyxl's write-only mode; the number of data rows written.

    Text is written exactly, as text cells (never formulas, no guard character): see cells.xlsx_cell.
    """
    from openpyxl import Workbook  # imported when an XLSX is first written (not at every start)

    out.parent.mkdir(parents=True, exist_ok=True)
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31])
    counter = _Counter(rows)
    for row in _with_header(counter, header):
        worksheet.append([xlsx_cell(worksheet, v) for v in row])
    workbook.save(out)
    return counter.count


def write_table(rows: Iterable[Row], out: Path, header: Row | None = None, sheet: str = "导出") -> int:
    """Write CSV or XLSX by the file's suffix."""
    suffix = out.suffix.lower()
    if suffix == ".csv":
        return write_csv(rows, out, header)
    if suffix == ".xlsx":
        return write_xlsx(rows, out, header, sheet)
    raise ValueError(f"不支持的导出格式「{out.suffix}」，请用 .csv 或 .xlsx")


def _with_header(rows: Iterable[Row], header: Row | None) -> Iterator[Row]:
    if header is not None:
        yield header
    yield from rows


class _Counter:
    """Counts rows as they pass, without holding them."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self._rows = iter(rows)
        self.count = 0

    def __iter__(self) -> Iterator[Row]:
        for row in self._rows:
            self.count += 1
            yield row


XLSX_CHUNK = 64 * 1024  # bytes per piece when an XLSX file is streamed


def table_chunks(rows: Iterable[Row], header: Row | None, fmt: str, sheet: str = "导出") -> Iterator[bytes]:
    """The rows as a download in pieces: CSV streamed row by row (csv_chunks), or XLSX (a zip, so written to a
    temporary file first, then read back in XLSX_CHUNK pieces). fmt is "csv" or "xlsx"; anything else raises
    ValueError."""
    if fmt == "csv":
        yield from csv_chunks(rows, header)
        return
    if fmt != "xlsx":
        raise ValueError(f"不支持的导出格式「{fmt}」，请用 csv 或 xlsx")
    fd, tmp = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        write_xlsx(rows, Path(tmp), header, sheet=sheet)
        with open(tmp, "rb") as handle:
            while chunk := handle.read(XLSX_CHUNK):
                yield chunk
    finally:
        os.unlink(tmp)
