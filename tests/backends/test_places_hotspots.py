"""Hot spots give the same result on DuckDB, PostgreSQL and Spark: the per-area counts run on the engine, the
rest (Gi*, seeded permutations, the correction) on the per-area table, so one seed gives one answer.

The reference is the same call on the stored Parquet read by pandas into an in-memory table, and the
counts are checked against pandas' own group-by.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest
from shapely.geometry import box

from ridp.analysis.boundaries import Boundaries
from ridp.analysis.hotspots import hot_spots

AREAS = ["N01", "N02", "N03", "N04", "N05", "N06", "N07"]
#: Residents per area: unequal, so the rates differ more than the near-equal counts do.
PEOPLE = {"N01": 1200.0, "N02": 2500.0, "N03": 800.0, "N04": 3100.0, "N05": 950.0, "N06": 4000.0, "N07": 1500.0}
SIDE = 0.02  # degrees


def squares() -> Boundaries:
    """N01..N04 in a row, N05..N07 in the row above: neighbours share their corners exactly."""
    cells = [(0, j) for j in range(4)] + [(1, j) for j in range(3)]
    polygons = [box(-71.1 + SIDE * j, 42.3 + SIDE * i, -71.1 + SIDE * (j + 1), 42.3 + SIDE * (i + 1)) for i, j in cells]
    return Boundaries.from_records(AREAS, polygons, name="parity squares")


@pytest.fixture(scope="module")
def frame(stored_version: Path) -> pd.DataFrame:
    return pd.read_parquet(stored_version)


@pytest.fixture(scope="module")
def reference(frame: pd.DataFrame) -> dict[str, dict[str, Any]]:
    table = ibis.memtable(frame[["area"]])
    return {
        "per_km2": hot_spots(table, area="area", boundaries=squares(), inference="permutation", seed=7).to_dict(),
        "per_resident": hot_spots(
            table, area="area", boundaries=squares(), population=PEOPLE, inference="permutation", seed=7
        ).to_dict(),
    }


def test_the_reference_counts_equal_pandas(reference, frame):
    expected = frame["area"].value_counts()
    rows = {r["area_id"]: r["requests"] for r in reference["per_km2"]["rows"]}
    assert rows == {a: int(expected[a]) for a in AREAS}
    [blank] = reference["per_km2"]["left_out"]
    assert blank["count"] == int(frame["area"].isna().sum()) == 207  # every 97th row has no area


@pytest.mark.parametrize("rate", ["per_km2", "per_resident"])
def test_hot_spots_are_identical_on_every_engine(table, rate, reference):
    population = PEOPLE if rate == "per_resident" else None
    result = hot_spots(table, area="area", boundaries=squares(), population=population, inference="permutation", seed=7)
    assert result.to_dict() == reference[rate]
    assert result.tested == 7 and result.islands == ()
    assert result.row("N02")["neighbours"] == 5  # N01, N03 beside it; N05, N06, N07 above


def test_the_seed_is_what_makes_the_p_values_repeat(table, reference):
    other = hot_spots(table, area="area", boundaries=squares(), inference="permutation", seed=8).to_dict()
    assert [r["z"] for r in other["rows"]] == [r["z"] for r in reference["per_km2"]["rows"]]
    assert [r["p"] for r in other["rows"]] != [r["p"] for r in reference["per_km2"]["rows"]]
