"""Exports a spreadsheet opens as data: no cell ever starts a formula, personal columns masked."""

from __future__ import annotations

import csv
import doctest
import io
from datetime import datetime

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import ridp.analysis.export as export
from ridp.analysis.export import DANGEROUS_PREFIXES, MASK, to_csv, to_xlsx


def test_the_docstring_examples_run():
    failed, tried = doctest.testmod(export)
    assert tried > 0 and failed == 0


def _frame(texts: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"type": texts, "n": range(len(texts)), "resident": ["Ann"] * len(texts)})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "\t", "\r", "a", "1", " ", "\n", '"', ","]),
                        max_size=8), min_size=1, max_size=5))  # fmt: skip
def test_no_csv_cell_starts_a_formula_and_text_survives(texts):
    out = to_csv(_frame(texts), masked=["resident"])
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == ["type", "n", "resident"]
    for row, original in zip(rows[1:], texts, strict=True):
        assert not row[0].startswith(DANGEROUS_PREFIXES)
        assert row[0] == ("'" + original if original.startswith(DANGEROUS_PREFIXES) else original)
        assert row[2] == MASK


@settings(max_examples=50, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(["=", "+", "-", "@", "a", "1", "("]), max_size=8), min_size=1,
                max_size=5))  # fmt: skip
def test_no_xlsx_cell_is_a_formula(texts):
    book = load_workbook(io.BytesIO(to_xlsx(_frame(texts), masked=["resident"])))
    sheet = book.active
    assert sheet is not None
    for row in sheet.iter_rows(min_row=2):
        assert all(cell.data_type != "f" for cell in row)
        assert not str(row[0].value or "").startswith(DANGEROUS_PREFIXES)
        assert row[2].value == MASK


def test_numbers_stay_numbers_and_missing_values_stay_empty():
    frame = pd.DataFrame({"median_days": [-1.5, None], "period": pd.to_datetime(["2024-01-01", None])})
    rows = list(csv.reader(io.StringIO(to_csv(frame))))
    assert rows[1:] == [["-1.5", "2024-01-01"], ["", ""]]
    sheet = load_workbook(io.BytesIO(to_xlsx(frame))).active
    assert sheet is not None
    assert [c.value for c in sheet[2]] == [-1.5, datetime(2024, 1, 1)] and [c.value for c in sheet[3]] == [None, None]
