"""Where resources go, on DuckDB, PostgreSQL and Spark: the same result on every engine.

The per-area counts are the engine's (one group-by); the rest is pandas on the counts, so each
engine's result must equal, to the last digit, the one from the same frame in memory; and its
scores must equal shares and margins computed here from the stored Parquet version by pandas.
"""

from __future__ import annotations

import math
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

from ridp.analysis.census import CensusTable
from ridp.analysis.equity import resource_scores

# N01..N06 and N08 have census rows; N07 (in the data) has none; N08 has no requests.
KEYS = ("N01", "N02", "N03", "N04", "N05", "N06", "N08")
POPULATION = (12_000.0, 8_500.0, 15_250.0, 4_000.0, 9_900.0, 21_000.0, 6_100.0)
POPULATION_MOE = (900.0, 610.0, 1_300.0, 45.0, 800.0, 1_700.0, 520.0)
INCOME = (41_000.0, 87_500.0, 55_250.0, 23_900.0, 66_000.0, 38_400.0, 120_000.0)
INCOME_MOE = (5_100.0, 9_800.0, 6_000.0, 4_400.0, 7_300.0, 3_900.0, 21_000.0)


def census() -> CensusTable:
    return CensusTable(
        "area",
        KEYS,
        {"population": POPULATION, "income": INCOME},
        {"population": POPULATION_MOE, "income": INCOME_MOE},
        {"population": "Total population", "income": "Median household income"},
    )


@pytest.fixture(scope="session")
def frame(stored_version: Path) -> pd.DataFrame:
    return pd.read_parquet(stored_version)


def run(t: ibis.Table, weight: str | None = None):
    return resource_scores(
        t, area="area", census=census(), baseline="population", demographics=["income"], weight=weight, what="requests"
    )


@pytest.mark.parametrize("weight", [None, "priority"])
def test_resource_scores_are_the_same_on_every_engine(table, frame, weight):
    got = run(table, weight).to_dict()
    assert got == run(ibis.memtable(frame), weight).to_dict()


def test_resource_scores_equal_pandas(table, frame):
    r = run(table)
    counts = frame["area"].value_counts()
    pop = pd.Series(POPULATION, index=KEYS)
    moe = pd.Series(POPULATION_MOE, index=KEYS)
    events = counts.reindex(KEYS).fillna(0)
    share = pop / pop.sum()
    moe_total = math.sqrt((moe**2).sum())
    radicand = moe**2 - share**2 * moe_total**2
    used_ratio = radicand < 0
    radicand = radicand.where(~used_ratio, moe**2 + share**2 * moe_total**2)
    se = np.sqrt(radicand) / pop.sum() / 1.645
    score = events / events.sum() - share
    got = r.to_pandas().set_index("area")
    assert list(got.index) == list(KEYS)
    assert got["events"].tolist() == events.astype(int).tolist()
    np.testing.assert_allclose(got["score"], score, rtol=1e-12)
    np.testing.assert_allclose(got["z"], score / se, rtol=1e-12)
    assert got["moe_formula"].tolist() == ["ratio" if u else "proportion" for u in used_ratio]
    assert used_ratio["N04"]  # a small margin on a small area: the ratio formula is exercised
    left = {x.reason: x for x in r.left_out}
    assert left["requests with no area (empty)"].count == frame["area"].isna().sum() > 0
    orphan = left["requests in 1 area id(s) with no census row"]
    assert orphan.count == counts["N07"] and orphan.examples == (f"N07 ({counts['N07']:,})",)
    assert r.key_match.census_only.examples == ("N08",) and got.loc["N08", "events"] == 0


def test_weighted_resource_scores_equal_pandas(table, frame):
    r = run(table, "priority")
    summed = frame.groupby("area")["priority"].sum().reindex(KEYS).fillna(0)
    got = r.to_pandas().set_index("area")
    assert got["events"].tolist() == summed.tolist()
    assert got["rows"].tolist() == frame["area"].value_counts().reindex(KEYS).fillna(0).astype(int).tolist()
    pop = pd.Series(POPULATION, index=KEYS)
    np.testing.assert_allclose(got["score"], summed / summed.sum() - pop / pop.sum(), rtol=1e-12)
    d = r.demographic_scores().iloc[0]
    income = pd.Series(INCOME, index=KEYS)
    assert d["event_weighted"] == pytest.approx((summed * income).sum() / summed.sum(), rel=1e-12)
    assert d["citywide"] == pytest.approx((pop * income).sum() / pop.sum(), rel=1e-12)
