"""A pilot's history (days to close per closed request, with its cluster) is the same on DuckDB, PostgreSQL and
Spark, and equals a pandas reading of the stored version; power simulated on it is the same whatever engine
read it."""

from __future__ import annotations

from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from ridp.evaluation.history import OUTCOME, request_history
from ridp.evaluation.power import simulate_power
from ridp.readiness import CanonicalMapping

MAPPING = CanonicalMapping({"id": "request_id", "type": "type", "opened": "opened", "closed": "closed"},
                           areas=("area",))  # fmt: skip


def history(table: ibis.Table) -> pd.DataFrame:
    got = request_history(table, MAPPING, types=["pothole", "graffiti"], cluster="area").to_pandas()
    return got.sort_values([OUTCOME, "area"], na_position="last", kind="stable").reset_index(drop=True)


@pytest.fixture(scope="module")
def frame(stored_version: Path) -> pd.DataFrame:
    return pd.read_parquet(stored_version)


@pytest.fixture(scope="module")
def reference(frame: pd.DataFrame) -> pd.DataFrame:
    return history(ibis.memtable(frame))


def test_the_reference_equals_pandas(reference: pd.DataFrame, frame: pd.DataFrame) -> None:
    keep = frame.opened.notna() & frame.closed.notna() & (frame.closed >= frame.opened)
    keep &= frame["type"].isin(["pothole", "graffiti"])
    want = pd.DataFrame({OUTCOME: (frame.closed - frame.opened).dt.total_seconds() / 86400, "area": frame.area})
    want = want[keep].sort_values([OUTCOME, "area"], na_position="last", kind="stable").reset_index(drop=True)
    assert 0 < len(reference) == len(want) < len(frame)
    np.testing.assert_allclose(reference[OUTCOME], want[OUTCOME], rtol=1e-12)
    assert reference["area"].fillna("").tolist() == want["area"].fillna("").tolist()


def test_the_history_is_the_same_on_every_engine(table: ibis.Table, reference: pd.DataFrame) -> None:
    got = history(table)
    assert len(got) == len(reference)
    np.testing.assert_allclose(got[OUTCOME].to_numpy(float), reference[OUTCOME].to_numpy(float), rtol=1e-9)
    assert got["area"].fillna("").tolist() == reference["area"].fillna("").tolist()


def test_power_on_the_history_is_the_same_whatever_engine_read_it(table: ibis.Table, reference: pd.DataFrame) -> None:
    """The draws depend on the rows, not on the order an engine returns them in."""
    options = {"outcome": OUTCOME, "effects": [1.0], "n_units": [40], "draws": 500, "seed": 5}
    got = simulate_power(request_history(table, MAPPING, types=["pothole", "graffiti"]), **options)
    want = simulate_power(ibis.memtable(reference[[OUTCOME]]), **options)
    assert got.to_dict()["points"] == want.to_dict()["points"]
