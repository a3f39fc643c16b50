"""Charts of analysis results: Altair (Vega-Lite) specs, rendered offline by vl-convert for documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import altair as alt
import pandas as pd

if TYPE_CHECKING:
    from ridp.analysis.service import ServiceLevels

__all__ = ["service_level_chart", "to_png", "to_svg", "to_vega", "trend_chart"]

_LABELS = {
    "median_days": "Median days to close",
    "p90_days": "90th percentile days to close",
    "mean_days": "Mean days to close",
    "share_within_target": "Share closed within target",
    "requests": "Requests",
    "resident_days_waiting": "Resident-days of waiting",
    "reopen_rate": "Reopen rate",
    "requests_per_1000_residents_per_year": "Requests per 1,000 residents per year",
}


def _tooltips(column: str) -> list[Any]:
    return [alt.Tooltip(f"{column}:Q", format=",.2f")] + ([] if column == "requests" else ["requests:Q"])


ChartKind = Literal["auto", "bars", "lines", "heatmap"]
MAX_LINES = 10


def _targets(result: ServiceLevels, frame: pd.DataFrame, column: str) -> pd.Series | None:
    """Each row's target in days, where the chart shows a time to close and the result has a type's target."""
    if result.targets is None or not column.endswith("_days") or "type" not in result.by:
        return None
    targets = frame["type"].map(lambda t: result.targets.days_for(str(t)) if result.targets and t is not None else None)
    return targets if targets.notna().any() else None


def service_level_chart(result: ServiceLevels, column: str, *, top: int = 25, kind: ChartKind = "auto") -> Any:
    """A chart of one column of the result.

    ``bars``: groups ranked worst first, with each type's target as a tick where there is one. ``lines``: with
    a period, one line per group (the busiest ``min(top, 10)``) over time, with the target as a dashed rule.
    ``heatmap``: with a period, group × period coloured by the column (every group up to ``top``). ``auto``:
    bars without a period; lines for up to 10 groups, else the heat map.
    """
    frame = result.to_pandas()
    if column not in frame.columns:
        raise ValueError(f"{column!r} is not a column of this result; columns: {', '.join(frame.columns)}")
    if kind not in ("auto", "bars", "lines", "heatmap"):
        raise ValueError(f"{kind!r} is auto, bars, lines or heatmap")
    if kind in ("lines", "heatmap") and not result.period:
        raise ValueError(f"a {kind} chart needs a result with a period")
    title = _LABELS.get(column, column)
    unit = f" ({result.unit} days)" if column.endswith("_days") else ""
    keys = list(result.by)
    frame["group"] = frame[keys].astype(str).agg(" · ".join, axis=1) if keys else "City"
    target = _targets(result, frame, column)
    if target is not None:
        frame["target"] = target
    if result.period:
        groups = frame["group"].nunique()
        if kind == "heatmap" or (kind == "auto" and groups > MAX_LINES):
            return _heatmap(frame, result, column, title, unit, top)
        if kind != "bars":
            return _lines(frame, result, column, title, unit, top, keys)
    ascending = column == "share_within_target"
    shown = list(dict.fromkeys(["group", column, "requests", *(["target"] if target is not None else [])]))
    data = frame.sort_values(column, ascending=ascending, na_position="last").head(top)[shown]
    bars = (
        alt.Chart(data, title=f"{title}{unit}, worst first")
        .mark_bar()
        .encode(
            x=alt.X(f"{column}:Q", title=title),
            y=alt.Y("group:N", sort=None, title=", ".join(keys) or None),
            tooltip=["group:N", *_tooltips(column), *(["target:Q"] if target is not None else [])],
        )
    )
    layers: list[Any] = [bars]
    if target is not None:
        layers.append(
            alt.Chart(data).mark_tick(color="#b91c1c", thickness=2).encode(x="target:Q", y=alt.Y("group:N", sort=None))
        )
    return alt.layer(*layers).properties(width=560, height=max(120, 18 * len(data)))


def _lines(frame: pd.DataFrame, result: ServiceLevels, column: str, title: str, unit: str, top: int,
           keys: list[str]) -> Any:  # fmt: skip
    assert result.period is not None
    busiest = frame.groupby("group")["requests"].sum().nlargest(min(top, MAX_LINES)).index
    extra = ["target"] if "target" in frame.columns else []
    data = frame[frame["group"].isin(busiest)][list(dict.fromkeys(["period", "group", column, "requests", *extra]))]
    data = data.assign(period=pd.to_datetime(data["period"]))
    base = alt.Chart(data).encode(
        x=alt.X("period:T", title=result.period.capitalize()), color=alt.Color("group:N", title=", ".join(keys) or None)
    )
    layers: list[Any] = [
        base.mark_line(point=True).encode(
            y=alt.Y(f"{column}:Q", title=title), tooltip=["group:N", "period:T", *_tooltips(column)]
        )
    ]
    if extra:
        layers.append(
            base.mark_line(strokeDash=[6, 4], opacity=0.8).encode(y="target:Q", tooltip=["group:N", "target:Q"])
        )
    return alt.layer(*layers).properties(title=f"{title}{unit} by {result.period}", width=640, height=320)


def _heatmap(frame: pd.DataFrame, result: ServiceLevels, column: str, title: str, unit: str, top: int) -> Any:
    assert result.period is not None
    busiest = frame.groupby("group")["requests"].sum().nlargest(top).index
    data = frame[frame["group"].isin(busiest)][list(dict.fromkeys(["period", "group", column, "requests"]))]
    data = data.assign(period=pd.to_datetime(data["period"]))
    # darker is worse: a low share within target, a long wait
    scale = alt.Scale(scheme="blues", reverse=True) if column == "share_within_target" else alt.Scale(scheme="oranges")
    return (
        alt.Chart(data, title=f"{title}{unit}: {len(busiest)} busiest groups by {result.period}")
        .mark_rect()
        .encode(
            x=alt.X("period:T", title=result.period.capitalize()),
            y=alt.Y("group:N", sort=alt.EncodingSortField(field="requests", op="sum", order="descending"), title=None),
            color=alt.Color(f"{column}:Q", title=title, scale=scale),
            tooltip=["group:N", "period:T", *_tooltips(column)],
        )
        .properties(width=640, height=max(120, 14 * len(busiest)))
    )


def to_svg(chart: Any) -> str:
    """The chart as SVG, rendered offline (no browser, no network)."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_dict(), vl_version="6.4"))


def trend_chart(result: Any) -> Any:
    """The series with its fitted level (season and steps) and a rule at each change of level."""
    frame = result.to_pandas()
    unit = result.unit
    base = alt.Chart(frame).encode(x=alt.X("period:T", title=result.freq.capitalize()))
    layers: list[Any] = [
        base.mark_line(point=True).encode(
            y=alt.Y("value:Q", title=unit), tooltip=["period:T", alt.Tooltip("value:Q", format=",.1f"), "requests:Q"]
        )
    ]
    if "fitted" in frame.columns:
        layers.append(base.mark_line(strokeDash=[4, 3], color="#b45309").encode(y="fitted:Q"))
    if result.changes:
        rules = pd.DataFrame({"date": [pd.Timestamp(c.date) for c in result.changes],
                              "label": [f"×{c.ratio:.2f}" for c in result.changes]})  # fmt: skip
        layers.append(alt.Chart(rules).mark_rule(color="#b91c1c").encode(x="date:T", tooltip=["date:T", "label:N"]))
    what = " and ".join(f"{k}: {', '.join(v)}" for k, v in result.where.items()) or "all requests"
    return alt.layer(*layers).properties(title=f"{unit.capitalize()}, {what}", width=640, height=300)


def to_vega(chart: Any) -> dict[str, Any]:
    """The chart as a Vega spec (compiled from Vega-Lite offline), for the browser's Vega runtime."""
    import vl_convert as vlc

    spec: dict[str, Any] = vlc.vegalite_to_vega(chart.to_dict(), vl_version="6.4")
    return spec


def to_png(chart: Any, *, scale: float = 2.0) -> bytes:
    """The chart as PNG (for documents that cannot hold SVG), rendered offline."""
    import vl_convert as vlc

    return bytes(vlc.vegalite_to_png(chart.to_dict(), vl_version="6.4", scale=scale))
