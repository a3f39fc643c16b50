"""The readiness report: one self-contained HTML page, charts rendered offline to SVG.

Charts are Vega-Lite specs (made with Altair) rendered by vl-convert inside this
process: the page loads nothing from anywhere, so it can be mailed, archived or
opened on a machine without a network.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

import altair as alt
import pandas as pd

if TYPE_CHECKING:
    from ridp.readiness.result import Readiness

__all__ = ["charts", "render_html", "svg"]

VL_VERSION = "6.4"
_LEVEL_CLASS = {"insufficient": "bad", "proceed with caution": "warn", "sufficient": "good"}


def svg(chart: alt.TopLevelMixin) -> str:
    """A chart as an SVG string, rendered offline."""
    import vl_convert as vlc

    return str(vlc.vegalite_to_svg(chart.to_dict(), vl_version=VL_VERSION))


def charts(result: Readiness) -> dict[str, alt.TopLevelMixin]:
    """The report's charts, by title (Vega-Lite specs; see :func:`svg`)."""
    out: dict[str, alt.TopLevelMixin] = {}
    missing = pd.DataFrame(
        [{"column": c.name, "kind": kind, "share": n / result.rows if result.rows else 0.0}
         for c in result.columns for kind, n in (("empty", c.nulls), ("blank", c.blanks), ("placeholder", c.placeholders))]
    )  # fmt: skip
    if not missing.empty:
        out["Missing values by column"] = (
            alt.Chart(missing)
            .mark_bar()
            .encode(
                y=alt.Y("column:N", sort=None, title=None),
                x=alt.X(
                    "sum(share):Q", axis=alt.Axis(format="%"), title="share of rows", scale=alt.Scale(domain=[0, 1])
                ),
                color=alt.Color("kind:N", title="missing as", scale=alt.Scale(range=["#4c78a8", "#f58518", "#b279a2"])),
                tooltip=["column", "kind", alt.Tooltip("share:Q", format=".1%")],
            )
            .properties(width=420, height=max(120, 16 * len(result.columns)))
        )
    if result.table.months:
        months = pd.DataFrame([{"year": m[:4], "month": int(m[5:]), "requests": n} for m, n in result.table.months])
        out["Requests per month (empty months in white)"] = (
            alt.Chart(months)
            .mark_rect(stroke="#ccc")
            .encode(
                x=alt.X("month:O", title="month"),
                y=alt.Y("year:O", title=None),
                color=alt.Color("requests:Q", scale=alt.Scale(scheme="blues", domainMin=0)),
                tooltip=["year", "month", "requests"],
            )
            .properties(width=420, height=max(60, 22 * months["year"].nunique()))
        )
    for c in result.columns:
        if c.histogram and not c.masked and c.canonical not in ("opened", "closed"):
            frame = pd.DataFrame([{"from": float(a), "rows": n} for a, n in c.histogram])
            out[f"Distribution of {c.name} (sample of {c.patterns_from:,} rows)"] = (
                alt.Chart(frame)
                .mark_bar()
                .encode(x=alt.X("from:Q", bin="binned", title=c.name), y=alt.Y("rows:Q", title="rows"))
                .properties(width=300, height=100)
            )
    xy = result.table.coordinates
    if result.table.points and xy is not None and xy.boundary is not None:
        min_lon, min_lat, max_lon, max_lat = xy.boundary
        w, h = max_lon - min_lon, max_lat - min_lat
        pts = pd.DataFrame(result.table.points, columns=["lon", "lat", "where"])
        near = pts["lon"].between(min_lon - w, max_lon + w) & pts["lat"].between(min_lat - h, max_lat + h)
        box = pd.DataFrame([{"lon": min_lon, "lat": min_lat, "lon2": max_lon, "lat2": max_lat}])
        out["Points against the city's bounds (a sample)"] = alt.layer(
            alt.Chart(box)
            .mark_rect(fill=None, stroke="#555", strokeDash=[4, 3])
            .encode(x="lon:Q", y="lat:Q", x2="lon2", y2="lat2"),
            alt.Chart(pts[near])
            .mark_circle(size=12, opacity=0.6)
            .encode(
                x=alt.X("lon:Q", scale=alt.Scale(zero=False), title="longitude"),
                y=alt.Y("lat:Q", scale=alt.Scale(zero=False), title="latitude"),
                color=alt.Color("where:N", title=None, scale=alt.Scale(range=["#4c78a8", "#e45756", "#f58518"])),
            ),
        ).properties(width=380, height=380)
    return out


def _table(frame: pd.DataFrame, caption: str) -> str:
    head = "".join(f'<th scope="col">{html.escape(str(c))}</th>' for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(v))}</td>" for v in row) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    return (
        f"<table><caption>{html.escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1 else f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def render_html(result: Readiness, *, title: str | None = None) -> str:
    """The whole report as one HTML page (no scripts, no external resources)."""
    title = title or "Data readiness"
    v = result.verdict
    parts = [
        f"<h1>{html.escape(title)}</h1>",
        f'<section class="verdict {_LEVEL_CLASS[v.level]}" aria-labelledby="verdict"><h2 id="verdict">Verdict: '
        f"{html.escape(v.level)}</h2><p>{html.escape(v.explanation)}</p>",
    ]
    if v.fix_first:
        parts.append("<h3>Fix first</h3><ol>" + "".join(f"<li>{html.escape(x)}</li>" for x in v.fix_first) + "</ol>")
    parts.append("</section>")
    t = result.table
    facts = [f"{result.rows:,} rows", f"{len(result.columns)} columns"]
    if t.first and t.last:
        facts.append(f"requests from {t.first:%Y-%m-%d} to {t.last:%Y-%m-%d} ({t.years:.1f} years)")
    facts.append(f"{t.exact_duplicate_rows:,} exact duplicate rows")
    if t.duplicate_id_rows is not None:
        facts.append(f"{t.duplicate_id_rows:,} rows reusing another row's id")
    if t.coordinates:
        xy = t.coordinates
        facts.append(f"points: {xy.inside:,} inside, {xy.outside:,} outside, {xy.swapped:,} swapped, {xy.zero:,} at (0, 0), "
                     f"{xy.missing:,} missing (bounds {xy.boundary_source})")  # fmt: skip
    parts.append("<ul class=facts>" + "".join(f"<li>{html.escape(f)}</li>" for f in facts) + "</ul>")
    parts.append("<h2>Dimensions</h2><ul class=dims>")
    for d in result.dimensions:
        found = "".join(f"<li>{html.escape(x)}</li>" for x in d.findings)
        parts.append(
            f'<li><strong>{html.escape(d.name)}</strong> <meter min="0" max="100" low="60" high="80" optimum="100" '
            f'value="{d.score:.1f}">{d.shown}</meter> {d.shown}/100' + (f"<ul>{found}</ul>" if found else "") + "</li>"
        )
    parts.append("</ul>")
    parts.append(_table(result.checks_frame().drop(columns=["error"]), "Checks"))
    for c in result.checks:
        if not c.sample.empty:
            parts.append(_table(c.sample.head(5), f"Rows failing “{c.name}” (first {min(5, len(c.sample))})"))
    profile = result.profile_frame()
    profile["missing_share"] = profile["missing_share"].map(lambda x: f"{x:.1%}")
    parts.append(_table(profile, "Columns"))
    parts.append("<h2>Charts</h2>")
    for name, chart in charts(result).items():
        parts.append(f"<figure><figcaption>{html.escape(name)}</figcaption>{svg(chart)}</figure>")
    style = (
        "body{font:15px/1.45 system-ui,sans-serif;max-width:70rem;margin:2rem auto;padding:0 1rem;color:#222}"
        "table{border-collapse:collapse;margin:1rem 0;font-size:13px}td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}"
        "caption{text-align:left;font-weight:600}.verdict{padding:.5rem 1rem;border-left:6px solid}"
        ".good{border-color:#2e7d32}.warn{border-color:#ed6c02}.bad{border-color:#c62828}figure{margin:1rem 0}"
    )
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{style}</style></head><body><main>{''.join(parts)}</main></body></html>"
    )
