"""Spreadsheet exports that stream rows and never let a cell run as a formula (CSV guard, XLSX text cells)."""

from bot.exports.cells import FORMULA_START, as_text, neutralize, xlsx_cell
from bot.exports.writers import csv_chunks, write_csv, write_table, write_xlsx

__all__ = [
    "FORMULA_START",
    "as_text",
    "csv_chunks",
    "neutralize",
    "write_csv",
    "write_table",
    "write_xlsx",
    "xlsx_cell",
]
