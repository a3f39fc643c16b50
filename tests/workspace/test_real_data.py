"""Every real city export under ../shared/data/city ingests with the right row count;
the deliberately broken Boston variants get the errors or notes they deserve."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ridp.errors import RaggedRowError
from tests.conftest import SHARED_DATA

CITY_FILES = sorted(
    p for p in (SHARED_DATA / "city").rglob("*") if p.suffix in {".csv", ".tsv", ".parquet", ".geojson"}
)
BROKEN = {"boston311-100-bad.tsv"}


def independent_count(path: Path) -> int:
    """Records counted by Python's csv module, which shares no code with ridp's reader."""
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    delimiter = "\t" if path.suffix == ".tsv" else ","
    rows = [r for r in csv.reader(text.splitlines(keepends=True), delimiter=delimiter) if r]
    return len(rows) - 1


def test_the_corpus_is_there():
    assert len(CITY_FILES) >= 30, CITY_FILES


@pytest.mark.parametrize(
    "path", [p for p in CITY_FILES if p.name not in BROKEN], ids=lambda p: f"{p.parent.name}/{p.name}"
)
def test_real_export_ingests_with_its_row_count(people, path):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.store import home

    outcome = add_file(people.ana, path, city="springfield")
    v = outcome.version
    if path.suffix == ".parquet":
        expected = pq.ParquetFile(path).metadata.num_rows
    elif path.suffix == ".geojson":
        expected = len(json.loads(path.read_text())["features"])
    else:
        expected = independent_count(path)
    assert v.rows == expected
    table = pq.read_table(home() / v.file)
    assert table.num_rows == expected
    if path.suffix == ".geojson":
        assert "geom" in table.column_names
    elif path.suffix != ".parquet":
        with path.open(newline="", encoding="utf-8-sig", errors="replace") as fh:
            header = next(csv.reader(fh, delimiter="\t" if path.suffix == ".tsv" else ","))
        assert len(table.column_names) == len(header)


def test_malformed_boston_tsv_names_the_row_and_makes_nothing(people):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.models import DatasetVersion

    with pytest.raises(RaggedRowError) as info:
        add_file(people.ana, SHARED_DATA / "city/boston/boston311-100-bad.tsv", city="springfield")
    assert info.value.row == 41 and "boston311-100-bad.tsv" in str(info.value)
    assert not DatasetVersion.objects.exists()


def test_boston_duplicates_and_space_blanks_are_noted(people):
    from ridp.workspace.datasets import add_file

    v = add_file(people.ana, SHARED_DATA / "city/boston/boston311-100-20dupes-random.csv", city="springfield").version
    assert "20 exact duplicate row(s) in all 100 rows" in v.notes
    assert any(n.startswith("values made only of spaces") and "closure_reason 16" in n for n in v.notes)


def test_boston_day_month_year_dates_are_kept_as_text_with_a_note(people):
    from ridp.workspace.datasets import add_file

    v = add_file(people.ana, SHARED_DATA / "city/boston/boston311-dmy-100.csv", city="springfield").version
    types = {c["name"]: c["dtype"] for c in v.schema}
    assert types["open_dt"] == "string"
    assert any("'open_dt' holds dates not in ISO form" in n for n in v.notes)
    iso = add_file(people.ana, SHARED_DATA / "city/boston/boston311-100.csv", city="springfield").version
    assert {c["name"]: c["dtype"] for c in iso.schema}["open_dt"].startswith("timestamp")


def test_boston_dates_without_times_are_dates_and_non_ascii_text_survives(people):
    from ridp.workspace.datasets import add_file
    from ridp.workspace.store import home

    v = add_file(people.ana, SHARED_DATA / "city/boston/boston311-100-notime.csv", city="springfield").version
    assert {c["name"]: c["dtype"] for c in v.schema}["open_dt"] == "date32[day]"
    src = SHARED_DATA / "city/boston/boston311-100-with-nonascii.csv"
    v2 = add_file(people.ana, src, city="springfield").version
    stored = {str(x) for col in pq.read_table(home() / v2.file).columns for x in col.to_pylist() if x is not None}
    non_ascii = {ch for s in stored for ch in s if ord(ch) > 127}
    assert non_ascii, "the non-ASCII characters of the source must survive"
    assert non_ascii <= set(src.read_text(encoding="utf-8"))
