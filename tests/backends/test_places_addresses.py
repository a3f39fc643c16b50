"""Address matching on DuckDB, PostgreSQL and Spark: the same two small tables, loaded on each engine the
way the parity suite loads its version (Parquet files through ``ridp.engine.load_parquet`` on the session's
connection), give the same filled table and the same counts, each written out by hand below.

The tables hold one request of each kind: coordinates given (kept even though the address has a point),
missing, (0, 0), only a latitude; an address written with a unit, a city tail or as an intersection; two
points 22 m apart (averaged), two 2.2 km apart (ambiguous); no point; no address text.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ridp.analysis.addresses import AddressMatch, match_addresses

NAN = float("nan")
M_PER_DEGREE = 6_371_008.8 * math.pi / 180

REQUESTS = pa.table(
    {
        "request_id": pa.array(range(1, 14), pa.int64()),
        "address": pa.array(
            [
                "100 Main Street, Springfield, IL 62701",  # 1 given
                "100 MAIN ST",  # 2 missing
                "100 Main St. Apt 4",  # 3 (0, 0)
                "Intersection of Oak Ave and 1st St",  # 4 intersection, streets the other way round
                "200 Elm Rd",  # 5 two points 22 m apart
                "300 Pine Dr",  # 6 two points 2.2 km apart
                "999 Nowhere Ln",  # 7 no point
                "",  # 8 no text
                None,  # 9 null
                "N/A",  # 10 placeholder, at (0, 0)
                "400 Birch Blvd #12",  # 11 a latitude without a longitude
                "999 NOWHERE LANE",  # 12 no point, the same street as 7
                "12 Ash Ter",  # 13 given, no point
            ],
            pa.string(),
        ),
        "latitude": pa.array(
            [40.1, None, 0.0, None, None, None, None, None, None, 0.0, 40.2, None, 40.3], pa.float64()
        ),
        "longitude": pa.array(
            [-75.1, None, 0.0, None, None, None, None, None, None, 0.0, None, None, -75.3], pa.float64()
        ),
    }
)
POINTS = pa.table(
    {
        "full_address": pa.array(
            [
                "100 MAIN STREET",
                "100 Main St",  # the same point twice: one point, not an average
                "First Street & Oak Avenue",
                "200 ELM ROAD",
                "200 Elm Rd",
                "300 PINE DRIVE",
                "300 Pine Dr",
                "400 BIRCH BOULEVARD",
                "500 Cedar Ct",  # no coordinates
                "600 Spruce Pl",  # (0, 0)
                "",  # no address text
            ],
            pa.string(),
        ),
        "y": pa.array([40.5, 40.5, 40.6, 40.7, 40.7002, 40.8, 40.82, 40.9, None, 0.0, 41.0], pa.float64()),
        "x": pa.array([-75.5, -75.5, -75.6, -75.7, -75.7, -75.8, -75.8, -75.9, None, 0.0, -76.0], pa.float64()),
    }
)
# request_id -> (latitude, longitude, coordinates_from), worked out by hand from the rules
EXPECTED = {
    1: (40.1, -75.1, "given"),
    2: (40.5, -75.5, "address"),
    3: (40.5, -75.5, "address"),
    4: (40.6, -75.6, "address"),
    5: ((40.7 + 40.7002) / 2, -75.7, "address"),
    6: (NAN, NAN, None),
    7: (NAN, NAN, None),
    8: (NAN, NAN, None),
    9: (NAN, NAN, None),
    10: (0.0, 0.0, None),
    11: (40.9, -75.9, "address"),
    12: (NAN, NAN, None),
    13: (40.3, -75.3, "given"),
}
COUNTS = {
    "rows": 13,
    "given": 2,
    "needing": 11,
    "matched": 5,
    "averaged": 1,
    "unmatched": 2,
    "ambiguous": 1,
    "no_address": 3,
    "points_read": 11,
    "points_used": 8,
}


@pytest.fixture(scope="session")
def address_files(stored_version: Path) -> tuple[Path, Path]:
    # Beside the parity version: the one folder the suite's locked DuckDB may read.
    folder = stored_version.parent / "addresses"
    folder.mkdir(exist_ok=True)
    requests, points = folder / "requests.parquet", folder / "points.parquet"
    pq.write_table(REQUESTS, requests)
    pq.write_table(POINTS, points)
    return requests, points


_results: dict[str, AddressMatch] = {}


@pytest.fixture
def matched(table, engine: str, address_files: tuple[Path, Path]) -> AddressMatch:
    """The match on ``engine``, run once per engine for both tests."""
    import ridp.engine

    if engine in _results:
        return _results[engine]
    con = table._find_backend()  # the suite's connection to this engine
    requests = ridp.engine.load_parquet(con, address_files[0], "ridp_parity_address_requests")
    points = ridp.engine.load_parquet(con, address_files[1], "ridp_parity_address_points")
    result = match_addresses(
        requests,
        points,
        request_address="address",
        address="full_address",
        lat="y",
        lon="x",
        request_lat="latitude",
        request_lon="longitude",
    )
    assert result.engine == engine
    _results[engine] = result
    return result


def test_address_match_table(matched):
    frame = matched.table.to_pandas().sort_values("request_id").reset_index(drop=True)
    assert list(frame.columns) == ["request_id", "address", "latitude", "longitude", "coordinates_from"]
    assert frame.request_id.tolist() == list(EXPECTED)
    assert [None if pd.isna(v) else v for v in frame.address] == REQUESTS.column("address").to_pylist()
    want = pd.DataFrame(EXPECTED.values(), columns=["latitude", "longitude", "coordinates_from"])
    for column in ("latitude", "longitude"):
        got, exp = frame[column].astype(float).tolist(), want[column].tolist()
        assert all(
            (math.isnan(g) and math.isnan(e)) or math.isclose(g, e, rel_tol=1e-12)
            for g, e in zip(got, exp, strict=True)
        ), (column, got)
    assert [None if pd.isna(v) else v for v in frame.coordinates_from] == [e[2] for e in EXPECTED.values()]


def test_address_match_counts_and_examples(matched):
    data = matched.to_dict()
    assert {k: data[k] for k in COUNTS} == COUNTS
    assert data["match_rate"] == pytest.approx(5 / 11, rel=1e-12)
    assert data["address_match_rate"] == pytest.approx(5 / 8, rel=1e-12)
    examples = [(e.address, e.normalised, e.requests, e.reason, e.points) for e in matched.examples]
    assert examples == [
        ("999 NOWHERE LANE", "999 NOWHERE LN", 2, "no address point", 0),
        ("300 Pine Dr", "300 PINE DR", 1, "ambiguous", 2),
    ]
    assert matched.examples[1].spread_m == pytest.approx(round(0.02 * M_PER_DEGREE, 1), abs=0.051)
    assert AddressMatch.from_dict(data).to_dict() == data
