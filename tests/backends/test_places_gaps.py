"""Service gaps give the same result on DuckDB, PostgreSQL and Spark: the same figures and, with one seed,
the same intervals to the last digit.

The engine counts each area's rounded durations, closed or open, in one group-by (integer arithmetic, so
every engine rounds alike); the resampling runs in numpy on those counts. The reference is the same call
on the stored Parquet version read by pandas into an in-memory table, and the counts and Kaplan-Meier
medians are checked against pandas and the textbook loop.
"""

from __future__ import annotations

import math
from datetime import datetime
from pathlib import Path
from typing import Any

import ibis
import pandas as pd
import pytest

from ridp.analysis.gaps import ServiceGaps, service_gaps
from ridp.readiness import CanonicalMapping
from tests.analysis.test_real_data import kaplan_meier

MAPPING = CanonicalMapping({"id": "request_id", "type": "type", "opened": "opened", "closed": "closed"},
                           areas=("area",))  # fmt: skip
AS_OF = datetime(2025, 2, 1)
TARGETS = {"pothole": 3.0, "graffiti": 2.0, "missed trash": 1.0, "streetlight": 4.0}  # noise has none
LABELS = {"N01": "north", "N02": "north", "N03": "north", "N04": "south", "N05": "south", "N06": "south"}  # N07: none
PEOPLE = {"N01": 1200.0, "N02": 2500.0, "N03": 800.0, "N04": 3100.0, "N05": 950.0, "N06": 4000.0, "N07": 1500.0}


def run(table: ibis.Table, **extra: Any) -> ServiceGaps:
    return service_gaps(table, MAPPING, by="area", as_of=AS_OF, targets=TARGETS, population=PEOPLE, **extra)


@pytest.fixture(scope="module")
def frame(stored_version: Path) -> pd.DataFrame:
    return pd.read_parquet(stored_version)


@pytest.fixture(scope="module")
def reference(frame: pd.DataFrame) -> dict[str, ServiceGaps]:
    table = ibis.memtable(frame)
    return {"areas": run(table), "groups": run(table, groups=LABELS, reference="south")}


def same(got: ServiceGaps, want: ServiceGaps) -> None:
    """Counts, intervals, ratios and flags equal; sums of floats (resident-days) to 1e-12 (engines add in
    different orders); the rows set aside the same reasons and counts (their examples are the first rows an
    engine finds, not an ordered choice)."""
    a, b = got.to_dict(), want.to_dict()
    rows_a, rows_b = a.pop("rows"), b.pop("rows")
    for key in ("left_out", "notes"):
        found, wanted = a.pop(key), b.pop(key)
        assert [(x["reason"], x["count"], len(x["examples"])) for x in found] == [
            (x["reason"], x["count"], len(x["examples"])) for x in wanted
        ]
    assert a == b
    assert len(rows_a) == len(rows_b)
    for x, y in zip(rows_a, rows_b, strict=True):
        for column, value in y.items():
            if isinstance(value, float) and column in ("resident_days_waiting",):
                assert math.isclose(x[column], value, rel_tol=1e-12), (x["group"], column)
            else:
                assert x[column] == value, (x["group"], column, x[column], value)


@pytest.mark.parametrize("kind", ["areas", "groups"])
def test_service_gaps_are_the_same_on_every_engine(table, reference, kind):
    got = run(table) if kind == "areas" else run(table, groups=LABELS, reference="south")
    same(got, reference[kind])


def test_the_reference_equals_pandas(reference, frame):
    result = reference["areas"]
    data = frame[frame.opened.notna() & ~(frame.closed < frame.opened)].copy()
    data["event"] = data.closed.notna() & (data.closed <= AS_OF)
    data["days"] = (data.closed.where(data.event, AS_OF) - data.opened).dt.total_seconds() / 86400
    assert data["event"].sum() < len(data)  # open requests are part of the check
    no_area = next(x for x in result.left_out if x.reason == "without a value in area")
    assert no_area.count == int(frame.area.isna().sum()) > 0
    rows = result.to_pandas().set_index("group")
    for area, g in data[data.area.notna()].groupby("area"):
        row = rows.loc[area]
        assert (row["requests"], row["closed"]) == (len(g), int(g.event.sum())), area
        median, p90, _ = kaplan_meier(g["days"].to_numpy(), g["event"].to_numpy())
        assert row["median_days"] == pytest.approx(median, rel=1e-9), area
        assert (row["p90_days"] == pytest.approx(p90, rel=1e-9)) if p90 is not None else pd.isna(row["p90_days"])
        assert row["median_days_closed"] == pytest.approx(g.loc[g.event, "days"].median(), rel=1e-9), area
        assert row["median_days_low"] <= row["median_days"] <= row["median_days_high"], area
        assert row["residents"] == PEOPLE[area]
    assert result.reference == data[data.area.notna()]["area"].value_counts().idxmax()
    grouped = reference["groups"].to_pandas().set_index("group")
    north = data[data.area.isin(["N01", "N02", "N03"])]
    assert grouped.loc["north", "requests"] == len(north)
    assert grouped.loc["north", "residents"] == PEOPLE["N01"] + PEOPLE["N02"] + PEOPLE["N03"]
    median, _, _ = kaplan_meier(north["days"].to_numpy(), north["event"].to_numpy())
    assert grouped.loc["north", "median_days"] == pytest.approx(median, rel=1e-9)
    unlabelled = next(x for x in reference["groups"].left_out if "no group" in x.reason)
    assert unlabelled.count == int((frame.area == "N07").sum())
