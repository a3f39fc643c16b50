"""ONE set of checks run on DuckDB, PostgreSQL and Spark, each compared with a reference
computed independently by pandas from the same stored Parquet version.

A difference of one engine is declared with ``@pytest.mark.gap(engine, reason=...)``,
which makes that engine's run a strict expected failure: it can neither hide a bug
nor outlive a fix.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import ibis
import numpy as np
import pandas as pd
import pytest

Check = Callable[[ibis.Table], pd.DataFrame]


@pytest.fixture(scope="session")
def frame(stored_version: Path) -> pd.DataFrame:
    return pd.read_parquet(stored_version)


def run(expr: ibis.Table) -> pd.DataFrame:
    return expr.to_pandas().reset_index(drop=True)


def same(actual: pd.DataFrame, expected: pd.DataFrame, by: list[str], rtol: float = 1e-9) -> None:
    actual = actual.sort_values(by).reset_index(drop=True)
    expected = expected.sort_values(by).reset_index(drop=True)
    assert list(actual.columns) == list(expected.columns)
    assert len(actual) == len(expected), (len(actual), len(expected))
    for column in expected.columns:
        a, e = actual[column], expected[column]
        if pd.api.types.is_numeric_dtype(e) and not pd.api.types.is_bool_dtype(e):
            np.testing.assert_allclose(a.astype(float), e.astype(float), rtol=rtol, err_msg=column)
        else:
            assert [None if pd.isna(x) else str(x) for x in a] == [None if pd.isna(x) else str(x) for x in e], column


def hours_to_close(t: ibis.Table) -> ibis.Value:
    return (t.closed.epoch_seconds() - t.opened.epoch_seconds()) / 3600.0


def test_row_count(table, frame):
    assert table.count().to_pyarrow().as_py() == len(frame) == 20_000


def test_counts_by_type(table, frame):
    actual = run(table.group_by("type").aggregate(n=table.count()))
    expected = frame.groupby("type").size().rename("n").reset_index()
    same(actual, expected, ["type"])


def test_nulls_and_distincts(table, frame):
    actual = run(
        table.aggregate(
            closed_null=table.closed.isnull().sum(),
            area_null=table.area.isnull().sum(),
            areas=table.area.nunique(),
            types=table.type.nunique(),
        )
    )
    expected = pd.DataFrame(
        {
            "closed_null": [frame.closed.isna().sum()],
            "area_null": [frame.area.isna().sum()],
            "areas": [frame.area.nunique()],
            "types": [frame.type.nunique()],
        }
    )
    same(actual, expected, ["areas"])


def test_time_span(table, frame):
    actual = run(table.aggregate(first=table.opened.min(), last=table.opened.max()))
    assert pd.Timestamp(actual["first"][0]) == frame.opened.min()
    assert pd.Timestamp(actual["last"][0]) == frame.opened.max()


def test_exact_median_and_p90_hours_to_close_by_type(table, frame):
    h = hours_to_close(table)
    closed = table.filter(table.closed.notnull())
    h = hours_to_close(closed)
    actual = run(closed.group_by("type").aggregate(median=h.median(), p90=h.quantile(0.9), n=closed.count()))
    f = frame[frame.closed.notna()].assign(h=lambda d: (d.closed - d.opened).dt.total_seconds() / 3600)
    expected = (
        f.groupby("type")
        .h.agg(median="median", p90=lambda s: s.quantile(0.9), n="size")
        .reset_index()[["type", "median", "p90", "n"]]
    )
    same(actual, expected, ["type"], rtol=1e-6)


def test_monthly_counts(table, frame):
    month = table.opened.truncate("M").name("month")
    actual = run(table.group_by(month).aggregate(n=table.count()))
    actual["month"] = pd.to_datetime(actual["month"]).dt.strftime("%Y-%m")
    expected = frame.groupby(frame.opened.dt.strftime("%Y-%m").rename("month")).size().rename("n").reset_index()
    same(actual, expected, ["month"])


def test_day_of_week_counts(table, frame):
    dow = table.opened.day_of_week.index().name("dow")
    actual = run(table.group_by(dow).aggregate(n=table.count()))
    expected = frame.groupby(frame.opened.dt.day_of_week.rename("dow")).size().rename("n").reset_index()
    same(actual, expected, ["dow"])


def test_share_closed_within_three_days_by_area(table, frame):
    within = (table.closed.notnull() & (hours_to_close(table) <= 72)).ifelse(1, 0).cast("float64")
    actual = run(table.filter(table.area.notnull()).group_by("area").aggregate(share=within.mean()))
    f = frame[frame.area.notna()].copy()
    f["within"] = (f.closed.notna() & ((f.closed - f.opened).dt.total_seconds() <= 72 * 3600)).astype(float)
    expected = f.groupby("area").within.mean().rename("share").reset_index()
    same(actual, expected, ["area"])


def test_string_functions_and_filters(table, frame):
    t = table.filter(table.type.isin(["pothole", "noise"]) | table.type.contains("trash"))
    actual = run(t.group_by(upper=t.type.upper()).aggregate(n=t.count()))
    f = frame[frame.type.isin(["pothole", "noise"]) | frame.type.str.contains("trash")]
    expected = f.groupby(f.type.str.upper().rename("upper")).size().rename("n").reset_index()
    same(actual, expected, ["upper"])


def test_first_request_per_area_by_window(table, frame):
    t = table.filter(table.area.notnull())
    ranked = t.mutate(rn=ibis.row_number().over(group_by=t.area, order_by=[t.opened, t.request_id]))
    actual = run(ranked.filter(ranked.rn == 0).select("area", "request_id"))
    f = frame[frame.area.notna()].sort_values(["opened", "request_id"])
    expected = f.groupby("area").head(1)[["area", "request_id"]]
    same(actual, expected, ["area"])


def test_mean_coordinates_by_channel(table, frame):
    actual = run(table.group_by("channel").aggregate(lat=table.latitude.mean(), lon=table.longitude.mean()))
    expected = frame.groupby("channel")[["latitude", "longitude"]].mean().reset_index()
    expected.columns = ["channel", "lat", "lon"]
    same(actual, expected, ["channel"], rtol=1e-12)


def test_join_with_area_population(table, frame):
    pops = ibis.memtable(
        {
            "area": ["N01", "N02", "N03", "N04", "N05", "N06", "N07"],
            "population": [1000, 2000, 1500, 800, 3000, 1200, 900],
        }
    )
    known = table.filter(table.area.notnull())
    counts = known.group_by("area").aggregate(n=known.count())
    joined = counts.join(pops, "area")
    actual = run(joined.select("area", per_1000=joined.n * 1000.0 / joined.population))
    p = pd.DataFrame(
        {
            "area": ["N01", "N02", "N03", "N04", "N05", "N06", "N07"],
            "population": [1000, 2000, 1500, 800, 3000, 1200, 900],
        }
    )
    c = frame[frame.area.notna()].groupby("area").size().rename("n").reset_index().merge(p, on="area")
    expected = pd.DataFrame({"area": c.area, "per_1000": c.n * 1000.0 / c.population})
    same(actual, expected, ["area"])


def test_whole_days_between_dates(table, frame):
    t = table.filter(table.closed.notnull())
    days = t.closed.date().delta(t.opened.date(), unit="day").name("days")
    actual = run(t.group_by(days).aggregate(n=t.count()).filter(lambda x: x.days <= 10))
    f = frame[frame.closed.notna()]
    d = (f.closed.dt.normalize() - f.opened.dt.normalize()).dt.days.rename("days")
    expected = f.groupby(d).size().rename("n").reset_index()
    expected = expected[expected.days <= 10]
    same(actual, expected, ["days"])


@pytest.mark.gap(
    "postgres", reason="PostgreSQL cannot CAST boolean to double; the core writes ifelse(1, 0).cast('float64')"
)
def test_boolean_cast_to_float(table, frame):
    share = (table.priority == 1).cast("float64").mean()
    assert table.aggregate(s=share).to_pandas()["s"][0] == pytest.approx((frame.priority == 1).mean())


@pytest.mark.gap(
    "pyspark",
    reason="Spark types the literal 1.0 as DECIMAL(2,1) (even via ibis.literal(1.0, 'float64')), so its mean is rounded to 5 decimals; the core writes ifelse(1, 0).cast('float64')",
)
def test_mean_of_bare_float_literals(table, frame):
    known = table.filter(table.area.notnull())  # 19,793 rows: a mean with many decimals
    actual = known.aggregate(s=(known.priority == 1).ifelse(1.0, 0.0).mean()).to_pandas()["s"][0]
    expected = (frame[frame.area.notna()].priority == 1).mean()
    assert float(actual) == pytest.approx(expected, rel=1e-12)


def test_readiness(table, frame, engine):
    """The whole readiness assessment: the same figures on every engine, equal to pandas."""
    from datetime import date

    from ridp.readiness import CanonicalMapping, assess

    mapping = CanonicalMapping(
        {"id": "request_id", "type": "type", "opened": "opened", "closed": "closed", "latitude": "latitude",
         "longitude": "longitude"},
        areas=("area",),
    )  # fmt: skip
    r = assess(table, mapping=mapping, boundary=(-71.2, 42.2, -70.9, 42.45), today=date(2025, 1, 31))
    assert r.engine == {"pyspark": "pyspark"}.get(engine, engine)
    assert r.rows == len(frame) and r.table.exact_duplicate_rows == frame.duplicated().sum() == 0
    for name in frame.columns:
        col = r.column(name)
        assert col.nulls == frame[name].isna().sum(), name
        if col.distinct_exact:
            assert col.distinct == frame[name].nunique(), name
        else:  # estimated for columns of many values
            assert col.distinct == pytest.approx(frame[name].nunique(), rel=0.05), name
    assert r.column("request_id").distinct_exact and r.column("type").distinct_exact
    assert r.column("area").blanks == 0  # ingest stored the empty areas as nulls
    assert r.table.first == frame.opened.min().to_pydatetime() and r.table.last == frame.opened.max().to_pydatetime()
    months = frame.opened.dt.strftime("%Y-%m").value_counts().sort_index()
    assert dict(r.table.months) == months.to_dict() and r.table.empty_months == ()
    assert r.check("closed not before opened").failing == (frame.closed < frame.opened).sum() == 0
    assert r.check("unique: request_id").failing == 0
    xy = r.table.coordinates
    assert (
        xy is not None
        and xy.inside == len(frame)
        and r.column("latitude").quantiles[1][1] == pytest.approx(frame.latitude.median())
    )
    assert r.column("type").top[0] == (frame.type.value_counts().index[0], int(frame.type.value_counts().iloc[0]))
    assert r.verdict.level in ("sufficient", "proceed with caution")


def test_service_levels(table, frame):
    """Service levels (Kaplan-Meier, closed-only, business days, targets) equal pandas on every engine."""
    from datetime import datetime

    from ridp.analysis import WorkCalendar, service_levels
    from ridp.readiness import CanonicalMapping
    from tests.analysis.test_real_data import kaplan_meier

    mapping = CanonicalMapping({"id": "request_id", "type": "type", "opened": "opened", "closed": "closed"},
                               areas=("area",))  # fmt: skip
    as_of = datetime(2025, 2, 1)
    targets = {name: 3.0 for name in sorted(frame.type.dropna().unique())[:-1]}  # the last type has none
    result = service_levels(table, mapping, by=("type",), as_of=as_of, targets=targets).to_pandas().set_index("type")
    data = frame[frame.opened.notna() & ~(frame.closed < frame.opened)].copy()
    data["event"] = data.closed.notna() & (data.closed <= as_of)
    data["days"] = (data.closed.where(data.event, as_of) - data.opened).dt.total_seconds() / 86400
    assert data["event"].sum() < len(data)  # open requests are part of the check
    for name, g in data.groupby("type"):
        row = result.loc[name]
        median, p90, mean = kaplan_meier(g["days"].to_numpy(), g["event"].to_numpy())
        assert row["median_days"] == pytest.approx(median, rel=1e-9), name
        if p90 is None:
            assert pd.isna(row["p90_days"]), name
        else:
            assert row["p90_days"] == pytest.approx(p90, rel=1e-9), name
        assert row["mean_days"] == pytest.approx(mean, rel=1e-9), name
        closed = g.loc[g.event, "days"]
        assert row["median_days_closed"] == pytest.approx(closed.median(), rel=1e-9), name
        assert row["p90_days_closed"] == pytest.approx(closed.quantile(0.9), rel=1e-9), name
        if name in targets:
            within = int((g.event & (g.days <= 3)).sum())
            assert (row["within_target"], row["past_target"]) == (within, int((g.days > 3).sum())), name
    holidays = (pd.Timestamp("2024-07-04").date(), pd.Timestamp("2024-12-25").date())
    business = service_levels(table, mapping, by=("area",), as_of=as_of, unit="business", censoring="closed-only",
                              calendar=WorkCalendar(holidays=holidays)).to_pandas()  # fmt: skip
    closed = data[data.event].copy()
    closed["b"] = np.busday_count(closed.opened.dt.date.to_numpy("datetime64[D]"),
                                  closed.closed.dt.date.to_numpy("datetime64[D]"), holidays=list(holidays))  # fmt: skip
    expected = closed.groupby("area", dropna=False)["b"].median()
    got = business.set_index("area")["median_days_closed"]
    assert len(got) == len(expected)
    for area, value in expected.items():
        assert got[area if not pd.isna(area) else got.index[got.index.isna()][0]] == pytest.approx(value), area


def test_trends_and_metric_values(table, frame):
    """A monthly series with its seasonality and a metric spec's value: the same on every engine."""
    from datetime import date, datetime

    from ridp.analysis import metric_value, trends
    from ridp.metrics import Baseline, MetricSpec, Target
    from ridp.readiness import CanonicalMapping

    mapping = CanonicalMapping({"type": "type", "opened": "opened", "closed": "closed"})
    result = trends(table, mapping, freq="month", as_of=datetime(2025, 2, 1))
    series = result.to_pandas().set_index("period")["requests"]
    months = frame.opened.dt.to_period("M").value_counts().sort_index()
    for period, n in series.items():
        assert months[pd.Period(period, "M")] == n
    spec = MetricSpec(name="within_three", formula="share(days_to_close <= 3)", unit="share",
                      direction="higher_is_better", baseline=Baseline(None, date(2024, 1, 1), date(2024, 12, 31)),
                      target=Target(0.8, "uncertainty"), source="x", refresh="weekly", owner="x")  # fmt: skip
    value = metric_value(spec, table, mapping, as_of=datetime(2025, 2, 1))
    data = frame[(frame.opened >= "2024-01-01") & (frame.opened < "2025-01-01") & ~(frame.closed < frame.opened)]
    days = (data.closed - data.opened).dt.total_seconds() / 86400
    age = (pd.Timestamp("2025-02-01") - data.opened).dt.total_seconds() / 86400
    yes = (data.closed.notna() & (days <= 3)).sum()
    known = data.closed.notna().sum() + ((data.closed.isna()) & (age > 3)).sum()
    assert value.value == pytest.approx(yes / known, rel=1e-12)
