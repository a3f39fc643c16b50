"""Points assigned to areas: the same figures on DuckDB and PostGIS, equal to shapely; Spark's declared gap.

The parity table's points (lat 42.2-42.45, lon -71.2 to -70.9) meet five areas
drawn here over part of that box: two squares sharing an edge, a triangle, a
square with a hole, and a square overlapping it (the overlap belongs to the first
id). A messy variant plants swapped, (0, 0), missing and out-of-range coordinates
with the same Ibis expression on every engine, and pandas plants them in the
reference. The reference is shapely's ``contains_xy`` on the stored Parquet, by the
definitions of :mod:`ridp.analysis.assign` (see ``tests/analysis/test_places_assign.py``).

Spark has no spatial join here (Apache Sedona cannot be fetched): assigning there is
a declared gap, the call says where to run it, and an analysis by an area id stored
from DuckDB runs on all three engines alike.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ibis
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from shapely.geometry import Polygon, box

from ridp.analysis.assign import STATUSES, assign_areas
from ridp.analysis.boundaries import Boundaries
from ridp.errors import EngineGapError
from tests.analysis.test_places_assign import expected_places, status_counts

AREAS: dict[str, Any] = {
    "P1": box(-71.2, 42.2, -71.1, 42.3),
    "P2": box(-71.1, 42.2, -71.0, 42.3),  # shares P1's edge at lon -71.1: a point on it is in neither
    "P3": Polygon([(-71.05, 42.3), (-70.92, 42.3), (-70.95, 42.44)]),
    "P4": box(-71.2, 42.33, -71.08, 42.44).difference(box(-71.17, 42.36, -71.12, 42.41)),  # a hole in it
    "P5": box(-71.1, 42.38, -71.02, 42.45),  # overlaps P4: that part is P4's
}
GAP_REASON = (
    "spatial join needs Apache Sedona, which cannot be fetched here: assign in DuckDB or PostGIS and store the ids"
)


@pytest.fixture(scope="module")
def boundaries() -> Boundaries:
    b = Boundaries.from_records(list(AREAS), list(AREAS.values()), name="parity areas")
    assert [p.kind for p in b.problems] == ["overlap", "gap"]  # P4's hole is a gap: its points are outside
    assert b.problems[0].examples == ("P4 and P5 (21.4% of P5)",)
    return b


@pytest.fixture(scope="session")
def frame(stored_version: Path) -> pd.DataFrame:
    return pd.read_parquet(stored_version)


def messy(table: ibis.Table) -> ibis.Table:
    """Plant exchanged, (0, 0), missing and impossible coordinates by request id, on the engine."""
    m = table.request_id % 50
    lat, lon = table.latitude, table.longitude
    return table.mutate(
        latitude=ibis.cases((m == 1, lon), (m == 2, 0.0), (m == 3, ibis.null("float64")), (m == 4, lat + 100.0),
                            else_=lat),
        longitude=ibis.cases((m == 1, lat), (m == 2, 0.0), else_=lon),
    )  # fmt: skip


def messy_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The same plants, by pandas."""
    out = frame.copy()
    m = out["request_id"] % 50
    lat, lon = frame["latitude"], frame["longitude"]
    out["latitude"] = np.select([m == 1, m == 2, m == 3, m == 4], [lon, 0.0, np.nan, lat + 100.0], lat)
    out["longitude"] = np.select([m == 1, m == 2], [lat, 0.0], lon)
    return out


def reference(data: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    polygons = [AREAS[a] for a in sorted(AREAS)]
    return expected_places(data["latitude"].tolist(), data["longitude"].tolist(), sorted(AREAS), polygons)


def expected_examples(data: pd.DataFrame, status: np.ndarray) -> dict[str, list[dict[str, Any]]]:
    """The first five rows of each status by (id, latitude, longitude), as the result shows them."""
    out = {}
    for s in STATUSES[1:]:
        rows = data.loc[status == s, ["request_id", "latitude", "longitude"]].sort_values(
            ["request_id", "latitude", "longitude"]
        )
        if len(rows):
            out[s] = [
                {k: (None if pd.isna(v) else (int(v) if k == "request_id" else float(v))) for k, v in r.items()}
                for r in rows.head(5).to_dict("records")
            ]
    return out


@pytest.mark.gap("pyspark", reason=GAP_REASON)
@pytest.mark.parametrize("variant", ["as stored", "messy"])
def test_assignment_equals_shapely_on_every_spatial_engine(table, frame, engine, boundaries, variant):
    """Counts per area and per status, every row's area and the examples: identical on DuckDB and
    PostGIS because each equals the one shapely reference."""
    points, data = (table, frame) if variant == "as stored" else (messy(table), messy_frame(frame))
    result = assign_areas(points, boundaries, lat="latitude", lon="longitude", id_column="request_id")
    status, area = reference(data)
    assert result.engine == engine
    assert dict(result.counts) == status_counts(status)
    placed = Counter(a for a in area.tolist() if a is not None)
    assert dict(result.per_area) == {a: placed.get(a, 0) for a in sorted(AREAS)}
    assert min(result.per_area.values()) > 500 and result.counts["outside"] > 1000
    if variant == "messy":
        assert all(result.counts[s] > 200 for s in ("swapped", "zero", "missing", "invalid")), result.counts
    assert result.to_dict()["examples"] == expected_examples(data, status)
    assert result.table is not None
    got = result.table.select("request_id", "area_id").to_pandas()
    rows = Counter((int(i), None if pd.isna(a) else a) for i, a in zip(got["request_id"], got["area_id"], strict=True))
    assert rows == Counter(zip(data["request_id"].astype(int).tolist(), area.tolist(), strict=True))
    assert result.rows == len(frame) == len(got)
    del result, got
    gc.collect()  # the result's cached table goes while the engine is open


@pytest.mark.parametrize("engine", ["pyspark"])
def test_assigning_on_spark_says_to_assign_in_duckdb_or_postgis(table, boundaries):
    with pytest.raises(EngineGapError) as caught:
        assign_areas(table, boundaries, lat="latitude", lon="longitude")
    message = str(caught.value)
    assert "DuckDB" in message and "PostGIS" in message and "Sedona" in message


@pytest.fixture(scope="module")
def assigned(stored_version: Path, boundaries: Boundaries) -> Iterator[Path]:
    """The parity version with its area ids, assigned in DuckDB and stored beside it as Parquet."""
    import ridp.engine

    path = stored_version.parent / "assigned_areas.parquet"
    con = ridp.engine.connect("duckdb://:memory:", allowed_directories=[stored_version.parent])
    try:
        points = ridp.engine.load_parquet(con, stored_version, "points")
        result = assign_areas(points, boundaries, lat="latitude", lon="longitude")
        assert result.table is not None
        pq.write_table(result.table.to_pyarrow(), path)
        del result
        gc.collect()
    finally:
        con.disconnect()
    yield path
    path.unlink()


def test_an_analysis_by_the_stored_area_id_is_the_same_on_every_engine(table, frame, assigned):
    """Counts and service levels by ``area_id`` stored from DuckDB: the same on all three engines,
    equal to the shapely reference and to pandas."""
    import ridp.engine
    from ridp.analysis import service_levels
    from ridp.readiness import CanonicalMapping

    stored = ridp.engine.load_parquet(table.get_backend(), assigned, "ridp_parity_assigned_areas")
    _, area = reference(frame)
    counts = stored.group_by("area_id").aggregate(n=stored.count()).to_pandas()
    got = {None if pd.isna(a) else a: int(n) for a, n in zip(counts["area_id"], counts["n"], strict=True)}
    assert got == dict(Counter(area.tolist()))
    mapping = CanonicalMapping({"id": "request_id", "type": "type", "opened": "opened", "closed": "closed"})
    levels = service_levels(stored, mapping, by=("area_id",), censoring="closed-only").to_pandas()
    data = pd.read_parquet(assigned)
    assert len(data) == len(frame)
    closed = data[data["closed"].notna() & (data["closed"] >= data["opened"])]
    days = (closed["closed"] - closed["opened"]).dt.total_seconds() / 86400
    expected = days.groupby(closed["area_id"], dropna=False).median()
    assert len(levels) == len(expected) == len(AREAS) + 1  # the areas and the rows outside every area
    for a, value in zip(levels["area_id"], levels["median_days_closed"], strict=True):
        key = expected.index[expected.index.isna()][0] if pd.isna(a) else a
        assert value == pytest.approx(expected[key], rel=1e-9), a
    requests = data.groupby("area_id", dropna=False).size()
    assert sorted(levels["requests"].astype(int)) == sorted(requests.astype(int))
