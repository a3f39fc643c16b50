"""The demo city's planted truths are recovered within the intervals the analysis reports.

The demo writes what it planted and what the sample realised in ``truth.json``
(each area's median days to close and its ratio to the city's; the seasonal
amplitude; the level change of one request type with its date). The analysis
never reads that file: it runs on the ingested CSV with the mapping a person would
confirm, and its intervals must hold the realised values.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import ibis
import pandas as pd
import pytest

from ridp.analysis import service_levels, trends
from tests.readiness.test_demo_truth import _mapping, demo_city, demo_table, raw, truth

__all__ = ["demo_city", "demo_table", "raw", "truth"]  # session fixtures, shared with the readiness tests


@pytest.fixture(scope="module")
def by_area(demo_table: ibis.Table, raw: pd.DataFrame) -> Any:
    return service_levels(demo_table, _mapping(raw), by=("area_id",), censoring="closed-only")


def test_each_areas_median_and_its_ratio_to_the_city_fall_in_the_reported_interval(by_area, truth, demo_table, raw):
    city = service_levels(demo_table, _mapping(raw), by=(), censoring="closed-only").row()
    assert city["median_days_low"] <= truth["closure"]["city_median_days_to_close"] <= city["median_days_high"]
    frame = by_area.to_pandas().set_index("area_id")
    checked = 0
    for area in truth["areas"]:
        row = frame.loc[area["area_id"]]
        assert row["median_days_low"] <= area["median_days_to_close"] <= row["median_days_high"], area["area_id"]
        ratio = area["median_days_ratio_to_city"]
        assert row["median_days_low"] / city["median_days"] <= ratio * 1.0001, area["area_id"]
        assert ratio <= row["median_days_high"] / city["median_days"] * 1.0001, area["area_id"]
        checked += 1
    assert checked == len(truth["areas"]) > 10


def test_slow_areas_rank_above_fast_ones(by_area, truth):
    ranked = list(by_area.ranked("median_days")["area_id"])
    slow, fast = truth["closure"]["slow_area_ids"], truth["closure"]["fast_area_ids"]
    assert max(ranked.index(a) for a in slow) < min(ranked.index(a) for a in fast)


@pytest.mark.parametrize("freq", ["week", "month"])
def test_the_seasonal_amplitude_and_peak_are_recovered(demo_table, raw, truth, freq):
    result = trends(demo_table, _mapping(raw), freq=freq)
    season = result.seasonality
    assert season is not None
    assert season.low <= truth["seasonality"]["realised_amplitude"] <= season.high
    assert abs(season.peak_day_of_year - truth["seasonality"]["realised_peak_day_of_year"]) < 15
    assert "Seasonal swing" in result.summary()


@pytest.mark.parametrize("freq", ["week", "month"])
def test_the_planted_level_change_is_found_with_its_date_and_size(demo_table, raw, truth, freq):
    planted = truth["level_change"]
    result = trends(demo_table, _mapping(raw), freq=freq, where={"type": [planted["service_name"]]})
    day = date.fromisoformat(planted["date"])
    found = [c for c in result.changes if c.date_low <= day and (c.date_high >= day or (freq == "week" and
             (day - c.date_high).days < 7))]  # fmt: skip
    assert len(found) == 1, result.summary()
    change = found[0]
    assert change.ratio_low <= planted["realised_factor"] <= change.ratio_high
    assert change.step > 0 and change.after > change.before
    assert change.describe(result.unit).startswith(f"From {change.date:%d %b %Y}")


def test_trends_say_which_partial_periods_they_left_out(demo_table, raw):
    result = trends(demo_table, _mapping(raw), freq="week")
    frame = result.to_pandas()
    assert frame["period"].dt.day_of_week.eq(0).all()  # weeks start on Monday
    assert any("only in part" in n for n in result.notes)
    assert {"trend", "seasonal", "remainder", "fitted"} <= set(frame.columns)
