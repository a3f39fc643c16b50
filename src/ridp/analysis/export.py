"""Result tables as CSV and XLSX that a spreadsheet cannot turn into a formula.

A cell whose text starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return is run as a formula by Excel, LibreOffice and Google Sheets (CSV
injection, OWASP). Such text is written with a leading apostrophe, which every
spreadsheet shows as plain text; numbers stay numbers (a negative number is a
number, not text starting with ``-``). Columns named in ``masked`` are written
as ``•••`` (personal data an agreement does not let this reader see).
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Final

import pandas as pd

__all__ = ["DANGEROUS_PREFIXES", "MASK", "neutralise", "to_csv", "to_xlsx"]

DANGEROUS_PREFIXES: Final = ("=", "+", "-", "@", "\t", "\r")
MASK: Final = "•••"


def neutralise(value: Any) -> Any:
    """``value`` made safe for a spreadsheet cell: text that would start a formula gets a leading apostrophe.

    >>> neutralise("=HYPERLINK(\\"http://x\\")"), neutralise("-3"), neutralise(-3), neutralise("Pothole")
    ('\\'=HYPERLINK("http://x")', "'-3", -3, 'Pothole')
    """
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


def _cells(frame: pd.DataFrame, masked: Iterable[str]) -> tuple[list[str], list[list[Any]]]:
    hidden = set(masked)
    header = [str(neutralise(str(c))) for c in frame.columns]
    rows: list[list[Any]] = []
    for record in frame.itertuples(index=False, name=None):
        row: list[Any] = []
        for name, value in zip(frame.columns, record, strict=True):
            if name in hidden and not _missing(value):
                row.append(MASK)
            else:
                row.append(neutralise(_plain(value)))
        rows.append(row)
    return header, rows


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date() if value == value.normalize() else value.to_pydatetime()
    if hasattr(value, "item"):
        return value.item()
    return value


def to_csv(frame: pd.DataFrame, *, masked: Iterable[str] = ()) -> str:
    """The table as CSV text (RFC 4180: CRLF line ends; a header row; empty cells for missing values)."""
    header, rows = _cells(frame, masked)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180; a field holding \r or \n is quoted
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v.isoformat() if isinstance(v, (date, datetime)) else v for v in row])
    return out.getvalue()


def to_xlsx(frame: pd.DataFrame, *, sheet: str = "result", masked: Iterable[str] = ()) -> bytes:
    """The table as an XLSX workbook; every text cell is stored as text, never as a formula."""
    from openpyxl import Workbook

    header, rows = _cells(frame, masked)
    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31] or "result")
    ws.append(header)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
