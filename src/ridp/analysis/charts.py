"""Charts of analysis results: Altair (Vega-Lite) specs, rendered offline by vl-convert for documents."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

if TYPE_CHECKING:
    from ridp.analysis.service import ServiceLevels

__all__ = ["service_level_chart", "to_svg", "to_vega", "trend_chart"]

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


def service_level_chart(result: ServiceLevels, column: str, *, top: int = 25) -> Any:
    """Ranked bars (worst first) per group; with a period, one line per group (the ``top`` busiest) over time."""
    frame = result.to_pandas()
    if column not in frame.columns:
        raise ValueError(f"{column!r} is not a column of this result; columns: {', '.join(frame.columns)}")
    title = _LABELS.get(column, column)
    unit = f" ({result.unit} days)" if column.endswith("_days") else ""
    keys = [k for k in result.by]
    frame["group"] = frame[keys].astype(str).agg(" · ".join, axis=1) if keys else "City"
    if result.period:
        busiest = frame.groupby("group")["requests"].sum().nlargest(min(top, 10)).index
        data = frame[frame["group"].isin(busiest)][list(dict.fromkeys(["period", "group", column, "requests"]))]
        data = data.assign(period=pd.to_datetime(data["period"]))
        return (
            alt.Chart(data, title=f"{title}{unit} by {result.period}")
            .mark_line(point=True)
            .encode(
                x=alt.X("period:T", title=result.period.capitalize()),
                y=alt.Y(f"{column}:Q", title=title),
                color=alt.Color("group:N", title=", ".join(keys) or None),
                tooltip=["group:N", "period:T", *_tooltips(column)],
            )
            .properties(width=640, height=320)
        )
    ascending = column == "share_within_target"
    shown = list(dict.fromkeys(["group", column, "requests"]))
    data = frame.sort_values(column, ascending=ascending, na_position="last").head(top)[shown]
    return (
        alt.Chart(data, title=f"{title}{unit}, worst first")
        .mark_bar()
        .encode(
            x=alt.X(f"{column}:Q", title=title),
            y=alt.Y("group:N", sort=None, title=", ".join(keys) or None),
            tooltip=["group:N", *_tooltips(column)],
        )
        .properties(width=560, height=max(120, 18 * len(data)))
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
