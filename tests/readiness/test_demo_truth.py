"""Readiness finds every messy value the demo city plants, exactly as ``truth.json`` counts them.

The demo city is ingested by ridp's own ingest and assessed with an explicit
mapping. Each count in ``truth.json["messiness"]["counts"]`` must be found by
readiness in the place the API gives it; a new kind in ``truth.json`` fails
:func:`test_every_planted_kind_has_its_place` until it is covered here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import date
from typing import Any

import ibis
import pandas as pd
import pytest

from ridp.demo import DemoCity, generate_city
from tests.readiness.conftest import Store

ROWS = 20_000
FIELDS = {
    "id": "service_request_id", "opened": "requested_datetime", "closed": "closed_datetime", "status": "status",
    "type": "service_name", "agency": "agency", "channel": "channel", "address": "address",
    "latitude": "latitude", "longitude": "longitude",
}  # fmt: skip
#: The workspace reads date formats from the first rows of a version (``ridp.workspace.datasets.SAMPLE_ROWS``).
MAPPING_SAMPLE_ROWS = 5000


@pytest.fixture(scope="session")
def demo_city(tmp_path_factory: pytest.TempPathFactory) -> DemoCity:
    return generate_city(tmp_path_factory.mktemp("demo-city"), rows=ROWS)


@pytest.fixture(scope="session")
def truth(demo_city: DemoCity) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(demo_city.truth_json.read_text(encoding="utf-8"))
    return data


@pytest.fixture(scope="session")
def raw(demo_city: DemoCity) -> pd.DataFrame:
    return pd.read_csv(demo_city.requests_csv, dtype=str, keep_default_na=False)


@pytest.fixture(scope="session")
def demo_table(demo_city: DemoCity, stored_table: Store) -> ibis.Table:
    return stored_table(demo_city.requests_csv)


def _mapping(raw: pd.DataFrame) -> Any:
    from ridp.ingest.dates import detect_dates
    from ridp.readiness import CanonicalMapping

    formats = {
        f: tuple(fmt for fmt, _ in detect_dates(raw[FIELDS[f]].head(MAPPING_SAMPLE_ROWS)).formats)
        for f in ("opened", "closed")
    }
    return CanonicalMapping(FIELDS, formats, ("neighbourhood", "area_id"), "America/New_York")


@pytest.fixture(scope="session")
def result(demo_table: ibis.Table, raw: pd.DataFrame, truth: dict[str, Any]) -> Any:
    """Readiness with the city's own bounding box."""
    from ridp.readiness import assess

    min_lon, min_lat, max_lon, max_lat = (float(v) for v in truth["city"]["bbox"])
    box = (min_lon, min_lat, max_lon, max_lat)
    return assess(demo_table, mapping=_mapping(raw), boundary=box, today=date(2025, 1, 1))


@pytest.fixture(scope="session")
def inferred(demo_table: ibis.Table, raw: pd.DataFrame) -> Any:
    """Readiness with the boundary inferred from the points."""
    from ridp.readiness import assess

    return assess(demo_table, mapping=_mapping(raw), today=date(2025, 1, 1))


def _shape(value: str) -> str:
    return re.sub(r"[A-Za-z]", "a", re.sub(r"[0-9]", "9", value))


# -- one place per planted kind --------------------------------------------------------------
def _exact_duplicate_rows(r: Any) -> int:
    return int(r.table.exact_duplicate_rows)


def _duplicate_id_rows(r: Any) -> int:
    return int(r.table.duplicate_id_rows)


def _closed_before_opened(r: Any) -> int:
    [check] = [c for c in r.checks if c.kind == "date_order"]
    assert check.columns == ("requested_datetime", "closed_datetime")
    return int(check.failing)


def _closed_placeholder(r: Any) -> int:
    return int(r.column("closed_datetime").placeholders)


def _zero(r: Any) -> int:
    lat, lon = r.column("latitude").placeholders, r.column("longitude").placeholders
    assert lat == lon == r.table.coordinates.zero, (lat, lon, r.table.coordinates)
    return int(r.table.coordinates.zero)


def _coords_missing(r: Any) -> int:
    assert r.column("latitude").nulls == r.column("longitude").nulls == r.table.coordinates.missing
    return int(r.table.coordinates.missing)


def _swapped(r: Any) -> int:
    return int(r.table.coordinates.swapped)


def _placeholders(column: str) -> Callable[[Any], int]:
    return lambda r: int(r.column(column).placeholders)


def _padded(column: str) -> Callable[[Any], int]:
    return lambda r: int(r.column(column).padded)


def _pattern(shape: str) -> Callable[[Any], int]:
    def count(r: Any) -> int:
        profile = r.column("requested_datetime")
        assert profile.patterns_from == r.rows, "the shapes must be read from every row to be counted exactly"
        return int(dict(profile.patterns).get(shape, 0))

    return count


# Empty text ('', which ingest may store as null) and text made only of spaces are told apart:
# ``blanks`` holds both, ``whitespace`` the second.
BLANK_PAIRS = {"description": ("description_blank", "description_whitespace"),
               "address": ("address_blank", "address_whitespace")}  # fmt: skip


def _empty(column: str) -> Callable[[Any], int]:
    def count(result: Any) -> int:
        p = result.column(column)
        return int(p.nulls + p.blanks - p.whitespace)

    return count


def _whitespace(column: str) -> Callable[[Any], int]:
    return lambda result: int(result.column(column).whitespace)


FOUND_BY: dict[str, Callable[[Any], int]] = {
    "exact_duplicate_rows": _exact_duplicate_rows,
    "duplicate_id_rows": _duplicate_id_rows,
    "closed_before_opened": _closed_before_opened,
    "closed_placeholder_1900": _closed_placeholder,
    "coords_placeholder_zero": _zero,
    "coords_missing": _coords_missing,
    "coords_swapped": _swapped,
    "description_na": _placeholders("description"),
    "description_blank": _empty("description"),
    "description_whitespace": _whitespace("description"),
    "address_blank": _empty("address"),
    "address_whitespace": _whitespace("address"),
    "address_na": _placeholders("address"),
    "neighbourhood_padded": _padded("neighbourhood"),
    "date_format_us_12h": _pattern("99/99/9999 99:99:99 aa"),
    "date_format_iso_minute": _pattern("9999-99-99 99:99"),
}


def test_every_planted_kind_has_its_place(truth):
    planted = set(truth["messiness"]["counts"])
    covered = set(FOUND_BY) | {kind for pair in BLANK_PAIRS.values() for kind in pair}
    assert planted == covered


@pytest.mark.parametrize("kind", sorted(FOUND_BY))
def test_planted_count_is_found(result, truth, kind):
    assert FOUND_BY[kind](result) == truth["messiness"]["counts"][kind]


@pytest.mark.parametrize("column", sorted(BLANK_PAIRS))
def test_blank_and_whitespace_text_is_found(result, truth, raw, column):
    counts = truth["messiness"]["counts"]
    profile = result.column(column)
    planted = sum(counts[kind] for kind in BLANK_PAIRS[column])
    assert profile.nulls + profile.blanks == planted
    # The whole of 'missing' is the planted '', spaces and 'N/A', and nothing else.
    assert profile.missing == planted + counts[f"{column}_na"]
    assert (raw[column].str.strip() == "").sum() == planted  # the file agrees with truth.json


def test_rows_and_date_formats(result, truth, raw):
    formats = truth["messiness"]["date_formats"]
    assert result.rows == truth["rows"]["total"] == len(raw)
    assert result.table.unparsed_dates["opened"] == 0
    assert set(result.table.date_formats["opened"]) == {"ISO 8601", "%m/%d/%Y %I:%M:%S %p"}
    shapes = dict(result.column("requested_datetime").patterns)
    assert shapes.get("9999-99-99a99:99:99") == formats["iso"]
    assert shapes.get("99/99/9999 99:99:99 aa") == formats["us_12h"]
    assert shapes.get("9999-99-99 99:99") == formats["iso_minute"]
    # The same shapes, counted from the raw text.
    assert raw["requested_datetime"].map(_shape).value_counts().to_dict() == {
        "9999-99-99a99:99:99": formats["iso"], "99/99/9999 99:99:99 aa": formats["us_12h"],
        "9999-99-99 99:99": formats["iso_minute"],
    }  # fmt: skip


def test_clean_points_are_inside_the_city(result, truth):
    counts = truth["messiness"]["counts"]
    c = result.table.coordinates
    assert c.boundary == tuple(float(v) for v in truth["city"]["bbox"]) and c.boundary_source == "given"
    assert c.outside == 0
    assert c.inside == ROWS - counts["coords_placeholder_zero"] - counts["coords_missing"] - counts["coords_swapped"]


def test_an_inferred_boundary_finds_the_same_coordinates(inferred, result):
    a, b = inferred.table.coordinates, result.table.coordinates
    assert a.boundary_source != "given"
    assert (a.inside, a.outside, a.swapped, a.zero, a.missing) == (b.inside, b.outside, b.swapped, b.zero, b.missing)


def test_the_padded_neighbourhoods_are_in_the_file(raw, truth):
    values = raw["neighbourhood"]
    assert ((values != values.str.strip()) & (values.str.strip() != "")).sum() == truth["messiness"]["counts"][
        "neighbourhood_padded"
    ]
