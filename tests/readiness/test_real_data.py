"""Readiness on real city exports equals an independent count made with pandas from the raw text.

Every expected figure here is computed from the file itself, read as text
(``dtype=str, keep_default_na=False``), with pandas and this module's own date
parsing; ridp only makes the table (its ingest, as the product does) and its
date-format detection fills the mapping (as the workspace does). Nothing
ridp computes is used as an expected value.

"Missing" follows the readiness API: an empty or whitespace-only value, a
placeholder text ('N/A', 'NA', 'NULL', 'None', 'NaN', '-', '#N/A', trimmed and
case-insensitive), a date before 1901-01-01 in a mapped date column, and the 0
of a (0, 0) pair in the mapped latitude and longitude columns.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from ridp.errors import RaggedRowError
from tests.conftest import SHARED_DATA
from tests.readiness.conftest import Store, ingest

CITY = SHARED_DATA / "city"
ISO = "ISO 8601"
PLACEHOLDERS = frozenset({"N/A", "NA", "NULL", "NONE", "NAN", "-", "#N/A"})
PLACEHOLDER_BEFORE = pd.Timestamp("1901-01-01")
#: The workspace reads date formats from the first rows of a version (``ridp.workspace.datasets.SAMPLE_ROWS``).
MAPPING_SAMPLE_ROWS = 5000

BOSTON_FIELDS = {
    "id": "case_enquiry_id", "opened": "open_dt", "closed": "closed_dt", "status": "case_status", "type": "type",
    "agency": "department", "channel": "source", "latitude": "latitude", "longitude": "longitude",
}  # fmt: skip
NYC_FIELDS = {
    "id": "Unique Key", "opened": "Created Date", "closed": "Closed Date", "status": "Status",
    "type": "Complaint Type", "agency": "Agency", "channel": "Open Data Channel Type", "address": "Incident Address",
    "latitude": "Latitude", "longitude": "Longitude",
}  # fmt: skip
# City bounding boxes (min_lon, min_lat, max_lon, max_lat), a little wider than the city itself.
BOSTON_BOX = (-71.20, 42.22, -70.98, 42.40)
NYC_BOX = (-74.26, 40.49, -73.69, 40.92)
CHICAGO_BOX = (-87.95, 41.64, -87.52, 42.03)


@dataclass(frozen=True, eq=False)  # hashed by identity: the expectations are cached per export
class Export:
    """A real export, the mapping a person would confirm for it, and what to compare."""

    path: str  # under ../shared/data/city
    fields: dict[str, str]
    timezone: str
    areas: tuple[str, ...] = ()
    distinct: tuple[str, ...] = ()  # columns without empty values, whose distinct counts are compared
    boundary: tuple[float, float, float, float] | None = None

    @property
    def source(self) -> Path:
        return CITY / self.path

    def __str__(self) -> str:
        return self.path


EXPORTS = [
    Export(
        "san_francisco/cases_sample.csv",
        {
            "id": "CaseID",
            "opened": "Opened",
            "closed": "Closed",
            "status": "Status",
            "type": "Request.Type",
            "agency": "Responsible.Agency",
            "channel": "Source",
            "address": "Address",
            "latitude": "Lat",
            "longitude": "Long",
        },
        "America/Los_Angeles",
        ("Neighborhood",),
        ("CaseID", "Status", "Category", "Neighborhood"),
        (-122.53, 37.69, -122.34, 37.84),
    ),
    Export(
        "san_francisco/cases_sample_10000(no-geo).csv",
        {
            "id": "CaseID",
            "opened": "Opened",
            "closed": "Closed",
            "status": "Status",
            "type": "Request.Type",
            "agency": "Responsible.Agency",
            "channel": "Source",
            "address": "Address",
        },
        "America/Los_Angeles",
        ("Neighborhood",),
        ("CaseID", "Status", "Category", "Source"),
    ),
    Export(
        "nyc/311.csv",
        NYC_FIELDS,
        "America/New_York",
        ("Borough",),
        ("Unique Key", "Complaint Type", "Status", "Borough", "Agency"),
        NYC_BOX,
    ),
    Export(
        "chicago/311 Service Requests - Pot Holes Reported - Historical.csv",
        {
            "id": "service_request_number",
            "opened": "creation_date",
            "closed": "completion_date",
            "status": "status",
            "type": "type_of_service_request",
            "address": "street_address",
            "latitude": "latitude",
            "longitude": "longitude",
        },
        "America/Chicago",
        ("ward", "community_area"),
        ("service_request_number", "status", "street_address"),
        CHICAGO_BOX,
    ),
    Export(
        "chicago/Food_Inspections.csv",
        {
            "id": "ID",
            "opened": "Date",
            "type": "InspType",
            "status": "Results",
            "address": "Address",
            "latitude": "Latitude",
            "longitude": "Longitude",
        },
        "America/Chicago",
        (),
        ("ID", "DBA", "Results", "Risk"),
        CHICAGO_BOX,
    ),
    Export(
        "baltimore/Customer_Service_Requests_2018.csv",
        {
            "id": "servicerequestnum",
            "opened": "createddate",
            "closed": "closedate",
            "status": "srstatus",
            "type": "srtype",
            "agency": "agency",
            "channel": "methodreceived",
            "address": "address",
            "latitude": "latitude",
            "longitude": "longitude",
        },
        "America/New_York",
        ("neighborhood",),
        ("servicerequestnum", "srtype", "srstatus", "agency"),
        (-76.72, 39.19, -76.52, 39.38),
    ),
    *(
        Export(
            f"boston/{name}",
            BOSTON_FIELDS,
            "America/New_York",
            ("neighborhood",),
            ("case_enquiry_id", "case_status", "type", "department", "source"),
            BOSTON_BOX,
        )
        for name in (
            "boston311-100.csv",
            "boston311-100-20dupes-random.csv",
            "boston311-100-notime.csv",
            "boston311-100-with-nonascii.csv",
            "boston311-dmy-100.csv",
        )
    ),
    Export(
        "boston/NYC311-5.csv",
        NYC_FIELDS,
        "America/New_York",
        ("Borough",),
        ("Unique Key", "Complaint Type", "Status", "Borough"),
        NYC_BOX,
    ),
    Export(
        "boston/NYC311-5.parquet",
        NYC_FIELDS,
        "America/New_York",
        ("Borough",),
        ("Unique Key", "Complaint Type", "Status", "Borough"),
        NYC_BOX,
    ),
]
BY_PATH = {e.path: e for e in EXPORTS}
WITH_CLOSED = [e for e in EXPORTS if "closed" in e.fields]
WITH_COORDINATES = [e for e in EXPORTS if e.boundary is not None]


# -- the independent reading -----------------------------------------------------------------
def column_names(header: list[str]) -> list[str]:
    """Column names as ridp documents it names them: trimmed, an empty name becomes ``column_<n>``."""
    names = [raw.strip().lstrip("\ufeff") or f"column_{i}" for i, raw in enumerate(header, start=1)]
    assert len({n.lower() for n in names}) == len(names), "the files used here have no repeated names"
    return names


@functools.cache
def raw_text(path: Path) -> pd.DataFrame:
    """Every value of the file as the text written in it ('' for an empty field)."""
    if path.suffix == ".parquet":
        # The one file that is not text: its values written back as text, a null as ''.
        typed = pd.read_parquet(path)
        frame = pd.DataFrame(
            {c: [("" if pd.isna(v) else str(v)) for v in typed[c].astype(object)] for c in typed.columns}, dtype=str
        )
        frame.columns = column_names(list(typed.columns))
        return frame
    delimiter = "\t" if path.suffix == ".tsv" else ","
    with path.open(newline="", encoding="utf-8-sig") as fh:
        header = next(csv.reader(fh, delimiter=delimiter))
    frame = pd.read_csv(path, dtype=str, keep_default_na=False, sep=delimiter, encoding="utf-8-sig")
    frame.columns = column_names(header)
    return frame


def mapping_formats(values: pd.Series) -> tuple[str, ...]:
    """The date formats the workspace would store for a column (detected on its first rows)."""
    from ridp.ingest.dates import detect_dates

    return tuple(f for f, _ in detect_dates(values.head(MAPPING_SAMPLE_ROWS)).formats)


def parse_local(values: pd.Series, formats: tuple[str, ...], timezone: str) -> pd.Series:
    """Local wall-clock times of ``values``, tried format by format (NaT where none fits).

    A value with its own UTC offset is moved to the city's time zone; the others are
    already local.
    """
    text = values.str.strip()
    out = pd.Series(pd.NaT, index=values.index, dtype="datetime64[us]")
    for fmt in formats:
        todo = out.isna() & (text != "")
        if not todo.any():
            break
        chunk = text[todo]
        if fmt == ISO:
            parsed = pd.to_datetime(chunk, format="ISO8601", errors="coerce")
        elif "%z" in fmt:
            # '+00' is an offset in hours only: spell it out for strptime.
            spelled = chunk.str.replace(r"([+-]\d{2})$", r"\g<1>00", regex=True)
            aware = pd.to_datetime(spelled, format=fmt, errors="coerce", utc=True)
            parsed = aware.dt.tz_convert(timezone).dt.tz_localize(None)
        else:
            parsed = pd.to_datetime(chunk, format=fmt, errors="coerce")
        out[todo] = parsed.astype("datetime64[us]")
    return out


def month_range(first: pd.Timestamp, last: pd.Timestamp) -> list[str]:
    return [str(p) for p in pd.period_range(first.to_period("M"), last.to_period("M"), freq="M")]


@dataclass
class Expected:
    """The figures readiness should find, counted from the raw text."""

    rows: int
    columns: list[str]
    missing: dict[str, int]
    distinct: dict[str, int]
    exact_duplicate_rows: int
    duplicate_id_rows: int
    formats: dict[str, tuple[str, ...]]
    closed_before_opened: int | None = None
    no_closed_date: int | None = None
    first: pd.Timestamp | None = None
    last: pd.Timestamp | None = None
    empty_months: tuple[str, ...] = ()
    coordinates: dict[str, int] = field(default_factory=dict)
    ids_present: int = 0
    ids_distinct: int = 0


@functools.cache
def expected(export: Export) -> Expected:
    frame = raw_text(export.source)
    f = export.fields
    stripped = frame.apply(lambda c: c.str.strip())
    missing = (stripped == "") | stripped.apply(lambda c: c.str.upper().isin(PLACEHOLDERS))
    formats = {k: mapping_formats(frame[f[k]]) for k in ("opened", "closed") if k in f}
    parsed = {k: parse_local(frame[f[k]], formats[k], export.timezone) for k in formats}
    for k, values in parsed.items():
        missing[f[k]] |= values < PLACEHOLDER_BEFORE
    coordinates: dict[str, int] = {}
    if "latitude" in f:
        lat = pd.to_numeric(stripped[f["latitude"]].replace("", None), errors="coerce")
        lon = pd.to_numeric(stripped[f["longitude"]].replace("", None), errors="coerce")
        zero = (lat == 0) & (lon == 0)
        missing[f["latitude"]] |= zero
        missing[f["longitude"]] |= zero
        if export.boundary is not None:
            min_lon, min_lat, max_lon, max_lat = export.boundary
            absent = lat.isna() | lon.isna()
            inside = ~absent & ~zero & lat.between(min_lat, max_lat) & lon.between(min_lon, max_lon)
            swapped = ~absent & ~zero & ~inside & lon.between(min_lat, max_lat) & lat.between(min_lon, max_lon)
            coordinates = {
                "missing": int(absent.sum()), "zero": int(zero.sum()), "inside": int(inside.sum()),
                "swapped": int(swapped.sum()), "outside": int((~absent & ~zero & ~inside & ~swapped).sum()),
            }  # fmt: skip
    for name in export.distinct:
        assert not (frame[name] == "").any(), f"{name} has empty values: its distinct count would hang on quoting"
    unique_rows = frame.drop_duplicates()
    ids = unique_rows[unique_rows[f["id"]].str.strip() != ""]
    present_ids = frame[f["id"]][frame[f["id"]].str.strip() != ""]
    out = Expected(
        rows=len(frame),
        columns=list(frame.columns),
        missing={c: int(missing[c].sum()) for c in frame.columns},
        distinct={c: int(frame[c].nunique()) for c in export.distinct},
        exact_duplicate_rows=int(frame.duplicated().sum()),
        duplicate_id_rows=int(ids.duplicated(f["id"]).sum()),
        formats=formats,
        coordinates=coordinates,
        ids_present=len(present_ids),
        ids_distinct=int(present_ids.nunique()),
    )
    opened = parsed["opened"]
    real = opened[opened >= PLACEHOLDER_BEFORE]
    out.first, out.last = real.min(), real.max()
    seen = set(real.dt.strftime("%Y-%m"))
    out.empty_months = tuple(m for m in month_range(out.first, out.last) if m not in seen)
    if "closed" in parsed:
        closed = parsed["closed"]
        both = (opened >= PLACEHOLDER_BEFORE) & (closed >= PLACEHOLDER_BEFORE)
        out.closed_before_opened = int((both & (closed < opened)).sum())
        out.no_closed_date = int(missing[f["closed"]].sum())
    return out


# -- what readiness says ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def assessed(stored_table: Store) -> Callable[[Export], Any]:
    """``assessed(export)``: readiness of the stored export with its explicit mapping (once per module)."""
    from ridp.readiness import CanonicalMapping, assess

    stored_table.prefetch(e.source for e in EXPORTS)
    done: dict[str, Any] = {}

    def run(export: Export) -> Any:
        if export.path not in done:
            mapping = CanonicalMapping(
                fields=export.fields,
                date_formats=expected(export).formats,
                areas=export.areas,
                timezone=export.timezone,
            )
            table = stored_table(export.source)
            try:
                done[export.path] = assess(table, mapping=mapping, boundary=export.boundary, today=date(2026, 1, 1))
            except Exception as exc:  # kept, so a file readiness cannot assess fails each test once, quickly
                done[export.path] = exc
        if isinstance(done[export.path], Exception):
            raise done[export.path]
        return done[export.path]

    return run


ids = pytest.mark.parametrize("export", EXPORTS, ids=str)


@ids
def test_rows_and_columns(assessed, export):
    want = expected(export)
    result = assessed(export)
    assert (result.rows, result.table.rows) == (want.rows, want.rows)
    assert [c.name for c in result.columns] == want.columns


@ids
def test_missing_values_per_column(assessed, export):
    result = assessed(export)
    assert {c.name: c.missing for c in result.columns} == expected(export).missing


@ids
def test_distinct_counts(assessed, export):
    result = assessed(export)
    assert {c: result.column(c).distinct for c in export.distinct} == expected(export).distinct


@ids
def test_duplicate_rows_and_ids(assessed, export):
    want = expected(export)
    table = assessed(export).table
    assert (table.exact_duplicate_rows, table.duplicate_id_rows) == (want.exact_duplicate_rows, want.duplicate_id_rows)


@ids
def test_unique_id_check_counts_repeated_ids(assessed, export):
    want = expected(export)
    [check] = [c for c in assessed(export).checks if c.kind == "unique" and c.columns == (export.fields["id"],)]
    assert check.failing == want.ids_present - want.ids_distinct


@pytest.mark.parametrize("export", WITH_CLOSED, ids=str)
def test_closed_before_opened(assessed, export):
    [check] = [c for c in assessed(export).checks if c.kind == "date_order"]
    assert check.columns == (export.fields["opened"], export.fields["closed"])
    assert check.failing == expected(export).closed_before_opened


@pytest.mark.parametrize("export", WITH_CLOSED, ids=str)
def test_share_without_a_closed_date(assessed, export):
    want = expected(export)
    closed = assessed(export).column(export.fields["closed"])
    assert closed.missing == want.no_closed_date
    assert closed.missing_share == pytest.approx(want.no_closed_date / want.rows, abs=1e-12)


@ids
def test_first_and_last_opened_and_empty_months(assessed, export):
    want = expected(export)
    table = assessed(export).table
    got = (
        pd.Timestamp(table.first) if table.first is not None else None,
        pd.Timestamp(table.last) if table.last is not None else None,
        tuple(table.empty_months),
    )
    assert got == (want.first, want.last, want.empty_months)


@pytest.mark.parametrize("export", WITH_COORDINATES, ids=str)
def test_coordinates_against_the_city_box(assessed, export):
    counts = assessed(export).table.coordinates
    assert counts is not None
    got = {k: getattr(counts, k) for k in ("missing", "zero", "inside", "swapped", "outside")}
    assert got == expected(export).coordinates
    assert counts.boundary == export.boundary


# -- the figures SOURCES.md gives ------------------------------------------------------------
def test_san_francisco_figures_match_sources_md():
    # SOURCES.md: 55 cases closed before opened, 222 never closed; the pandas count agrees.
    want = expected(BY_PATH["san_francisco/cases_sample.csv"])
    assert (want.closed_before_opened, want.no_closed_date) == (55, 222)


def test_nyc_share_without_a_closed_date_is_about_58_percent():
    # SOURCES.md: "58 % without a closed date" (3,431 empty and 2 dated 01/01/1900 of 5,895).
    want = expected(BY_PATH["nyc/311.csv"])
    assert want.no_closed_date is not None
    assert round(100 * want.no_closed_date / want.rows) == 58


# -- the broken Boston variants are flagged for what they are ------------------------------
def test_boston_duplicates_are_found_and_lower_uniqueness(assessed):
    clean = assessed(BY_PATH["boston/boston311-100.csv"])
    dupes = assessed(BY_PATH["boston/boston311-100-20dupes-random.csv"])
    assert expected(BY_PATH["boston/boston311-100-20dupes-random.csv"]).exact_duplicate_rows == 20
    assert (clean.table.exact_duplicate_rows, dupes.table.exact_duplicate_rows) == (0, 20)
    assert clean.check("unique: case_enquiry_id").failing == 0
    assert dupes.check("unique: case_enquiry_id").failing > 0
    assert dupes.dimension("uniqueness").score < clean.dimension("uniqueness").score
    assert clean.dimension("uniqueness").findings == ()
    assert any("20" in finding for finding in dupes.dimension("uniqueness").findings)


def test_boston_dates_without_times_are_flagged(assessed):
    notime = assessed(BY_PATH["boston/boston311-100-notime.csv"])
    clean = assessed(BY_PATH["boston/boston311-100.csv"])
    assert dict(notime.table.no_time) == {"opened": True, "closed": True}
    assert dict(clean.table.no_time) == {"opened": False, "closed": False}


def test_boston_day_month_year_dates_read_as_the_iso_file(assessed):
    dmy = assessed(BY_PATH["boston/boston311-dmy-100.csv"])
    iso = assessed(BY_PATH["boston/boston311-100.csv"])
    assert dmy.table.date_formats["opened"] == ("%d/%m/%Y %H:%M:%S",)
    assert dmy.table.unparsed_dates == {"opened": 0, "closed": 0}
    assert (dmy.table.first, dmy.table.last, dmy.table.months) == (iso.table.first, iso.table.last, iso.table.months)
    [dmy_order] = [c for c in dmy.checks if c.kind == "date_order"]
    [iso_order] = [c for c in iso.checks if c.kind == "date_order"]
    assert dmy_order.failing == iso_order.failing


def test_boston_non_ascii_text_is_counted_like_any_text(assessed):
    export = BY_PATH["boston/boston311-100-with-nonascii.csv"]
    frame = raw_text(export.source)
    touched = [c for c in frame.columns if frame[c].map(lambda v: any(ord(ch) > 127 for ch in v)).any()]
    assert touched, "the variant holds non-ASCII text"
    assert not (frame[touched] == "").any().any(), "no empty values: the distinct counts do not hang on quoting"
    result = assessed(export)
    assert {c: result.column(c).distinct for c in touched} == {c: int(frame[c].nunique()) for c in touched}


def test_malformed_boston_tsv_is_refused_at_ingest_naming_the_row(tmp_path):
    with pytest.raises(RaggedRowError) as info:
        ingest(CITY / "boston/boston311-100-bad.tsv", tmp_path / "bad.parquet")
    # The independent reading: the first record whose field count differs from the header's.
    with (CITY / "boston/boston311-100-bad.tsv").open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh, delimiter="\t")
        header = next(reader)
        bad_line = next(reader.line_num for record in reader if len(record) != len(header))
    assert info.value.row == bad_line
    assert "boston311-100-bad.tsv" in str(info.value) and f"row {bad_line}" in str(info.value)
    assert not (tmp_path / "bad.parquet").exists()
