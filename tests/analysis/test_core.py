"""The analysis core on small tables whose every figure is worked out by hand."""

from __future__ import annotations

import doctest
import importlib
from datetime import date, datetime

import ibis
import numpy as np
import pandas as pd
import pytest

from ridp.analysis import (
    ServiceLevels,
    TargetTable,
    WorkCalendar,
    composite,
    discovery_rate,
    metric_value,
    service_levels,
    trends,
)
from ridp.analysis.charts import to_svg
from ridp.errors import FieldError
from ridp.metrics import load_metric
from ridp.readiness import CanonicalMapping

AS_OF = datetime(2024, 1, 31)
MAPPING = CanonicalMapping(
    {"id": "id", "type": "kind", "opened": "opened", "closed": "closed", "status": "status"}, areas=("ward",)
)


def requests(rows: list[tuple]) -> ibis.Table:
    frame = pd.DataFrame(rows, columns=["id", "kind", "opened", "closed", "status", "ward"])
    frame["opened"] = pd.to_datetime(frame["opened"])
    frame["closed"] = pd.to_datetime(frame["closed"])
    return ibis.memtable(frame)


# Pothole: closed after 1, 2, 4 days, one open since Jan 1 (30 days at AS_OF), one open since Jan 29 (2 days).
POTHOLES = [
    ("a", "Pothole", "2024-01-01", "2024-01-02", "Closed", "1"),
    ("b", "Pothole", "2024-01-01", "2024-01-03", "Closed", "1"),
    ("c", "Pothole", "2024-01-01", "2024-01-05", "Reopened", "2"),
    ("d", "Pothole", "2024-01-01", None, "Open", "2"),
    ("e", "Pothole", "2024-01-29", None, "Open", "2"),
]


@pytest.mark.parametrize(
    "module",
    ["ridp.analysis.calendar", "ridp.analysis.service", "ridp.analysis.metric_value", "ridp.analysis.composite"],
)
def test_the_docstring_examples_run(module):
    failed, tried = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert tried > 0 and failed == 0


def test_kaplan_meier_by_hand():
    # durations 1, 2, 2+ (open), 4, 30+ (open): S(1) = 4/5, S(2) = 4/5 * 3/4 = 0.6, S(4) = 0.6 * 1/2 = 0.3
    r = service_levels(requests(POTHOLES), MAPPING, as_of=AS_OF).row(type="Pothole")
    assert (r["requests"], r["closed"], r["still_open"]) == (5, 3, 2)
    assert r["median_days"] == 4.0  # first time S <= 0.5
    assert r["p90_days"] is None  # S never falls to 0.1: too many still open to know
    # restricted mean: area under S up to 30 days = 1*1 + 0.8*1 + 0.6*2 + 0.3*26
    assert r["mean_days"] == pytest.approx(1 + 0.8 + 1.2 + 0.3 * 26)
    assert r["median_days_closed"] == 2.0 and r["mean_days_closed"] == pytest.approx(7 / 3)
    assert r["resident_days_waiting"] == pytest.approx(1 + 2 + 4 + 30 + 2)
    assert r["open_mean_age_days"] == pytest.approx(16.0)
    assert r["reopened"] == 1 and r["reopen_rate"] == pytest.approx(0.2)


def test_share_within_target_leaves_open_requests_not_yet_past_it_undecided():
    r = service_levels(requests(POTHOLES), MAPPING, as_of=AS_OF, targets={"Pothole": 3}).row(type="Pothole")
    # within: 1 and 2 days; past: closed at 4, open for 30; undecided: open for 2 days
    assert (r["within_target"], r["past_target"], r["share_within_target"]) == (2, 2, 0.5)


def test_bad_rows_are_left_out_counted_with_examples_and_the_rest_is_analysed():
    rows = [
        *POTHOLES,
        ("n1", "Pothole", None, "2024-01-05", "Closed", "1"),
        ("n2", "Pothole", "2024-01-10", "2024-01-09", "Closed", "1"),
        ("n3", "Pothole", "2024-03-01", None, "Open", "1"),
        ("n4", None, "2024-01-02", "2024-01-04", "Closed", "1"),
    ]
    result = service_levels(requests(rows), MAPPING, as_of=AS_OF, targets={"Pothole": 3})
    left = {x.reason.split(" (")[0].split(",")[0]: (x.count, x.examples) for x in result.left_out}
    assert left["without an opened date"] == (1, ("id n1",))
    assert left["closed before they were opened"] == (1, ("id n2",))
    assert left["opened after the analysis date"] == (1, ("id n3",))
    assert result.rows_read == 9 and result.rows_analysed == 6
    assert result.types_without_target == (("(no type)", 1),)
    assert result.row(type="Pothole")["requests"] == 5
    assert result.row(type=None)["requests"] == 1
    notes = {x.reason.split(":")[0]: (x.count, x.examples) for x in result.notes}
    assert notes["have no closed date"] == (2, ("id d", "id e"))  # n3 opened after the analysis date: left out
    assert notes["have no request type"] == (1, ("id n4",))
    summary = result.summary()
    assert "Left out: 1 closed before they were opened" in summary and "No target for 1 type(s)" in summary
    assert "Note: 2 have no closed date: kept as still open, censored at their age (e.g. id d, id e)" in summary


def test_a_request_closed_after_the_analysis_date_was_still_open_then():
    r = service_levels(requests(POTHOLES), MAPPING, as_of=datetime(2024, 1, 4)).row(type="Pothole")
    assert (r["closed"], r["still_open"]) == (2, 2)  # c closes on Jan 5; e is opened after Jan 4
    assert r["requests"] == 4


def test_periods_and_several_breakdowns():
    result = service_levels(requests(POTHOLES), MAPPING, by=("type", "area"), period="month", as_of=AS_OF)
    assert result.columns[:3] == ("type", "area", "period")
    assert sorted(result.to_pandas()["area"]) == ["1", "2"]
    assert result.row(type="Pothole", area="2", period=pd.Timestamp("2024-01-01").date())["requests"] == 3


def test_business_days_skip_weekends_and_holidays():
    rows = [("a", "Pothole", "2024-01-12 09:00", "2024-01-16 10:00", "Closed", "1")]  # Fri -> Tue, Mon a holiday
    cal = WorkCalendar(holidays=(date(2024, 1, 15), date(2024, 1, 13)))  # the Saturday changes nothing
    r = service_levels(requests(rows), MAPPING, unit="business", calendar=cal, as_of=AS_OF).row(type="Pothole")
    assert r["median_days_closed"] == 1.0
    assert cal.business_days(date(2024, 1, 12), date(2024, 1, 16)) == 1
    plain = service_levels(requests(rows), MAPPING, unit="business", as_of=AS_OF).row(type="Pothole")
    assert plain["median_days_closed"] == 2.0
    assert (
        "1 holiday" not in plain
        and "2 holiday(s)" in service_levels(requests(rows), MAPPING, unit="business", calendar=cal, as_of=AS_OF).method
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"by": ("colour",)}, "by"),
        ({"by": ("type", "type")}, "by"),
        ({"period": "fortnight"}, "period"),
        ({"unit": "hours"}, "unit"),
        ({"targets": {"Pothole": -1}}, "targets['Pothole']"),
        ({"targets": {"Pothole": float("nan")}}, "targets['Pothole']"),
        ({"targets": TargetTable({"Pothole": 2}, "business")}, "targets.unit"),
        ({"start": date(2024, 2, 1), "end": date(2024, 1, 1)}, "end"),
        ({"acknowledged": "nope"}, "acknowledged"),
        ({"population": {"1": 100}}, "population"),
        ({"censoring": "drop"}, "censoring"),
    ],
)
def test_bad_arguments_name_their_field(kwargs, field):
    with pytest.raises(FieldError) as caught:
        service_levels(requests(POTHOLES), MAPPING, as_of=AS_OF, **kwargs)
    assert caught.value.field == field


def test_per_capita_rates_and_acknowledgement():
    frame = pd.DataFrame(POTHOLES, columns=["id", "kind", "opened", "closed", "status", "ward"])
    frame["opened"], frame["closed"] = pd.to_datetime(frame["opened"]), pd.to_datetime(frame["closed"])
    frame["ack"] = frame["opened"] + pd.to_timedelta([0.5, 1, None, 2, None], unit="D")
    result = service_levels(ibis.memtable(frame), MAPPING, by=("area",), as_of=AS_OF, acknowledged="ack",
                            population={"1": 1000, "2": 3000}, start=date(2024, 1, 1), end=date(2024, 12, 31))  # fmt: skip
    one = result.row(area="1")
    assert one["residents"] == 1000
    assert one["requests_per_1000_residents_per_year"] == pytest.approx(2 / 1000 * 1000 / (366 / 365.25))
    assert one["acknowledged"] == 2 and one["median_days_to_acknowledge"] == pytest.approx(0.75)


def test_results_round_trip_and_chart_offline():
    result = service_levels(requests(POTHOLES), MAPPING, by=("area",), as_of=AS_OF, targets={"Pothole": 3})
    again = ServiceLevels.from_dict(result.to_dict())
    pd.testing.assert_frame_equal(again.to_pandas(), result.to_pandas(), check_dtype=False)
    assert again.summary() == result.summary()
    svg = to_svg(result.chart("median_days"))
    assert svg.startswith("<svg") and "http" not in svg.split(">", 1)[1].replace("http://www.w3.org", "")
    monthly = service_levels(requests(POTHOLES), MAPPING, by=("type",), period="month", as_of=AS_OF)
    assert to_svg(monthly.chart("requests")).startswith("<svg")


SPEC = """
name: pothole_share
formula: {formula}
unit: share
direction: {direction}
baseline: {{value: null, start: 2024-01-01, end: 2024-01-31}}
target: {{value: {target}, category: uncertainty}}
source: requests
refresh: weekly
owner: DPW
"""


def spec(formula: str, direction: str = "higher_is_better", target: float = 1) -> object:
    return load_metric(SPEC.format(formula=formula, direction=direction, target=target))


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        ("count()", 5),
        ('count() where status == "Open"', 2),
        ("count() where closed is None", 2),
        ("median(days_to_close)", 4.0),  # Kaplan-Meier, as above
        ("mean(days_to_close)", 1 + 0.8 + 1.2 + 0.3 * 26),
        ("share(days_to_close <= 3)", 0.5),  # the 2-day-old open request is undecided
        ("share(days_to_close > 3)", 0.5),
        ("share(days_to_close <= 31)", 1.0),  # both open requests could still close within 31 days: undecided
        ("share(days_to_close <= 29)", 0.75),  # the 30-day-old one no longer can
        ('share(status == "Closed")', 0.4),
        ('share(days_to_close <= 3) where status in ("Closed", "Reopened")', 2 / 3),
        ('count() where opened >= "2024-01-02"', 1),
    ],
)
def test_metric_values_by_hand(formula, expected):
    value = metric_value(spec(formula), requests(POTHOLES), MAPPING, as_of=AS_OF)
    assert value.value == pytest.approx(expected)
    assert value.requests == (5 if "where" not in formula else value.requests)
    assert len(value.spec_hash) == 64


def test_a_metric_on_a_field_nobody_mapped_names_the_formula():
    with pytest.raises(FieldError) as caught:
        metric_value(spec('share(agency == "DPW")'), requests(POTHOLES), MAPPING, as_of=AS_OF)
    assert caught.value.field == "formula" and "agency" in str(caught.value)


def test_the_composite_is_actual_over_target_averaged_over_windows():
    lower = spec("median(days_to_close)", "lower_is_better", 2)  # 4 days against 2: score 0.5 in every window
    higher = spec('share(status == "Closed")', "higher_is_better", 0.8)
    table = requests([(f"x{i}", "Pothole", "2024-01-31 08:00", "2024-01-31 10:00", "Closed", "1") for i in range(4)])
    noon = datetime(2024, 1, 31, 12)
    result = composite([(lower, requests(POTHOLES), MAPPING), (higher, table, MAPPING)], as_of=noon)
    frame = result.to_pandas()
    assert set(frame["window"]) == {"day", "week", "month", "quarter"}
    # day window (Jan 31): no pothole opened that day -> no score for the first metric
    assert result.window("day") == pytest.approx(1 / 0.8)
    assert result.window("quarter") == pytest.approx((2 / 4 + 1 / 0.8) / 2)
    assert result.overall == pytest.approx(np.mean([result.window(w) for w in ("day", "week", "month", "quarter")]))
    assert "Composite score" in result.summary()


def test_discovery_rate_by_month_leaves_out_undated_inspections():
    frame = pd.DataFrame({"d": pd.to_datetime(["2020-03-02", "2020-03-20", "2020-04-01", None]),
                          "r": ["Fail", "Pass", "Pass w/ Conditions", "Fail"]})  # fmt: skip
    result = discovery_rate(ibis.memtable(frame), CanonicalMapping({"opened": "d"}), found_column="r",
                            found_values=("Fail", "Pass w/ Conditions"), period="month")  # fmt: skip
    rows = result.to_pandas()
    assert list(rows["inspections"]) == [2, 1] and list(rows["found"]) == [1, 1]
    assert [(x.reason, x.count) for x in result.left_out] == [("without a date (a period was asked for)", 1)]


def test_trends_refuse_bad_arguments_by_field():
    for kwargs, field in [({"freq": "day"}, "freq"), ({"measure": "p90"}, "measure"),
                          ({"where": {"colour": ["red"]}}, "where"), ({"max_changes": 11}, "max_changes")]:  # fmt: skip
        with pytest.raises(FieldError) as caught:
            trends(requests(POTHOLES), MAPPING, **kwargs)
        assert caught.value.field == field


def test_a_short_series_says_it_is_too_short():
    result = trends(requests(POTHOLES), MAPPING, freq="week", as_of=AS_OF)
    assert result.changes == () and result.seasonality is None
    assert any("too few" in n for n in result.notes)


def test_the_backlog_over_time_by_hand():
    rows = [("a", "Pothole", "2024-01-01", "2024-01-03", "Closed", "1"), ("b", "Pothole", "2024-01-02", None, "Open", "1"),
            ("c", "Pothole", "2024-01-09", "2024-01-20", "Closed", "1"), ("d", "Pothole", "2024-01-16", None, "Open", "1"),
            ("e", "Pothole", "2024-01-10", "2024-01-05", "Closed", "1")]  # fmt: skip
    result = trends(requests(rows), MAPPING, freq="week", measure="backlog", as_of=datetime(2024, 2, 5))
    frame = result.to_pandas()
    # weeks from Monday: open at each week's end, and their mean age then (e closed "before" it opened: still open)
    assert list(frame["value"]) == [1, 3, 3, 3, 3]
    assert list(frame["mean_age_days"]) == pytest.approx([6, (13 + 5 + 6) / 3, (20 + 12 + 6) / 3, (27 + 19 + 13) / 3,
                                                          (34 + 26 + 20) / 3])  # fmt: skip
    assert result.unit == "requests open at the end of the week"


def test_charts_bars_with_targets_lines_and_a_heat_map_render_offline():
    from ridp.analysis.charts import to_png

    rows = [(f"x{i}", kind, f"2024-0{month}-0{day}", f"2024-0{month}-0{day + 2}", "Closed", str(i % 12))
            for i, (kind, month, day) in enumerate((k, m, d) for k in ("Pothole", "Graffiti") for m in (1, 2, 3)
                                                    for d in (1, 2, 3))]  # fmt: skip
    levels = service_levels(requests(rows), MAPPING, by=("type",), as_of=datetime(2024, 4, 30), targets={"Pothole": 3})
    bars = levels.chart("median_days").to_dict()
    assert [layer["mark"]["type"] for layer in bars["layer"]] == ["bar", "tick"]  # the type's target as a tick
    monthly = service_levels(requests(rows), MAPPING, by=("type",), period="month", as_of=datetime(2024, 4, 30),
                             targets={"Pothole": 3})  # fmt: skip
    lines = monthly.chart("median_days").to_dict()
    assert [layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"] for layer in lines["layer"]] == [
        "line", "line"
    ]  # fmt: skip
    by_area = service_levels(requests(rows), MAPPING, by=("area",), period="month", as_of=datetime(2024, 4, 30))
    heat = by_area.chart("median_days").to_dict()  # 12 areas: more than 10 lines, so a heat map
    assert heat["mark"]["type"] == "rect" and heat["encoding"]["color"]["scale"]["scheme"] == "oranges"
    for chart in (levels.chart("median_days"), monthly.chart("median_days"), by_area.chart("share_within_target"
                  if "share_within_target" in by_area.columns else "requests", kind="heatmap")):  # fmt: skip
        assert to_svg(chart).startswith("<svg")
    assert to_png(levels.chart("median_days")).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="needs a result with a period"):
        levels.chart("median_days", kind="heatmap")
