"""Charts of quasi-experimental estimates (Altair, data inline, nothing fetched): one per kind of detail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from ridp.evaluation.quasi import QuasiEstimate

__all__ = ["cells", "event_study", "series", "synthetic"]


def _level(result: QuasiEstimate) -> str:
    return f"{(1 - result.alpha) * 100:g}%"


def event_study(result: QuasiEstimate) -> Any:
    """Effects by event time with pointwise intervals (bars), the uniform band (area) where there is one, and
    dashed lines at zero effect and just before treatment."""
    import altair as alt

    frame = result.detail_frame()
    x = alt.X("event_time:Q", title="Periods since treatment started", axis=alt.Axis(tickMinStep=1))
    y_title = f"Effect on {result.outcome} ({_level(result)} CI)"
    layers = [
        alt.Chart(pd.DataFrame({"zero": [0.0]})).mark_rule(strokeDash=[4, 4], color="gray").encode(y="zero:Q"),
        alt.Chart(pd.DataFrame({"start": [-0.5]})).mark_rule(strokeDash=[2, 2], color="gray").encode(x="start:Q"),
    ]
    if "band_low" in frame:
        layers.append(alt.Chart(frame).mark_area(opacity=0.15).encode(x=x, y="band_low:Q", y2="band_high:Q"))
    layers.append(alt.Chart(frame).mark_rule(strokeWidth=2).encode(x=x, y=alt.Y("ci_low:Q", title=y_title),
                                                                     y2="ci_high:Q"))  # fmt: skip
    tips = [alt.Tooltip("event_time:Q", title="event time"), alt.Tooltip("att:Q", format=",.4g", title="effect"),
            alt.Tooltip("ci_low:Q", format=",.4g"), alt.Tooltip("ci_high:Q", format=",.4g")]  # fmt: skip
    layers.append(alt.Chart(frame).mark_point(filled=True, size=60).encode(x=x, y="att:Q", tooltip=tips))
    return alt.layer(*layers).properties(title=f"Event study: {result.label}", width=480, height=260)


def series(result: QuasiEstimate) -> Any:
    """The observed series (points), the fitted model (line) and, after the change, the counterfactual without
    it (dashed)."""
    import altair as alt

    frame = result.detail_frame()
    dates = pd.to_datetime(frame["time"], errors="coerce") if frame["time"].dtype == object else None
    kind = "T" if dates is not None and dates.notna().all() else "Q"
    if kind == "T":
        frame["time"] = dates
    x = alt.X(f"time:{kind}", title=result.spec.get("time", "time"))
    observed = (
        alt.Chart(frame)
        .mark_point(color="#555", size=20)
        .encode(x=x, y=alt.Y("observed:Q", title=result.outcome), tooltip=[alt.Tooltip(f"time:{kind}"), "observed:Q"])
    )
    fitted = alt.Chart(frame).mark_line(color="#1f5fa8").encode(x=x, y="fitted:Q", detail="post:N")
    after = frame[frame["post"].astype(bool)]
    counterfactual = alt.Chart(after).mark_line(color="#c0392b", strokeDash=[5, 4]).encode(x=x, y="counterfactual:Q")
    first = after["time"].iloc[:1].to_frame()
    rule = alt.Chart(first).mark_rule(color="gray", strokeDash=[2, 2]).encode(x=x)
    return alt.layer(observed, fitted, counterfactual, rule).properties(
        title=f"{result.label}: fitted (blue) and without the change (red, dashed)", width=520, height=260
    )


def synthetic(result: QuasiEstimate) -> Any:
    """Left: the treated unit and its synthetic control. Right: the gap, drawn over every placebo's gap."""
    import altair as alt

    frame = result.detail_frame()
    x = alt.X("time:Q", title=result.spec.get("time", "time"), axis=alt.Axis(format="d"))
    lines = frame.melt(id_vars=["time"], value_vars=["treated", "synthetic"], var_name="series", value_name="value")
    left = (
        alt.Chart(lines)
        .mark_line()
        .encode(x=x, y=alt.Y("value:Q", title=result.outcome), strokeDash="series:N", color="series:N")
        .properties(title="Treated and synthetic", width=300, height=240)
    )
    placebo_columns = [c for c in frame.columns if c.startswith("placebo:")]
    gaps = frame.melt(id_vars=["time"], value_vars=placebo_columns, var_name="unit", value_name="placebo_gap")
    placebo = alt.Chart(gaps).mark_line(color="#bbb", strokeWidth=1).encode(x=x, y="placebo_gap:Q", detail="unit:N")
    treated = alt.Chart(frame).mark_line(color="#1f5fa8", strokeWidth=2.5).encode(x=x, y=alt.Y("gap:Q", title="Gap"))
    start = frame[frame["post"].astype(bool)]["time"].iloc[:1].to_frame()
    rule = alt.Chart(start).mark_rule(color="gray", strokeDash=[2, 2]).encode(x=x)
    right = alt.layer(placebo, treated, rule).properties(title="Gap, with placebos (grey)", width=300, height=240)
    return alt.hconcat(left, right).properties(title=result.label)


def cells(result: QuasiEstimate) -> Any:
    """The 2×2 design: each group's mean before and after, joined by lines."""
    import altair as alt

    frame = result.detail_frame()
    frame["order"] = frame["period"].map({"before": 0, "after": 1})
    x = alt.X("period:N", sort=["before", "after"], title=None)
    base = alt.Chart(frame).encode(x=x, y=alt.Y("mean:Q", title=f"Mean {result.outcome}"), color="group:N")
    chart = base.mark_line(point=True).encode(order="order:Q", tooltip=["group:N", "period:N",
                                                                         alt.Tooltip("mean:Q", format=",.4g"), "n:Q"])  # fmt: skip
    return chart.properties(title=f"{result.label}: effect {result.effect:,.4g}", width=320, height=240)
