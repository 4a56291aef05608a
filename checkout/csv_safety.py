"""CSV files staff open in a spreadsheet: neutralise cells a spreadsheet would run as a formula.

Excel, LibreOffice and Google Sheets treat a cell that begins with = + - @ (or a tab or carriage
return before one) as a formula, so a product name or a customer note such as
`=HYPERLINK("http://evil", "Click")` would run on the shop owner's computer. Such a cell is written
with a leading single quote, which every spreadsheet shows as text.

A cell that already begins with quotes followed by one of those characters gets one more quote, so
`restore_cell` (used when a file we exported is imported again) gives back exactly the original text.
"""

import csv
import io
from collections.abc import Iterable

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def _needs_quote(text: str) -> bool:
    return text.lstrip("'").startswith(FORMULA_TRIGGERS)


def safe_cell(value) -> str:
    """The value as text a spreadsheet shows and never evaluates (None becomes an empty cell)."""
    text = "" if value is None else str(value)
    return "'" + text if _needs_quote(text) else text


def restore_cell(text: str) -> str:
    """Undo `safe_cell`: `restore_cell(safe_cell(x)) == str(x)` for every x."""
    return text[1:] if text.startswith("'") and _needs_quote(text[1:]) else text


def write_csv(rows: Iterable[Iterable], header: Iterable[str]) -> str:
    """A whole CSV document (RFC 4180, CRLF line ends) with every cell, header included, neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(name) for name in header])
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return buffer.getvalue()
