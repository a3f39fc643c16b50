"""Service levels on real city exports equal an independent computation with pandas and numpy.

The expected figures are computed here from the file's raw text (parsed with the
readiness tests' own date reading), never from ridp's results: medians and p90s
of closed requests with pandas' quantile, Kaplan-Meier estimates with a plain loop
over the sorted durations, business days with numpy's busday_count, and the Chicago
food inspections' discovery rate from the Violations text.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date

import numpy as np
import pandas as pd
import pytest

from ridp.analysis import TargetTable, WorkCalendar, discovery_rate, service_levels
from ridp.readiness import CanonicalMapping
from tests.readiness.test_real_data import BY_PATH, Export, expected, parse_local, raw_text

CITIES = [
    BY_PATH["san_francisco/cases_sample.csv"],
    BY_PATH["boston/boston311-100.csv"],
    BY_PATH["nyc/311.csv"],
    BY_PATH["chicago/311 Service Requests - Pot Holes Reported - Historical.csv"],
    BY_PATH["baltimore/Customer_Service_Requests_2018.csv"],
]
REL = 1e-9


def mapping_of(export: Export) -> CanonicalMapping:
    return CanonicalMapping(export.fields, expected(export).formats, export.areas, export.timezone)


@functools.cache
def requests(export: Export) -> pd.DataFrame:
    """The export's requests as the analysis should see them: opened, closed, days, and whether closed."""
    frame = raw_text(export.source)
    formats = expected(export).formats
    opened = parse_local(frame[export.fields["opened"]], formats["opened"], export.timezone)
    closed = parse_local(frame[export.fields["closed"]], formats["closed"], export.timezone)

    def text(column: str) -> pd.Series:  # ingest reads an empty value as missing (spaces stay text)
        return frame[column].where(frame[column] != "", None)

    out = pd.DataFrame(
        {
            "type": text(export.fields["type"]),
            "area": text(export.areas[0]),
            "opened": opened,
            "closed": closed,
        }
    )
    as_of = max(out["opened"].max(), out["closed"].max())
    out = out[out["opened"].notna() & ~(out["closed"] < out["opened"])].copy()
    out["event"] = out["closed"].notna() & (out["closed"] <= as_of)
    until = out["closed"].where(out["event"], as_of)
    out["days"] = (until - out["opened"]).dt.total_seconds() / 86400
    out.attrs["as_of"] = as_of
    return out


def kaplan_meier(days: np.ndarray, event: np.ndarray) -> tuple[float | None, float | None, float]:
    """Median, p90 and restricted mean of the Kaplan-Meier curve, the textbook way."""
    order = np.argsort(days, kind="stable")
    days, event = days[order], event[order]
    times = np.unique(days)
    s, median, p90, area, t_prev, s_prev = 1.0, None, None, 0.0, 0.0, 1.0
    for t in times:
        at_risk = int((days >= t).sum())
        d = int(event[days == t].sum())
        s = s * (1 - d / at_risk)
        area += s_prev * (t - t_prev)
        t_prev, s_prev = t, s
        if median is None and s <= 0.5 + 1e-9:
            median = float(t)
        if p90 is None and s <= 0.1 + 1e-9:
            p90 = float(t)
    return median, p90, area


@pytest.fixture(scope="module")
def levels(stored_table) -> Callable[..., object]:
    stored_table.prefetch(e.source for e in CITIES)
    done: dict[tuple[str, str], object] = {}

    def run(export: Export, key: str) -> object:
        if (export.path, key) not in done:
            done[export.path, key] = service_levels(stored_table(export.source), mapping_of(export), by=(key,))
        return done[export.path, key]

    return run


def _close(a: object, b: object) -> bool:
    if a is None or b is None or (isinstance(a, float) and np.isnan(a)) or (isinstance(b, float) and np.isnan(b)):
        return (a is None or a != a) and (b is None or b != b)
    return bool(np.isclose(float(a), float(b), rtol=REL, atol=1e-9))


@pytest.mark.parametrize("key", ["type", "area"])
@pytest.mark.parametrize("export", CITIES, ids=str)
def test_median_and_p90_days_to_close_per_group(levels, export, key):
    data = requests(export)
    result = levels(export, key).to_pandas()
    # the engine reads a column of numbers as numbers (Chicago's wards), the raw text has text
    result.index = [None if pd.isna(v) else str(v) for v in result[key]]
    groups = data.groupby(key, dropna=False)
    assert len(result) == groups.ngroups
    assert int(result["requests"].sum()) == len(data)
    checked = 0
    for name, g in groups:
        name = None if isinstance(name, float) and np.isnan(name) else name
        row = result.loc[name] if name is not None else result[[pd.isna(v) for v in result.index]].iloc[0]
        closed = g.loc[g["event"], "days"]
        assert row["requests"] == len(g) and row["closed"] == len(closed) and row["still_open"] == len(g) - len(closed)
        assert _close(row["median_days_closed"], closed.quantile(0.5) if len(closed) else None), name
        assert _close(row["p90_days_closed"], closed.quantile(0.9) if len(closed) else None), name
        median, p90, mean = kaplan_meier(g["days"].to_numpy(), g["event"].to_numpy())
        assert _close(row["median_days"], median), name
        assert _close(row["p90_days"], p90), name
        assert _close(row["mean_days"], mean), name
        assert _close(row["resident_days_waiting"], g["days"].sum()), name
        checked += 1
    assert checked == groups.ngroups


@pytest.mark.parametrize("export", CITIES, ids=str)
def test_rows_set_aside_are_counted(levels, export):
    frame = raw_text(export.source)
    formats = expected(export).formats
    opened = parse_local(frame[export.fields["opened"]], formats["opened"], export.timezone)
    closed = parse_local(frame[export.fields["closed"]], formats["closed"], export.timezone)
    result = levels(export, "type")
    reasons = {x.reason.split(" (")[0]: x.count for x in result.left_out}
    assert reasons.get("without an opened date", 0) == int(opened.isna().sum())
    assert reasons.get("closed before they were opened", 0) == int((opened.notna() & (closed < opened)).sum())
    assert result.rows_read == len(frame)
    assert result.rows_analysed == len(requests(export))


def test_san_francisco_sets_aside_its_55_cases_closed_before_opened_with_examples(levels):
    sf = CITIES[0]
    result = levels(sf, "type")
    negative = next(x for x in result.left_out if x.reason.startswith("closed before"))
    assert negative.count == 55 and len(negative.examples) == 5
    assert all(e.startswith("CaseID ") for e in negative.examples)
    assert "censored" in result.method and "Kaplan-Meier" in result.method


def test_business_days_equal_numpys_count_on_boston(stored_table):
    boston = CITIES[1]
    holidays = (date(2022, 1, 17), date(2022, 2, 21))
    calendar = WorkCalendar(holidays=holidays)
    result = service_levels(stored_table(boston.source), mapping_of(boston), by=("type",), unit="business",
                            calendar=calendar, censoring="closed-only")  # fmt: skip
    data = requests(boston)
    closed = data[data["event"]].copy()
    closed["b"] = np.busday_count(
        closed["opened"].dt.date.to_numpy("datetime64[D]"),
        closed["closed"].dt.date.to_numpy("datetime64[D]"),
        holidays=list(holidays),
    )
    frame = result.to_pandas().set_index("type")
    for name, g in closed.groupby("type"):
        assert _close(frame.loc[name, "median_days_closed"], g["b"].quantile(0.5)), name
        assert _close(frame.loc[name, "mean_days_closed"], g["b"].mean()), name


def test_share_within_target_on_chicago_potholes_counts_open_requests_past_the_target(stored_table):
    chicago = CITIES[3]
    result = service_levels(stored_table(chicago.source), mapping_of(chicago), by=(), targets={"Pothole in Street": 7})
    data = requests(chicago)
    row = result.row()
    within = int((data["event"] & (data["days"] <= 7)).sum())
    past = int((data["days"] > 7).sum())
    assert (row["within_target"], row["past_target"]) == (within, past)
    assert _close(row["share_within_target"], within / (within + past))
    assert result.types_without_target == ()


def test_chicago_food_inspection_discovery_rate():
    from tests.readiness.test_real_data import BY_PATH as exports

    food = exports["chicago/Food_Inspections.csv"]
    frame = raw_text(food.source)
    import ibis

    table = ibis.memtable(frame)
    # Every inspection has a Violations text (passes carry comments too): a violation was found when the
    # result is a fail or a pass with conditions; out of business, no entry and not ready were no inspection.
    found_values, not_held = ("Fail", "Pass w/ Conditions"), ("Out of Business", "No Entry", "Not Ready")
    result = discovery_rate(table, CanonicalMapping({"opened": "Date", "type": "InspType"}), found_column="Results",
                            found_values=found_values, not_held=not_held, by=("type",))  # fmt: skip
    held = frame[~frame["Results"].isin(not_held)]
    found = held["Results"].isin(found_values)
    by_type = held.assign(found=found).groupby("InspType")["found"].agg(["size", "sum"])
    got = result.to_pandas().set_index("type")
    for name, row in by_type.iterrows():
        assert got.loc[name, "inspections"] == row["size"]
        assert got.loc[name, "found"] == row["sum"]
        assert _close(got.loc[name, "rate"], row["sum"] / row["size"])
    overall = discovery_rate(table, CanonicalMapping({"opened": "Date"}), found_column="Results",
                             found_values=found_values, not_held=not_held)  # fmt: skip
    total = overall.row()
    assert (total["inspections"], total["found"]) == (301, 144) == (len(held), int(found.sum()))
    assert total["rate_low"] < total["rate"] < total["rate_high"]
    assert [(x.reason, x.count) for x in overall.left_out] == [("inspections that did not take place", 41)]
    texts = discovery_rate(table, CanonicalMapping({"opened": "Date"}), found_column="Violations").row()
    assert texts["rate"] == 1.0  # every row has a Violations text, which is why the results column is the one


def test_a_target_table_that_misses_types_says_which_with_counts(stored_table):
    sf = CITIES[0]
    data = requests(sf)
    top = data["type"].value_counts()
    named = top.index[0]
    result = service_levels(stored_table(sf.source), mapping_of(sf), by=("type",), targets=TargetTable({named: 3.0}))
    missing = dict(result.types_without_target)
    assert named not in missing
    assert sum(missing.values()) == len(data) - int(top.iloc[0])
    assert pd.isna(result.row(type=top.index[1])["share_within_target"])
    assert "No target for" in result.summary()


@pytest.mark.parametrize("export", CITIES[:3], ids=str)
def test_the_monthly_backlog_equals_a_count_at_each_month_end(stored_table, export):
    from ridp.analysis import trends

    result = trends(stored_table(export.source), mapping_of(export), freq="month", measure="backlog").to_pandas()
    frame = raw_text(export.source)
    formats = expected(export).formats
    opened = parse_local(frame[export.fields["opened"]], formats["opened"], export.timezone)
    closed = parse_local(frame[export.fields["closed"]], formats["closed"], export.timezone)
    as_of = max(opened.max(), closed.max())
    closes = closed.where((closed >= opened) & (closed <= as_of))
    assert len(result) > 0
    for period, value, age in zip(result["period"], result["value"], result["mean_age_days"], strict=True):
        month_end = period + pd.DateOffset(months=1)
        open_then = opened.notna() & (opened < month_end) & ~(closes < month_end)
        assert value == int(open_then.sum()), period
        if value:
            expected_age = ((month_end - opened[open_then]).dt.total_seconds() / 86400).mean()
            assert age == pytest.approx(expected_age, rel=1e-9), period
