"""Trends: weekly or monthly series, their seasonality, and the dates their level changed.

``ridp.analysis.trends(table, mapping, freq="week")`` counts requests (or the
median time to close, Kaplan-Meier per period) per week or month on the engine,
then, in pandas and statsmodels on the short series:

* **Seasonality.** STL splits the series into trend, seasonal and remainder (for
  the charts). The size of the seasonal swing is estimated by a harmonic
  regression ``y = a + g·t + b·cos(2πt/P) + c·sin(2πt/P) + steps`` with
  autocorrelation-robust (Newey-West) errors: amplitude ``A = √(b²+c²)/a``, the
  relative swing around the mean level (0.25 means ±25 %), with a delta-method
  95 % interval, and the peak's day of the year.
* **Level changes.** Binary segmentation over a step in the same regression: at
  each candidate date (at least ``min_segment`` periods from either end or another
  change) the step that lowers the residual sum of squares most is kept if its
  sup-F statistic, plain and with Newey-West errors, passes Bai and Perron's 5 %
  sequential critical value; up to ``max_changes``. Each
  change has its date with a likelihood-ratio 95 % interval (the dates whose fit is
  not significantly worse), the level before and after, and the step's 95 % interval.

Only whole periods are used: a first or last week or month the data covers only in
part would look like a drop.
"""

from __future__ import annotations

import datetime as dt_
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final, Literal

import ibis
import ibis.expr.types as ir
import numpy as np
import pandas as pd

from ridp.analysis._survival import km_summary
from ridp.analysis._values import engine_of as _engine
from ridp.analysis._values import plain as _plain
from ridp.errors import FieldError
from ridp.readiness._canonical import CanonicalMapping, parse_datetime

__all__ = ["LevelChange", "Seasonality", "Trends", "trends"]

Freq = Literal["week", "month"]
Measure = Literal["requests", "median_days", "backlog"]
_SEASON: Final = {"week": 52, "month": 12}
_PERIOD_DAYS: Final = {"week": 7.0, "month": 365.25 / 12}
#: Bai & Perron (2003), Table 2: 5 % critical values of the sequential sup-F(l+1 | l) test, one coefficient
#: changing, 15 % trimming: a second or third change must pass a higher bar than the first.
SUP_F_5PCT: Final = (8.58, 10.13, 11.14, 11.83, 12.25, 12.66, 13.08, 13.40, 13.74, 14.06)
CHI2_1_95: Final = 3.841458820694124
Z95: Final = 1.959963984540054
MAX_FILTER_VALUES: Final = 200


@dataclass(frozen=True)
class Seasonality:
    """The seasonal swing: amplitude (relative to the mean level) with its 95 % interval, and the peak."""

    amplitude: float
    low: float
    high: float
    peak_day_of_year: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        return {"amplitude": self.amplitude, "low": self.low, "high": self.high,
                "peak_day_of_year": self.peak_day_of_year, "method": self.method}  # fmt: skip


@dataclass(frozen=True)
class LevelChange:
    """A change of level: the first period after it, a 95 % interval for that date, and the levels around it."""

    date: dt_.date
    date_low: dt_.date
    date_high: dt_.date
    before: float
    after: float
    step: float
    step_low: float
    step_high: float
    f_statistic: float

    @property
    def ratio(self) -> float:
        return self.after / self.before if self.before else math.nan

    @property
    def ratio_low(self) -> float:
        return (self.before + self.step_low) / self.before if self.before else math.nan

    @property
    def ratio_high(self) -> float:
        return (self.before + self.step_high) / self.before if self.before else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(), "date_low": self.date_low.isoformat(),
            "date_high": self.date_high.isoformat(), "before": self.before, "after": self.after,
            "step": self.step, "step_low": self.step_low, "step_high": self.step_high, "ratio": self.ratio,
            "ratio_low": self.ratio_low, "ratio_high": self.ratio_high, "f_statistic": self.f_statistic,
        }  # fmt: skip

    def describe(self, unit: str) -> str:
        direction = "rose" if self.step > 0 else "fell"
        return (
            f"From {self.date:%d %b %Y} (95% interval {self.date_low:%d %b %Y} – {self.date_high:%d %b %Y}) the level "
            f"{direction} from {self.before:,.1f} to {self.after:,.1f} {unit} (×{self.ratio:.2f}, "
            f"95% interval ×{self.ratio_low:.2f} – ×{self.ratio_high:.2f})."
        )


@dataclass(frozen=True, eq=False)
class Trends:
    """A series per week or month with its decomposition, seasonality and level changes."""

    freq: Freq
    measure: Measure
    where: Mapping[str, tuple[str, ...]]
    as_of: datetime
    seasonality: Seasonality | None
    changes: tuple[LevelChange, ...]
    notes: tuple[str, ...]
    _frame: pd.DataFrame

    def to_pandas(self) -> pd.DataFrame:
        """``period``, ``value``, ``requests``, and where computed ``trend``, ``seasonal``, ``remainder``, ``fitted``."""
        return self._frame.copy()

    @property
    def unit(self) -> str:
        return {"requests": f"requests a {self.freq}", "median_days": "days (median to close)",
                "backlog": f"requests open at the end of the {self.freq}"}[self.measure]  # fmt: skip

    def summary(self) -> str:
        what = " and ".join(f"{k} in {', '.join(v)}" for k, v in self.where.items()) or "all requests"
        lines = [f"{self.measure.replace('_', ' ').capitalize()} per {self.freq}, {what}: {len(self._frame)} periods."]
        if self.seasonality:
            s = self.seasonality
            lines.append(f"Seasonal swing ±{s.amplitude:.0%} (95% interval {s.low:.0%} – {s.high:.0%}), "
                         f"peak around day {s.peak_day_of_year:.0f} of the year.")  # fmt: skip
        lines.extend(c.describe(self.unit) for c in self.changes)
        if not self.changes:
            lines.append("No change of level passed the test.")
        lines.extend(self.notes)
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "trends",
            "freq": self.freq,
            "measure": self.measure,
            "where": {k: list(v) for k, v in self.where.items()},
            "as_of": self.as_of.isoformat(),
            "seasonality": self.seasonality.to_dict() if self.seasonality else None,
            "changes": [c.to_dict() for c in self.changes],
            "notes": list(self.notes),
            "columns": list(self._frame.columns),
            "rows": [{k: _plain(v) for k, v in r.items()} for r in self._frame.to_dict(orient="records")],
        }

    def chart(self) -> Any:
        from ridp.analysis.charts import trend_chart

        return trend_chart(self)


def trends(
    table: ir.Table,
    mapping: CanonicalMapping,
    *,
    freq: Freq = "week",
    measure: Measure = "requests",
    where: Mapping[str, Sequence[str]] | None = None,
    start: date | None = None,
    end: date | None = None,
    as_of: datetime | None = None,
    max_changes: int = 3,
    min_segment: int | None = None,
) -> Trends:
    """The series of ``measure`` per ``freq``, its seasonality and its changes of level.

    Parameters
    ----------
    where
        Keep requests whose canonical field (``type``, ``agency``, ``channel``, ``status``) or
        column has one of the values: ``{"type": ["Missed Trash Pickup"]}``.
    measure
        ``requests`` (volume) or ``median_days`` (Kaplan-Meier median time to close of the requests
        opened in each period: recent periods' open requests are censored, not dropped).
    max_changes, min_segment
        At most this many changes; each at least ``min_segment`` periods (default: 8 weeks or 4
        months) from the ends and from each other.
    """
    if freq not in _SEASON:
        raise FieldError("freq", f"{freq!r} is week or month")
    if measure not in ("requests", "median_days", "backlog"):
        raise FieldError("measure", f"{measure!r} is requests, median_days or backlog")
    if not 0 <= max_changes <= 10:
        raise FieldError("max_changes", "is between 0 and 10")
    columns = list(table.columns)
    opened_col = mapping.column("opened")
    if opened_col is None:
        raise FieldError("mapping", "no column is mapped to opened")
    closed_col = mapping.column("closed")
    if measure in ("median_days", "backlog") and closed_col is None:
        raise FieldError("measure", f"{measure} needs a column mapped to closed")
    engine = _engine(table)
    t = table.mutate(
        __opened=parse_datetime(table[opened_col], mapping.date_formats.get("opened", ()), engine=engine,
                                timezone=mapping.timezone),
        __closed=parse_datetime(table[closed_col], mapping.date_formats.get("closed", ()), engine=engine,
                                timezone=mapping.timezone) if closed_col else ibis.null().cast("timestamp"),
    )  # fmt: skip
    filters: dict[str, tuple[str, ...]] = {}
    for name, values in (where or {}).items():
        column = mapping.column(name) if name in ("type", "agency", "channel", "status") else name
        if column is None or column not in columns:
            raise FieldError("where", f"{name!r} is neither a mapped field nor a column of this dataset")
        values = tuple(str(v) for v in values)
        if not values or len(values) > MAX_FILTER_VALUES:
            raise FieldError("where", f"{name}: between 1 and {MAX_FILTER_VALUES} values")
        filters[name] = values
        t = t.filter(t[column].cast("string").isin(values))
    t = t.filter(t["__opened"].notnull())
    if as_of is None:
        found = t.aggregate(a=t["__opened"].max(), b=t["__closed"].max()).to_pandas().iloc[0]
        stamps = [pd.Timestamp(v).to_pydatetime() for v in (found["a"], found["b"]) if not pd.isna(v)]
        if not stamps:
            raise FieldError("where", "no request matches")
        as_of = max(stamps)
    as_of = as_of.replace(tzinfo=None)
    t = t.filter(t["__opened"] <= as_of)
    if measure == "backlog":
        # every request opened before a period's end counts, however long ago: no start/end filter on opened
        frame = _backlog(t, freq, as_of, start, end)
        start = start or (frame["first"].min().date() if len(frame) else None)
    if start is not None and measure != "backlog":
        t = t.filter(t["__opened"] >= datetime.combine(start, time.min))
    if end is not None and measure != "backlog":
        t = t.filter(t["__opened"] < datetime.combine(end + timedelta(days=1), time.min))
    t = t.mutate(__period=t["__opened"].truncate("W" if freq == "week" else "M").date())
    if measure == "backlog":
        pass
    elif measure == "requests":
        frame = (
            t.group_by("__period").aggregate(value=t.count(), requests=t.count(), first=t["__opened"].min()).to_pandas()
        )
    else:
        closed_by = t["__closed"].notnull() & (t["__closed"] <= as_of) & (t["__closed"] >= t["__opened"])
        t = t.filter(t["__closed"].isnull() | (t["__closed"] >= t["__opened"]))
        until = ibis.cases((closed_by, t["__closed"]), else_=ibis.literal(as_of))
        t = t.mutate(
            __event=closed_by, __days=(until.epoch_seconds() - t["__opened"].epoch_seconds()).cast("float64") / 86400
        )
        km = km_summary(t, ["__period"], "__days", "__event").to_pandas()
        counts = t.group_by("__period").aggregate(requests=t.count(), first=t["__opened"].min()).to_pandas()
        frame = counts.merge(km.rename(columns={"km_median": "value"})[["__period", "value"]], on="__period")
    frame = frame.rename(columns={"__period": "period"})
    frame["period"] = pd.to_datetime(frame["period"])
    frame = frame.sort_values("period").reset_index(drop=True)
    notes: list[str] = []
    if len(frame):
        frame, dropped = _whole_periods(frame, freq, start, end, as_of)
        if dropped:
            notes.append(f"Left out {dropped} period(s) the data covers only in part (at the start or the end).")
    if measure == "requests" and len(frame):
        # a period with no request at all is a zero, not a gap
        full = pd.date_range(frame["period"].min(), frame["period"].max(), freq="W-MON" if freq == "week" else "MS")
        frame = frame.set_index("period").reindex(full).rename_axis("period").reset_index()
        frame[["value", "requests"]] = frame[["value", "requests"]].fillna(0)
    extra = ["mean_age_days"] if measure == "backlog" else []
    frame = frame[["period", "value", "requests", *extra]].astype({"value": "float64", "requests": "int64"})
    seasonality: Seasonality | None = None
    changes: tuple[LevelChange, ...] = ()
    fitted: np.ndarray | None = None
    season = _SEASON[freq]
    segment = min_segment or (8 if freq == "week" else 4)
    y = frame["value"].to_numpy(dtype=float)
    counts = measure in ("requests", "backlog")
    if np.isnan(y).any():
        notes.append("Some periods have no estimate (too many requests still open): no tests were run.")
    elif len(y) >= 2 * segment + 1:
        t_index = np.arange(len(y), dtype=float)
        with_season = len(y) >= 2 * season
        s_len = season if with_season else None
        changes_found = _level_changes(_scale(y, counts), t_index, s_len, segment, max_changes)
        changes = tuple(_describe_change(frame, y, t_index, s_len, c, changes_found, counts) for c in changes_found)
        if with_season:
            seasonality, fitted = _seasonality(y, t_index, season, freq, frame, changes_found, counts)
            frame = _stl(frame, season)
        else:
            notes.append(f"Fewer than two years of {freq}s: no seasonality estimated.")
    else:
        notes.append(f"Only {len(y)} whole periods: too few to test for changes or seasons.")
    if fitted is not None:
        frame["fitted"] = fitted
    return Trends(freq, measure, filters, as_of, seasonality, changes, tuple(notes), frame)


def _backlog(t: ir.Table, freq: Freq, as_of: datetime, start: date | None, end: date | None) -> pd.DataFrame:
    """Requests open at the end of each period, and their mean age then, from two small aggregates.

    Open at the end ``e`` of a period = opened before ``e`` − closed before ``e``; the sum of their opened
    times likewise, so their mean age is ``(n·e − Σ opened) / n`` without pairing any period with any request.
    A close before the open (a data error) or after ``as_of`` does not close a request.
    """
    unit = "W" if freq == "week" else "M"
    seconds = t["__opened"].epoch_seconds().cast("float64")
    ins = (
        t.group_by(__period=t["__opened"].truncate(unit).date())
        .aggregate(n_in=t.count(), s_in=seconds.sum(), first=t["__opened"].min())
        .to_pandas()
    )
    valid = t.filter(t["__closed"].notnull() & (t["__closed"] >= t["__opened"]) & (t["__closed"] <= as_of))
    outs = (
        valid.group_by(__period=valid["__closed"].truncate(unit).date())
        .aggregate(n_out=valid.count(), s_out=valid["__opened"].epoch_seconds().cast("float64").sum())
        .to_pandas()
    )
    if ins.empty:
        return pd.DataFrame(columns=["period", "value", "requests", "mean_age_days", "first"])
    ins["__period"], outs["__period"] = pd.to_datetime(ins["__period"]), pd.to_datetime(outs["__period"])
    last = pd.Timestamp(as_of).to_period("W-SUN" if freq == "week" else "M").start_time  # the backlog runs on
    periods = pd.date_range(ins["__period"].min(), last, freq="W-MON" if freq == "week" else "MS")
    frame = pd.DataFrame({"period": periods})
    frame = frame.merge(ins.rename(columns={"__period": "period"}), on="period", how="left")
    frame = frame.merge(outs.rename(columns={"__period": "period"}), on="period", how="left")
    frame[["n_in", "s_in", "n_out", "s_out"]] = frame[["n_in", "s_in", "n_out", "s_out"]].fillna(0.0)
    step = pd.DateOffset(weeks=1) if freq == "week" else pd.DateOffset(months=1)
    ends = (frame["period"] + step).astype("datetime64[s]").astype("int64").astype("float64")
    n_open = frame["n_in"].cumsum() - frame["n_out"].cumsum()
    s_open = frame["s_in"].cumsum() - frame["s_out"].cumsum()
    frame["value"] = n_open.round()
    frame["requests"] = frame["n_in"].astype("int64")  # opened in the period
    frame["mean_age_days"] = ((n_open * ends - s_open) / n_open.where(n_open > 0)) / 86400
    frame["first"] = pd.Timestamp(frame["first"].min())
    if start is not None:
        frame = frame[frame["period"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["period"] <= pd.Timestamp(end)]
    return frame.rename(columns={"period": "__period"})


def _whole_periods(
    frame: pd.DataFrame, freq: Freq, start: date | None, end: date | None, as_of: datetime
) -> tuple[pd.DataFrame, int]:
    first_seen = pd.Timestamp(start) if start else pd.Timestamp(frame["first"].min()).normalize()
    last_day = pd.Timestamp(end) if end else pd.Timestamp(as_of).normalize() - pd.Timedelta(days=1)
    if as_of.time() != time.min and not end:
        last_day = pd.Timestamp(as_of).normalize() - pd.Timedelta(days=1)
    step = pd.DateOffset(weeks=1) if freq == "week" else pd.DateOffset(months=1)
    keep = (frame["period"] >= first_seen) & ((frame["period"] + step - pd.Timedelta(days=1)) <= last_day)
    return frame[keep].reset_index(drop=True), int((~keep).sum())


def _design(t: np.ndarray, season: int | None, steps: Sequence[int]) -> np.ndarray:
    cols = [np.ones_like(t), t - t.mean()]
    if season:
        theta = 2 * np.pi * t / season
        cols += [np.cos(theta), np.sin(theta)]
    for k in sorted(steps):
        cols.append((t >= k).astype(float))
    return np.column_stack(cols)


def _scale(y: np.ndarray, counts: bool) -> np.ndarray:
    """The series on the log scale: seasons, growth and changes of level multiply a volume or a wait."""
    return np.log(y + 0.5) if counts else np.log(np.maximum(y, 1e-6))


def _ssr(z: np.ndarray, x: np.ndarray) -> float:
    beta, *_ = np.linalg.lstsq(x, z, rcond=None)
    resid = z - x @ beta
    return float(resid @ resid)


def _hac_lags(n: int) -> int:
    lags: float = 4 * (n / 100) ** (2 / 9)  # Newey and West's rule of thumb
    return max(1, math.floor(lags + 0.5))


def _fit(y: np.ndarray, x: np.ndarray, counts: bool) -> Any:
    """Poisson (quasi-likelihood, Newey-West errors) for counts; least squares on the log for waits."""
    import statsmodels.api as sm

    if counts:
        model = sm.GLM(y, x, family=sm.families.Poisson())
        return model.fit(cov_type="HAC", cov_kwds={"maxlags": _hac_lags(len(y))}, scale="X2")
    return sm.OLS(_scale(y, False), x).fit(cov_type="HAC", cov_kwds={"maxlags": _hac_lags(len(y))})


def _level_changes(z: np.ndarray, t: np.ndarray, season: int | None, segment: int, max_changes: int) -> list[int]:
    """Indices of the first period after each change, by binary segmentation with a sup-F test (log scale)."""
    found: list[int] = []
    n = len(z)
    for _ in range(max_changes):
        base_x = _design(t, season, found)
        base = _ssr(z, base_x)
        best, best_k = math.inf, -1
        for k in range(segment, n - segment + 1):
            if any(abs(k - f) < segment for f in found):
                continue
            s = _ssr(z, _design(t, season, [*found, k]))
            if s < best:
                best, best_k = s, k
        if best_k < 0 or best <= 0:
            break
        bar = SUP_F_5PCT[len(found)]
        if (base - best) / (best / (n - base_x.shape[1] - 1)) < bar:
            break
        # The best date's step must also pass with autocorrelation-robust (Newey-West) errors: weekly counts
        # are autocorrelated, and the plain F test alone finds changes in noise.
        x = _design(t, season, [*found, best_k])
        if _robust_wald(z, x, sorted([*found, best_k]).index(best_k), len(found) + 1) < bar:
            break
        found.append(best_k)
    return sorted(found)


def _robust_wald(z: np.ndarray, x: np.ndarray, step: int, steps: int) -> float:
    import statsmodels.api as sm

    fit = sm.OLS(z, x).fit(cov_type="HAC", cov_kwds={"maxlags": _hac_lags(len(z))})
    col = x.shape[1] - steps + step
    return float(fit.params[col] ** 2 / fit.cov_params()[col, col])


def _level(fit: Any, x: np.ndarray, season: int | None, counts: bool) -> np.ndarray:
    params = np.array(fit.params, dtype=float)
    if season:
        params[2:4] = 0.0
    level: np.ndarray = np.exp(x @ params)
    return level


def _describe_change(
    frame: pd.DataFrame, y: np.ndarray, t: np.ndarray, season: int | None, k: int, found: list[int], counts: bool
) -> LevelChange:
    others = [f for f in found if f != k]
    n = len(y)
    z = _scale(y, counts)
    x = _design(t, season, found)
    fit = _fit(y, x, counts)
    col = x.shape[1] - len(found) + sorted(found).index(k)
    low, high = (float(v) for v in np.asarray(fit.conf_int(alpha=0.05))[col])
    level = _level(fit, x, season, counts)
    before, after = float(level[k - 1]), float(level[k])
    # the step as a difference of levels, its interval from the log-scale coefficient's
    step, step_low, step_high = after - before, before * (math.exp(low) - 1), before * (math.exp(high) - 1)
    # date interval: candidate dates whose fit is not significantly worse (likelihood ratio, 1 df)
    best = _ssr(z, x)
    lo_k, hi_k = k, k
    for j in range(1, n):
        if j in others:
            continue
        s = _ssr(z, _design(t, season, [*others, j]))
        if n * math.log(s / best) <= CHI2_1_95:
            lo_k, hi_k = min(lo_k, j), max(hi_k, j)
    base = _ssr(z, _design(t, season, others))
    f_stat = (base - best) / (best / (n - x.shape[1]))
    periods = frame["period"]
    return LevelChange(
        date=periods[k].date(), date_low=periods[lo_k].date(), date_high=periods[hi_k].date(),
        before=before, after=after, step=step, step_low=step_low, step_high=step_high, f_statistic=float(f_stat),
    )  # fmt: skip


def _seasonality(
    y: np.ndarray, t: np.ndarray, season: int, freq: Freq, frame: pd.DataFrame, steps: list[int], counts: bool
) -> tuple[Seasonality, np.ndarray]:
    x = _design(t, season, steps)
    n = len(y)
    fit = _fit(y, x, counts)
    b, c = (float(v) for v in np.asarray(fit.params)[[2, 3]])
    h = math.hypot(b, c)
    # exp(h·cos) swings between e^h and e^-h: (max - min) / (max + min) = tanh(h), the A of 1 + A·cos
    amplitude = math.tanh(h)
    cov = np.asarray(fit.cov_params())[np.ix_([2, 3], [2, 3])]
    grad = (1 - amplitude**2) * (np.array([b, c]) / h if h else np.zeros(2))
    se = float(math.sqrt(max(grad @ cov @ grad, 0.0)))
    first = pd.Timestamp(frame["period"].iloc[0])
    middle = _PERIOD_DAYS[freq] / 2 - 0.5  # each period's value stands for its middle day
    peak = (math.atan2(c, b) * season / (2 * math.pi)) * _PERIOD_DAYS[freq]
    peak_doy = (first.day_of_year + middle + peak - 1) % 365.25 + 1
    model = "Poisson (quasi-likelihood)" if counts else "least squares on the log"
    method = (f"{model} regression on {n} {freq}s: level, growth, one yearly cosine and {len(steps)} level step(s), "
              "Newey-West errors; amplitude = (peak - trough) / (peak + trough), delta-method interval")  # fmt: skip
    fitted: np.ndarray = np.exp(x @ np.asarray(fit.params, dtype=float))
    return Seasonality(amplitude, amplitude - Z95 * se, amplitude + Z95 * se, float(peak_doy), method), fitted


def _stl(frame: pd.DataFrame, season: int) -> pd.DataFrame:
    from statsmodels.tsa.seasonal import STL

    result = STL(frame["value"].to_numpy(dtype=float), period=season, robust=True).fit()
    return frame.assign(trend=result.trend, seasonal=result.seasonal, remainder=result.resid)
