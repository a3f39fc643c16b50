"""Points assigned to areas on DuckDB equal an independent shapely and pandas computation.

Every expected figure is made here from the files themselves: the coordinates from
the export's raw text (Python's own ``float``), the polygons from the GeoJSON read
with ``json`` and shapely's ``shape`` (an invalid ring made valid, as ridp's small
repairs do), and each point given to the first polygon in id order whose interior
holds it (``shapely.contains_xy``). The statuses follow the definitions of
:mod:`ridp.analysis.assign`: missing, both zero, inside the areas' bounding box,
exchanged into it (swapped), beyond ±90/±180 (invalid), otherwise outside. ridp
only makes the tables (its own ingest, as the product does).

The cities' own area columns are compared too where their areas are the same
areas: Chicago's ``community_area`` and ``ward``, New York's ``Borough``. San
Francisco's ``Neighborhood`` column uses another set of neighbourhoods than the
tracts' analysis neighbourhoods (they agree on under half the rows), so it is not
compared. Baltimore publishes no polygons: its areas come from its own
``neighborhood`` column, never from a point-in-polygon join.
"""

from __future__ import annotations

import csv
import functools
import gc
import json
import math
import sys
import zipfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pytest
import shapely
from pyproj import Transformer
from shapely.geometry import box, mapping, shape

from ridp.analysis.assign import STATUSES, AreaAssignment, assign_areas
from ridp.analysis.boundaries import Boundaries
from ridp.errors import FieldError, FileFormatError
from tests.readiness.conftest import Store
from tests.readiness.test_demo_truth import _mapping, demo_city, demo_table, raw, truth
from tests.readiness.test_real_data import BY_PATH, CITY, Export, raw_text

__all__ = ["demo_city", "demo_table", "raw", "truth"]  # session fixtures, shared with the readiness tests

SF = BY_PATH["san_francisco/cases_sample.csv"]
NYC = BY_PATH["nyc/311.csv"]
CHICAGO = BY_PATH["chicago/311 Service Requests - Pot Holes Reported - Historical.csv"]


@dataclass(frozen=True)
class Case:
    """A city's export and one of its boundary files, with the property that names each area."""

    export: Export
    geojson: str  # under ../shared/data/city
    id_property: str

    def __str__(self) -> str:
        return f"{self.export.path.split('/')[0]}:{Path(self.geojson).stem}"


CASES = [
    Case(SF, "san_francisco/city_analysis_neighbor.geojson", "geoid"),
    Case(NYC, "nyc/nyc.geojson", "name"),
    Case(NYC, "nyc/nyc-zipcodes.geojson", "OBJECTID"),
    Case(CHICAGO, "chicago/Chicago_Community_Areas.geojson", "NID"),
    Case(CHICAGO, "chicago/Chicago_Wards.geojson", "ward"),
]
BY_NAME = {str(c): c for c in CASES}


# -- the independent computation ---------------------------------------------------------------
def id_text(value: object) -> str:
    """An area id as text: Chicago's community areas are numbered 1.0, 2.0... in their file."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def id_order(area: str) -> tuple[int, float, str]:
    """Numeric ids in numeric order, then the others as text (the order the overlaps follow)."""
    try:
        return (0, float(area), area)
    except ValueError:
        return (1, 0.0, area)


@functools.cache
def read_boundaries(geojson: str) -> Boundaries:
    """ridp's reading of a real boundary file (frozen, so shared by the tests of this module)."""
    return Boundaries.from_file(CITY / geojson)


@functools.cache
def read_polygons(path: Path, id_property: str) -> tuple[list[str], list[Any]]:
    """The file's polygons in id order, each made valid where its ring crosses itself (read once per session;
    the lists are only read)."""
    document = json.loads(path.read_text(encoding="utf-8"))
    pairs = []
    for feature in document["features"]:
        geom = shape(feature["geometry"])
        pairs.append((id_text(feature["properties"][id_property]), geom if geom.is_valid else shapely.make_valid(geom)))
    pairs.sort(key=lambda p: id_order(p[0]))
    ids = [a for a, _ in pairs]
    assert len(set(ids)) == len(ids), f"{path.name}: {id_property} repeats"
    polygons = [g for _, g in pairs]
    shapely.prepare(polygons)  # thousands of points against the boroughs' 100,000 vertices
    return ids, polygons


def number(text: object) -> float:
    """A coordinate written as text, read with Python's float ('' and 'N/A' are missing)."""
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return math.nan
    try:
        return float(str(text).strip())
    except ValueError:
        return math.nan


def expected_places(
    lat: Sequence[float], lon: Sequence[float], ids: Sequence[str], polygons: Sequence[Any]
) -> tuple[np.ndarray, np.ndarray]:
    """Each point's status and area (None when not placed), by the module's definitions."""
    y, x = np.asarray(lat, dtype=float), np.asarray(lon, dtype=float)
    west, south, east, north = shapely.total_bounds(list(polygons))
    missing = np.isnan(x) | np.isnan(y)
    zero = ~missing & (x == 0) & (y == 0)
    real = ~missing & ~zero
    inside = real & (x >= west) & (x <= east) & (y >= south) & (y <= north)
    swapped = real & ~inside & (y >= west) & (y <= east) & (x >= south) & (x <= north)
    invalid = real & ~inside & ~swapped & ((np.abs(y) > 90) | (np.abs(x) > 180))
    px, py = np.where(swapped, y, x), np.where(swapped, x, y)
    area = np.full(len(x), None, dtype=object)
    for a, polygon in zip(ids, polygons, strict=True):
        hit = (inside | swapped) & (area == None) & shapely.contains_xy(polygon, px, py)  # noqa: E711
        area[hit] = a
    status = np.full(len(x), "outside", dtype=object)
    status[missing], status[zero], status[invalid] = "missing", "zero", "invalid"
    status[inside & (area != None)] = "assigned"  # noqa: E711
    status[swapped & (area != None)] = "swapped"  # noqa: E711
    return status, area


def status_counts(status: np.ndarray) -> dict[str, int]:
    found = Counter(status.tolist())
    return {s: int(found.get(s, 0)) for s in STATUSES}


def placed_rows(
    result: AreaAssignment, id_column: str, frame: pd.DataFrame | None = None
) -> Counter[tuple[str, str | None]]:
    """(row id, area) of every row of the result's table (``frame``: that table, read already)."""
    if frame is None:
        assert result.table is not None
        frame = result.table.select(id_column, result.column).to_pandas()
    return Counter(
        (str(i), None if pd.isna(a) else str(a)) for i, a in zip(frame[id_column], frame[result.column], strict=True)
    )


# -- real cities ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    case: Case
    table: ibis.Table
    result: AreaAssignment
    frame: pd.DataFrame  # the raw text
    status: np.ndarray
    area: np.ndarray
    ids: list[str]
    polygons: list[Any]
    assigned: pd.DataFrame  # the result's table, read once: each read of it runs the spatial join again


@pytest.fixture(scope="module")
def run(stored_table: Store) -> Iterator[Callable[[str], Run]]:
    """``run(name)``: one case assigned by ridp and by the independent computation, once per module.

    An assignment's table is a view over a cached copy that ibis drops when the result is
    collected: the results go before the session's engine closes (see the last test).
    """
    stored_table.prefetch({c.export.source for c in CASES})
    done: dict[str, Run] = {}

    def get(name: str) -> Run:
        if name not in done:
            case = BY_NAME[name]
            fields = case.export.fields
            table = stored_table(case.export.source)
            boundaries = read_boundaries(case.geojson)
            result = assign_areas(table, boundaries, lat=fields["latitude"], lon=fields["longitude"],
                                  id_column=fields["id"])  # fmt: skip
            frame = raw_text(case.export.source)
            ids, polygons = read_polygons(CITY / case.geojson, case.id_property)
            lat = [number(v) for v in frame[fields["latitude"]]]
            lon = [number(v) for v in frame[fields["longitude"]]]
            status, area = expected_places(lat, lon, ids, polygons)
            assert result.table is not None
            assigned = result.table.to_pandas()
            done[name] = Run(case, table, result, frame, status, area, ids, polygons, assigned)
        return done[name]

    yield get
    done.clear()
    gc.collect()


@pytest.mark.parametrize("name", list(BY_NAME))
def test_counts_per_area_and_per_status_equal_shapely(run, name):
    r = run(name)
    result = r.result
    assert result.engine == "duckdb"
    assert list(result.per_area) == r.ids  # every area listed, in id order, zero where none fell
    expected_per_area = Counter(a for a in r.area.tolist() if a is not None)
    assert dict(result.per_area) == {a: expected_per_area.get(a, 0) for a in r.ids}
    assert dict(result.counts) == status_counts(r.status)
    assert result.assigned == int(sum(expected_per_area.values()))


@pytest.mark.parametrize("name", list(BY_NAME))
def test_each_row_gets_the_area_shapely_gives_it(run, name):
    r = run(name)
    id_column = r.case.export.fields["id"]
    expected = Counter(zip(r.frame[id_column].tolist(), r.area.tolist(), strict=True))
    assert placed_rows(r.result, id_column, r.assigned) == expected


@pytest.mark.parametrize("name", list(BY_NAME))
def test_no_row_is_lost_or_repeated(run, name):
    r = run(name)
    id_column = r.case.export.fields["id"]
    rows = len(r.frame)
    assert r.table.count().to_pyarrow().as_py() == rows
    assert sum(r.result.counts.values()) == r.result.rows == rows
    assert r.result.table is not None
    assert list(r.result.table.columns) == list(r.assigned.columns) == [*r.table.columns, "area_id"]
    assert len(r.assigned) == rows  # the result's table, read whole
    ids = r.assigned[id_column]
    assert Counter(str(v) for v in ids) == Counter(r.frame[id_column].tolist())


def test_the_real_files_have_what_the_tests_rely_on(run):
    """Figures of the files themselves, so the comparisons above are not vacuous."""
    nyc = run("nyc:nyc")
    assert status_counts(nyc.status)["missing"] == 57 and nyc.result.counts["missing"] == 57
    assert nyc.result.counts["assigned"] == 5837
    sf = run("san_francisco:city_analysis_neighbor")
    assert sf.result.counts["assigned"] == len(sf.frame) == 4984
    assert sum(1 for n in sf.result.per_area.values() if n > 0) > 150
    chicago = run("chicago:Chicago_Wards")
    assert (chicago.result.counts["missing"], chicago.result.counts["outside"]) == (1, 6)
    assert min(chicago.result.per_area.values()) > 0


@pytest.mark.parametrize(("name", "column"), [("chicago:Chicago_Community_Areas", "community_area"),
                                              ("chicago:Chicago_Wards", "ward")])  # fmt: skip
def test_chicagos_own_area_columns_agree_and_the_disagreements_sit_on_edges(run, name, column):
    """Chicago's export carries the community area and ward the city gave each request.

    Where both the city and ridp place a point, they agree on more than 95 % of the
    rows (98.99 % of community areas, every ward). Each disagreement is a point
    within 200 m of the area the city gave (an address point snapped to the other
    side of a boundary street); each point ridp leaves outside is one the city
    coded 0, just beyond the city limit (within 20 m of the nearest area).
    """
    r = run(name)
    id_column = CHICAGO.fields["id"]
    assert r.result.table is not None
    got = r.assigned[[id_column, "area_id", column, "latitude", "longitude"]]
    own = got[column].map(lambda v: None if pd.isna(v) else id_text(float(v)))
    placed = got["area_id"].notna() & own.notna()
    agree = got.loc[placed, "area_id"] == own[placed]
    share = float(agree.mean())
    assert share > 0.95, f"{name}: ridp and the city agree on {share:.2%} of {int(placed.sum())} rows"
    assert int(placed.sum()) == r.result.assigned == 993
    metres = Transformer.from_crs("EPSG:4326", "EPSG:26916", always_xy=True)  # UTM 16N: metres in Chicago
    polygons = dict(zip(r.ids, r.polygons, strict=True))

    def in_metres(geometry: Any) -> Any:
        return shapely.transform(geometry, lambda xy: np.column_stack(metres.transform(xy[:, 0], xy[:, 1])))

    for i in agree.index[~agree]:
        row = got.loc[i]
        point = shapely.Point(*metres.transform(row["longitude"], row["latitude"]))
        distance = in_metres(polygons[own[i]]).distance(point)
        assert distance < 200, (row[id_column], own[i], row["area_id"], distance)
    outside = got["area_id"].isna() & got["latitude"].notna()
    assert int(outside.sum()) == r.result.counts["outside"] == 6
    assert set(own[outside]) == {"0"}
    city = in_metres(shapely.union_all(r.polygons))
    for _, row in got[outside].iterrows():
        assert city.distance(shapely.Point(*metres.transform(row["longitude"], row["latitude"]))) < 20
    expected_share = {"community_area": 983 / 993, "ward": 1.0}[column]
    assert share == pytest.approx(expected_share)


def test_new_yorks_borough_column_agrees_except_on_marble_hill(run):
    """NYC's own Borough column against the borough polygons: 99.9 % agree; the four
    others are Marble Hill (zip 10463), Manhattan by law but on the Bronx side, which
    311 files under the Bronx: each within 300 m of the Bronx."""
    r = run("nyc:nyc")
    assert r.result.table is not None
    got = r.assigned[["area_id", "Borough", "Incident Zip", "Latitude", "Longitude"]]
    placed = got["area_id"].notna() & (got["Borough"] != "Unspecified")
    agree = got.loc[placed, "area_id"].str.upper() == got.loc[placed, "Borough"]
    assert float(agree.mean()) > 0.99 and int((~agree).sum()) == 4
    others = got.loc[agree.index[~agree]]
    assert set(others["area_id"]) == {"Manhattan"} and set(others["Borough"]) == {"BRONX"}
    assert set(others["Incident Zip"].astype(str).str[:5]) == {"10463"}
    metres = Transformer.from_crs("EPSG:4326", "EPSG:32618", always_xy=True)
    bronx = shapely.transform(r.polygons[r.ids.index("Bronx")],
                              lambda xy: np.column_stack(metres.transform(xy[:, 0], xy[:, 1])))  # fmt: skip
    for _, row in others.iterrows():
        assert bronx.distance(shapely.Point(*metres.transform(row["Longitude"], row["Latitude"]))) < 300


# -- planted coordinates -------------------------------------------------------------------------
def planted_nyc(folder: Path, *, text: bool) -> pd.DataFrame:
    """NYC's 311 export with zero, swapped, out-of-range and far-away coordinates planted in it."""
    frame = raw_text(NYC.source).copy()
    with_xy = frame.index[(frame["Latitude"] != "") & (frame["Longitude"] != "")].tolist()
    rng = np.random.default_rng(20)
    rows = iter(rng.choice(with_xy, 60, replace=False).tolist())

    def plant(n: int, lat: Callable[[str, str], str], lon: Callable[[str, str], str]) -> None:
        for _ in range(n):
            i = next(rows)
            y, x = frame.at[i, "Latitude"], frame.at[i, "Longitude"]
            frame.at[i, "Latitude"], frame.at[i, "Longitude"] = lat(y, x), lon(y, x)

    plant(7, lambda y, x: "0", lambda y, x: "0")  # placeholders
    plant(2, lambda y, x: "0.0", lambda y, x: "-0.0")
    plant(5, lambda y, x: x, lambda y, x: y)  # exchanged
    plant(3, lambda y, x: y.replace(".", "", 1)[:3] + "." + y.replace(".", "", 1)[3:], lambda y, x: x)  # 407.12
    plant(2, lambda y, x: y, lambda y, x: x.replace(".", "", 1)[:4] + "." + x.replace(".", "", 1)[4:])  # -739.12
    plant(3, lambda y, x: "42.3601", lambda y, x: "-71.0589")  # Boston: a real place outside every borough
    plant(2, lambda y, x: "0", lambda y, x: x)  # one zero only: a real (if wrong) coordinate, outside
    if text:
        plant(3, lambda y, x: "N/A", lambda y, x: "N/A")
        plant(2, lambda y, x: " ", lambda y, x: x)
    path = folder / ("nyc_planted_text.csv" if text else "nyc_planted.csv")
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)  # quoted only where needed, as NYC writes it
        writer.writerow(frame.columns)
        writer.writerows(frame.itertuples(index=False))
    frame.attrs["path"] = path
    return frame


@pytest.fixture(scope="module")
def planted(
    tmp_path_factory: pytest.TempPathFactory, stored_table: Store
) -> Iterator[Callable[[bool], tuple[pd.DataFrame, ibis.Table, AreaAssignment]]]:
    """``planted(text)``: the planted export's raw text, its table, and its assignment to the boroughs."""
    folder = tmp_path_factory.mktemp("planted")
    frames = {text: planted_nyc(folder, text=text) for text in (False, True)}
    stored_table.prefetch(f.attrs["path"] for f in frames.values())
    done: dict[bool, tuple[pd.DataFrame, ibis.Table, AreaAssignment]] = {}

    def get(text: bool) -> tuple[pd.DataFrame, ibis.Table, AreaAssignment]:
        if text not in done:
            table = stored_table(frames[text].attrs["path"])
            result = assign_areas(table, read_boundaries("nyc/nyc.geojson"), lat="Latitude", lon="Longitude",
                                  id_column="Unique Key")  # fmt: skip
            done[text] = (frames[text], table, result)
        return done[text]

    yield get
    done.clear()  # the results' cached tables go while the engine is open (see the last test)
    gc.collect()


@pytest.mark.parametrize("text", [False, True], ids=["numbers", "with-text"])
def test_planted_zero_swapped_invalid_and_outside_coordinates_are_counted_as_pandas_counts_them(planted, text):
    frame, table, result = planted(text)
    assert table.schema()["Latitude"].is_string() == text  # 'N/A' keeps the column text: still read
    ids, polygons = read_polygons(CITY / "nyc/nyc.geojson", "name")
    lat, lon = [number(v) for v in frame["Latitude"]], [number(v) for v in frame["Longitude"]]
    status, area = expected_places(lat, lon, ids, polygons)
    counts = status_counts(status)
    plants = {"zero": 9, "swapped": 5, "invalid": 5, "missing": 57 + (5 if text else 0)}
    assert {k: counts[k] for k in plants} == plants  # the plants are what they claim to be
    assert counts["outside"] == 1 + 3 + 2
    assert dict(result.counts) == counts
    expected_per_area = Counter(a for a in area.tolist() if a is not None)
    assert dict(result.per_area) == {a: expected_per_area.get(a, 0) for a in ids}
    assert placed_rows(result, "Unique Key") == Counter(zip(frame["Unique Key"], area.tolist(), strict=True))
    assert result.rows == len(frame) == sum(result.counts.values())
    # Up to five examples of each status, each a row of that status.
    by_status: dict[str, set[str]] = {}
    for key, s in zip(frame["Unique Key"], status, strict=True):
        by_status.setdefault(str(s), set()).add(key)
    assert set(result.examples) == {s for s in STATUSES[1:] if counts[s]}
    for s, examples in result.examples.items():
        assert len(examples) == min(5, counts[s]), s
        assert all(str(e["Unique Key"]) in by_status[s] for e in examples), s
        assert all(set(e) == {"Unique Key", "Latitude", "Longitude"} for e in examples), s


# -- boundaries: bad input -----------------------------------------------------------------------
# Small squares in Port Alder (the demo's fictional city, lon -71.2..-70.9, lat 42.2..42.45).
W, S = -71.2, 42.2


def cell(i: int, j: int, size: float = 0.05) -> Any:
    return box(W + i * size, S + j * size, W + (i + 1) * size, S + (j + 1) * size)


def feature(area_id: str, geometry: Any) -> dict[str, Any]:
    return {"type": "Feature", "properties": {"area_id": area_id}, "geometry": mapping(geometry)}


def collection(*features: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": list(features), **extra}


def points_table(points: Sequence[tuple[float, float]]) -> ibis.Table:
    """(lon, lat) points as a table with an id per point."""
    return ibis.memtable(
        {
            "id": list(range(1, len(points) + 1)),
            "lat": [p[1] for p in points],
            "lon": [p[0] for p in points],
        }
    )


def grid_points(bounds: tuple[float, float, float, float], n: int = 24) -> list[tuple[float, float]]:
    """An n x n lattice of cell centres over ``bounds``.

    Off the areas' edges when those cut ``bounds`` in halves (n even) or thirds (any n):
    a point on an edge is in no area's interior, and after a reprojection it may fall
    on either side.
    """
    x0, y0, x1, y1 = bounds
    xs = x0 + (np.arange(n) + 0.5) * (x1 - x0) / n
    ys = y0 + (np.arange(n) + 0.5) * (y1 - y0) / n
    return [(float(x), float(y)) for x in xs for y in ys]


def shapely_counts(points: Sequence[tuple[float, float]], ids: Sequence[str], polygons: Sequence[Any]) -> Counter:
    _, area = expected_places([p[1] for p in points], [p[0] for p in points], ids, polygons)
    return Counter(a for a in area.tolist() if a is not None)


def test_a_bow_tie_is_left_out_with_its_reason(tmp_path):
    bow_tie = shapely.Polygon([(W, S), (W + 0.1, S + 0.1), (W + 0.1, S), (W, S + 0.1)])
    assert not bow_tie.is_valid
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(collection(feature("A", cell(3, 3)), feature("X", bow_tie))), encoding="utf-8")
    b = Boundaries.from_file(path)
    assert b.ids == ("A",)
    (problem,) = b.problems
    assert (problem.kind, problem.count, problem.left_out) == ("invalid", 1, True)
    assert problem.examples[0].startswith("X: Self-intersection")
    assert "left out" in problem.message and "X: Self-intersection" in b.summary()
    only = tmp_path / "only.geojson"
    only.write_text(json.dumps(collection(feature("X", bow_tie))), encoding="utf-8")
    with pytest.raises(FieldError, match=r"no usable area.*invalid polygon"):
        Boundaries.from_file(only)


def test_a_tiny_self_intersection_is_repaired_reported_and_used():
    # The top edge of a 0.05° square makes a loop of 0.0002°: the ring crosses itself once.
    x0, y0, x1, y1 = cell(0, 0).bounds
    mid = (x0 + x1) / 2
    ring = [(x0, y0), (x1, y0), (x1, y1), (mid + 1e-4, y1), (mid - 1e-4, y1 + 2e-4), (mid + 1e-4, y1 + 2e-4),
            (mid - 1e-4, y1), (x0, y1), (x0, y0)]  # fmt: skip
    crossed = shapely.Polygon(ring)
    assert not crossed.is_valid
    b = Boundaries.from_geojson(collection(feature("A", crossed), feature("B", cell(1, 0))))
    assert b.ids == ("A", "B")
    (problem,) = b.problems
    assert (problem.kind, problem.count, problem.left_out) == ("repaired", 1, False)
    assert problem.examples[0].startswith("A: Self-intersection[")
    assert b.geometry("A").is_valid and b.geometry("A").area == pytest.approx(cell(0, 0).area, rel=1e-3)
    points = grid_points((x0, y0, x0 + 0.1, y1))
    result = assign_areas(points_table(points), b, lat="lat", lon="lon")
    expected = shapely_counts(points, ["A", "B"], [cell(0, 0), cell(1, 0)])
    assert dict(result.per_area) == dict(expected) and sum(expected.values()) == len(points)
    assert any("repaired" in p for p in result.boundary_problems)


def _in_metres(geometry: Any) -> Any:
    to_metres = Transformer.from_crs("EPSG:4326", "EPSG:3857", always_xy=True)
    return shapely.transform(geometry, lambda xy: np.column_stack(to_metres.transform(xy[:, 0], xy[:, 1])))


def test_a_file_in_metres_that_does_not_say_so_is_left_out_as_another_crs(tmp_path):
    metres = collection(feature("A", _in_metres(cell(0, 0))), feature("B", _in_metres(cell(1, 0))))
    path = tmp_path / "metres.geojson"
    path.write_text(json.dumps(metres), encoding="utf-8")
    with pytest.raises(FieldError, match="not longitude/latitude") as caught:
        Boundaries.from_file(path)
    assert caught.value.field == "boundaries" and "crs=" in str(caught.value)
    # One polygon in metres among areas in degrees: that one is left out, with its reason.
    mixed = Boundaries.from_geojson(collection(feature("A", cell(0, 0)), feature("B", _in_metres(cell(1, 0)))))
    assert mixed.ids == ("A",)
    (problem,) = mixed.problems
    assert (problem.kind, problem.count, problem.left_out) == ("other_crs", 1, True)
    assert problem.examples[0].startswith("B (x=-79")


@pytest.mark.parametrize("member", ["EPSG:3857", "urn:ogc:def:crs:EPSG::3857", None],
                         ids=["crs member", "crs member as an OGC URN", "crs= given"])  # fmt: skip
def test_a_file_in_metres_that_says_so_is_reprojected_and_its_points_assigned(tmp_path, member):
    cells = {"A": cell(0, 0), "B": cell(1, 0), "C": cell(0, 1)}
    extra = {"crs": {"type": "name", "properties": {"name": member}}} if member else {}
    document = collection(*(feature(a, _in_metres(g)) for a, g in cells.items()), **extra)
    path = tmp_path / "metres.geojson"
    path.write_text(json.dumps(document), encoding="utf-8")
    b = Boundaries.from_file(path, crs=None if member else "EPSG:3857")
    assert b.ids == ("A", "B", "C") and b.problems == ()
    assert any("converted from" in n and "3857" in n for n in b.notes)
    for a, g in cells.items():
        assert b.geometry(a).equals_exact(g, tolerance=1e-9), a
    points = grid_points((W, S, W + 0.1, S + 0.1))
    result = assign_areas(points_table(points), b, lat="lat", lon="lon")
    expected = shapely_counts(points, list(cells), list(cells.values()))
    assert dict(result.per_area) == dict(expected) and sum(expected.values()) == 24 * 24 - 12 * 12
    assert result.counts["outside"] == 12 * 12  # the fourth cell of the 2x2 block has no area


def test_overlapping_squares_are_reported_with_their_share_and_points_there_go_to_the_first_id():
    a = box(W, S, W + 0.2, S + 0.2)
    b_ = box(W + 0.1, S + 0.1, W + 0.3, S + 0.3)  # a quarter of B lies in A
    b = Boundaries.from_geojson(collection(feature("B", b_), feature("A", a)))
    assert b.ids == ("A", "B")
    (problem,) = b.problems
    assert (problem.kind, problem.count, problem.left_out) == ("overlap", 1, False)
    assert problem.examples == ("A and B (25.0% of B)",)
    assert b.geometry("B").equals(b_)  # drawn as given; trimmed only for the join
    points = grid_points((W, S, W + 0.3, S + 0.3), n=31)
    table = points_table(points)
    result = assign_areas(table, b, lat="lat", lon="lon")
    in_a = int(shapely.contains_xy(a, *np.array(points).T).sum())
    in_b_only = int((shapely.contains_xy(b_, *np.array(points).T) & ~shapely.contains_xy(a, *np.array(points).T)).sum())
    in_both = int((shapely.contains_xy(b_, *np.array(points).T) & shapely.contains_xy(a, *np.array(points).T)).sum())
    assert in_both > 50
    assert dict(result.per_area) == {"A": in_a, "B": in_b_only}
    assert result.rows == len(points) == sum(result.counts.values())
    assert result.table is not None and result.table.count().to_pyarrow().as_py() == len(points)
    assert "overlap" in result.summary()


def test_a_hole_between_areas_is_reported_as_a_gap_and_its_points_are_outside():
    ring = {f"C{i}{j}": cell(i, j) for i in range(3) for j in range(3) if (i, j) != (1, 1)}
    b = Boundaries.from_records(list(ring), list(ring.values()), name="ring")
    (problem,) = b.problems
    assert (problem.kind, problem.count, problem.left_out) == ("gap", 1, False)
    hole = cell(1, 1)
    assert problem.examples[0].startswith(f"near {hole.centroid.y:.5f}, {hole.centroid.x:.5f} (")
    points = grid_points((W, S, W + 0.15, S + 0.15), n=29)
    result = assign_areas(points_table(points), b, lat="lat", lon="lon")
    in_hole = int(shapely.contains_xy(hole, *np.array(points).T).sum())
    assert in_hole > 50
    assert result.counts["outside"] == in_hole
    assert dict(result.per_area) == dict(shapely_counts(points, list(ring), list(ring.values())))
    assert result.rows == len(points)
    assert "gap" in result.summary()


def test_a_repeated_id_keeps_the_first_polygon_and_says_so():
    document = collection(feature("A", cell(0, 0)), feature("A", cell(1, 0)), feature("B", cell(2, 0)))
    with pytest.raises(FieldError, match="no property identifies the areas uniquely") as caught:
        Boundaries.from_geojson(document)  # a repeated value is no id to guess
    assert caught.value.field == "id_field"
    b = Boundaries.from_geojson(document, id_field="area_id")
    assert b.ids == ("A", "B") and b.geometry("A").equals(cell(0, 0))
    (problem,) = b.problems
    assert (problem.kind, problem.count, problem.examples, problem.left_out) == ("duplicate_id", 1, ("A",), True)
    points = grid_points((W, S, W + 0.15, S + 0.05))
    result = assign_areas(points_table(points), b, lat="lat", lon="lon")
    assert dict(result.per_area) == dict(shapely_counts(points, ["A", "B"], [cell(0, 0), cell(2, 0)]))
    assert result.counts["outside"] == int(shapely.contains_xy(cell(1, 0), *np.array(points).T).sum()) > 0


def _zipped_wards(folder: Path, *, prj: bool) -> Path:
    import geopandas as gpd

    wards = gpd.read_file(CITY / "chicago/Chicago_Wards.geojson", engine="pyogrio")[["ward", "geometry"]]
    wards = wards.to_crs("EPSG:3435")  # Illinois East, US feet: how Chicago publishes its shapefiles
    shp = folder / "shp"
    shp.mkdir()
    wards.to_file(shp / "wards.shp", engine="pyogrio")
    path = folder / ("wards.zip" if prj else "wards_no_prj.zip")
    with zipfile.ZipFile(path, "w") as archive:
        for part in sorted(shp.iterdir()):
            if prj or part.suffix != ".prj":
                archive.write(part, part.name)
    return path


def test_a_zipped_shapefile_in_illinois_feet_is_read_and_converted(run, tmp_path):
    path = _zipped_wards(tmp_path, prj=True)
    b = Boundaries.from_file(path)
    assert len(b) == 50 and b.id_field == "ward" and b.ids[:3] == ("1", "2", "3")
    assert any("converted from EPSG:3435" in n for n in b.notes)
    geojson = read_boundaries("chicago/Chicago_Wards.geojson")
    for a in b.ids:
        assert shapely.hausdorff_distance(b.geometry(a), geojson.geometry(a)) < 1e-7, a  # rings may turn round
    chicago = run("chicago:Chicago_Wards")
    result = assign_areas(chicago.table, b, lat="latitude", lon="longitude")
    assert dict(result.per_area) == dict(chicago.result.per_area)
    assert dict(result.counts) == status_counts(chicago.status)


def test_a_zipped_shapefile_without_prj_is_refused_unless_its_crs_is_given(tmp_path):
    path = _zipped_wards(tmp_path, prj=False)
    with pytest.raises(FileFormatError, match=r"no \.prj.*give crs="):
        Boundaries.from_file(path)
    b = Boundaries.from_file(path, crs="EPSG:3435")
    assert len(b) == 50 and any("converted from EPSG:3435" in n for n in b.notes)


@pytest.mark.parametrize(
    "document",
    [
        {"type": "Feature", "properties": {"area_id": "A"}, "geometry": mapping(box(0, 0, 1, 1))},
        mapping(box(0, 0, 1, 1)),
        [feature("A", box(0, 0, 1, 1))],
    ],
    ids=["a feature", "a geometry", "a list of features"],
)
def test_geojson_that_is_not_a_feature_collection_is_refused(tmp_path, document):
    path = tmp_path / "areas.geojson"
    path.write_text(json.dumps(document), encoding="utf-8")
    with pytest.raises(FileFormatError, match="not a GeoJSON FeatureCollection") as caught:
        Boundaries.from_file(path)
    assert "areas.geojson" in str(caught.value)
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", ', encoding="utf-8")
    with pytest.raises(FileFormatError, match="is not GeoJSON"):
        Boundaries.from_file(broken)


# -- overlaps the reporting threshold lets through -------------------------------------------------
@pytest.mark.parametrize(
    ("first", "second"),
    [
        (box(W, S, W + 0.1, S + 0.1), box(W + 0.09995, S, W + 0.2, S + 0.1)),  # a 0.05 % sliver
        (box(W, S, W + 0.2, S + 0.2), box(W, S, W + 0.1, S + 0.1)),  # inside the other, along two edges
        (box(W, S, W + 0.1, S + 0.1), box(W, S, W + 0.1, S + 0.1)),  # the same polygon under two ids
    ],
    ids=["sliver", "inside along an edge", "identical"],
)
def test_a_point_in_two_areas_is_counted_once_in_the_first(first, second):
    """Every point lands in at most one area, whatever the overlap's size or shape."""
    b = Boundaries.from_records(["A", "B"], [first, second])
    points = [(W + 0.099975, S + 0.05), (W + 0.05, S + 0.05), (W + 0.15, S + 0.15)]
    result = assign_areas(points_table(points), b, lat="lat", lon="lon")
    assert result.rows == len(points) == sum(result.counts.values())
    assert result.table is not None and result.table.count().to_pyarrow().as_py() == len(points)
    expected = shapely_counts(points, ["A", "B"], [first, second])
    assert dict(result.per_area) == {"A": expected["A"], "B": expected["B"]}


# -- the demo city -------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def demo_assignment(demo_city, demo_table, raw) -> tuple[AreaAssignment, pd.DataFrame]:
    """The demo's assignment (its figures, without its table) and the assigned table as pandas.

    The result with its cached table stays inside this call: see the last test.
    """
    boundaries = Boundaries.from_file(demo_city.neighbourhoods_geojson)
    result = assign_areas(demo_table, boundaries, mapping=_mapping(raw), column="placed_area")
    assert result.table is not None
    assert list(result.table.columns) == [*demo_table.columns, "placed_area"]
    frame = result.table.select("service_request_id", "area_id", "placed_area", "latitude").to_pandas()
    return AreaAssignment.from_dict(result.to_dict()), frame


def test_the_demo_citys_planted_areas_are_found_for_every_clean_row(demo_assignment, raw):
    result, got = demo_assignment
    assert len(got) == len(raw) == result.rows
    clean = got["latitude"].notna() & (got["latitude"] > 0)
    assert int(clean.sum()) > 19_800
    assert (got.loc[clean, "placed_area"] == got.loc[clean, "area_id"]).all()
    # The swapped rows are placed after exchanging, in their own planted area too.
    swapped = got["latitude"] < 0
    assert int(swapped.sum()) > 0 and (got.loc[swapped, "placed_area"] == got.loc[swapped, "area_id"]).all()
    assert got.loc[~clean & ~swapped, "placed_area"].isna().all()
    planted = raw["area_id"].value_counts()
    lat = raw["latitude"].map(number)
    placed = raw.loc[lat.notna() & (lat != 0), "area_id"].value_counts()
    assert dict(result.per_area) == {a: int(placed.get(a, 0)) for a in sorted(planted.index)}


def test_the_demo_citys_messy_coordinates_are_counted_as_planted(demo_assignment, truth, raw):
    demo, _ = demo_assignment
    planted = truth["messiness"]["counts"]
    counts = demo.counts
    assert counts["zero"] == planted["coords_placeholder_zero"] > 0
    assert counts["missing"] == planted["coords_missing"] > 0
    assert counts["swapped"] == planted["coords_swapped"] > 0
    assert (counts["invalid"], counts["outside"]) == (0, 0)
    assert counts["assigned"] == len(raw) - sum(planted[k] for k in ("coords_placeholder_zero", "coords_missing",
                                                                        "coords_swapped"))  # fmt: skip
    assert demo.rows == len(raw)
    assert set(demo.examples) == {"zero", "missing", "swapped"}
    assert all(set(e) == {"service_request_id", "latitude", "longitude"} for e in demo.examples["zero"])
    assert all(e["latitude"] == e["longitude"] == 0 for e in demo.examples["zero"])


def test_an_area_column_the_table_has_already_is_refused(demo_table, demo_city, raw):
    boundaries = Boundaries.from_file(demo_city.neighbourhoods_geojson)
    with pytest.raises(FieldError, match="area_id") as caught:
        assign_areas(demo_table, boundaries, mapping=_mapping(raw))
    assert caught.value.field == "column"
    with pytest.raises(FieldError) as missing:
        assign_areas(demo_table, boundaries, lat="lat", lon="longitude", column="x")
    assert missing.value.field == "latitude"


# -- the result object -----------------------------------------------------------------------------
def test_the_result_round_trips_through_json_and_its_summary_names_every_status(planted):
    _, _, result = planted(False)
    data = json.loads(json.dumps(result.to_dict()))
    again = AreaAssignment.from_dict(data)
    assert again.to_dict() == result.to_dict() == data
    assert again.table is None
    assert (again.counts, again.per_area, again.rows, again.column) == (
        result.counts, result.per_area, result.rows, result.column
    )  # fmt: skip
    assert again.examples == result.examples and again.boundary_problems == result.boundary_problems
    text = result.summary()
    words = {"swapped": "exchanged", "missing": "no latitude or no longitude", "zero": "both zero",
             "invalid": "not a coordinate", "outside": "outside every area"}  # fmt: skip
    for status, word in words.items():
        n = result.counts[status]
        assert n > 0, status
        assert f"{n:,} " in text and word in text, status
    assert f"{result.assigned:,} of {result.rows:,} rows" in text
    assert "repaired" in text  # the boundaries' own problem (Queens' ring) is carried along
    clean = assign_areas(points_table([(W + 0.01, S + 0.01)]), Boundaries.from_records(["A"], [cell(0, 0)]),
                         lat="lat", lon="lon")  # fmt: skip
    assert all(w not in clean.summary() for w in words.values())


def test_an_assignment_that_outlives_its_engine_is_dropped_without_an_error(tmp_path):
    """A result kept after its connection closed (a notebook, a workspace job) must go quietly.

    ``AreaAssignment.table`` is a view over ``combined.cache()``, a temporary table that
    ibis drops from a finalizer when the result is collected; with the connection closed
    that drop raises 'Connection already closed' in the finalizer, which pytest turns
    into a failed run. The counts are computed already: nothing needs the cache then.
    """
    import ridp.engine

    con = ridp.engine.connect("duckdb://:memory:", allowed_directories=[tmp_path])
    points = con.create_table("points", pd.DataFrame({"lat": [S + 0.01, S + 0.2], "lon": [W + 0.01, W + 0.2]}))
    result = assign_areas(points, Boundaries.from_records(["A"], [cell(0, 0)]), lat="lat", lon="lon")
    assert (result.per_area["A"], result.counts["outside"]) == (1, 1)
    con.disconnect()
    raised: list[Any] = []
    previous, sys.unraisablehook = sys.unraisablehook, raised.append
    try:
        del result
        gc.collect()
    finally:
        sys.unraisablehook = previous
    assert [str(r.exc_value) for r in raised] == []
