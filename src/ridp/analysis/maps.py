"""Maps of areas and places: choropleths, point maps and hot-spot maps as Altair (Vega-Lite) charts.

Every map carries its polygons inline (no URL anywhere in the spec), so it renders offline with
vl-convert through :func:`ridp.analysis.charts.to_svg`, :func:`~ridp.analysis.charts.to_png` and
:func:`~ridp.analysis.charts.to_vega`, and in a browser without fetching anything.

Colours are colour-blind safe: sequential ``viridis`` or ``cividis``, diverging ``blueorange`` centred on
a meaningful value (0 for scores, 1 for ratios), and the Okabe-Ito palette for categories. Areas without
a value are drawn light grey and named "no data" in a legend of their own. Each map has a title, legend
titles with units, tooltips with the area's name, its value and the requests or residents behind it, and a
short text ``description`` for screen readers. Polygons are longitude/latitude (WGS84), drawn in a Mercator
projection fitted to the areas, with their rings turned the way Vega's spherical geometry reads them.

Examples
--------
>>> from shapely.geometry import box
>>> from ridp.analysis.boundaries import Boundaries
>>> b = Boundaries.from_records(["A", "B"], [box(-71.1, 42.3, -71.0, 42.4), box(-71.0, 42.3, -70.9, 42.4)])
>>> chart = choropleth(b, {"A": 3.5}, title="Requests per km²", legend_title="Requests per km²")
>>> "http" in str({k: v for k, v in chart.to_dict().items() if k != "$schema"})
False
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final, Literal, cast

import altair as alt
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import mapping as shape_mapping

from ridp.analysis._values import plain as _plain
from ridp.analysis.boundaries import Boundaries
from ridp.errors import FieldError

if TYPE_CHECKING:
    from ridp.analysis.hotspots import HotSpots

__all__ = ["DIVERGING", "NO_DATA", "OKABE_ITO", "SEQUENTIAL", "choropleth", "hot_spot_map", "point_map"]

SEQUENTIAL: Final[tuple[str, ...]] = ("viridis", "cividis")
DIVERGING: Final[tuple[str, ...]] = ("blueorange",)
#: Okabe & Ito (2008), the categorical palette readable with every common colour-vision deficiency
#: (the darker colours first: they stand out best on a light map).
OKABE_ITO: Final[tuple[str, ...]] = (
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#F0E442",
)  # fmt: skip
NO_DATA: Final = "#d9d9d9"
OUTLINE: Final = "#ffffff"
WIDTH: Final = 520
#: Simplify polygons to about this share of the map's larger side (a pixel or so at the default size).
SIMPLIFY_SHARE: Final = 1 / 1500
DIGITS: Final = 5  # about a metre in latitude: enough to draw, light to carry
_CLASS_LABELS: Final = {
    "hot": "hot spot",
    "cold": "cold spot",
    "not significant": "not significant",
    "no neighbours": "no neighbours (not tested)",
    "no data": "no data",
}
_CLASS_COLOURS: Final = {
    "hot": "#D55E00",  # Okabe-Ito vermillion
    "cold": "#0072B2",  # Okabe-Ito blue
    "not significant": "#f2f2f2",
    "no neighbours": "#a6a6a6",
    "no data": NO_DATA,
}


def _geometry(g: Any, tolerance: float | None) -> dict[str, Any]:
    if tolerance:
        g = shapely.simplify(g, tolerance, preserve_topology=True)
    g = shapely.transform(g, lambda xy: np.round(xy, DIGITS))
    # Vega draws on the sphere (d3-geo): an exterior ring must run clockwise, the reverse of RFC 7946, or the
    # polygon is read as the whole globe but the area.
    return dict(shape_mapping(shapely.orient_polygons(g, exterior_cw=True)))


def _tolerance(boundaries: Boundaries, simplify: float | Literal["auto"] | None) -> float | None:
    if simplify is None or simplify == 0:
        return None
    if simplify == "auto":
        x0, y0, x1, y1 = boundaries.bounds
        return max(x1 - x0, y1 - y0) * SIMPLIFY_SHARE
    if isinstance(simplify, bool) or not isinstance(simplify, (int, float)) or simplify < 0:
        raise FieldError("simplify", f"{simplify!r} is a tolerance in degrees, 'auto' or None")
    return float(simplify)


def _features(
    boundaries: Boundaries, rows: Mapping[str, Mapping[str, Any]], tolerance: float | None
) -> list[dict[str, Any]]:
    """One GeoJSON Feature per area, with its values beside ``area_id`` and ``name`` (for Vega-Lite fields)."""
    out = []
    for a, name, g in zip(boundaries.ids, boundaries.names, boundaries.geometries, strict=True):
        values = {k: _plain(v) for k, v in rows.get(a, {}).items() if k not in ("area_id", "name")}
        out.append(
            {"type": "Feature", "geometry": _geometry(g, tolerance), "area_id": a, "name": name, **values,
             "properties": {"area_id": a, "name": name}}
        )  # fmt: skip
    return out


def _size(boundaries: Boundaries, width: int) -> tuple[int, int]:
    """Width and height whose ratio is the areas' own in a Mercator projection."""
    x0, y0, x1, y1 = boundaries.bounds
    span_x = max(x1 - x0, 1e-9) * math.cos(math.radians((y0 + y1) / 2))
    height = width * max(y1 - y0, 1e-9) / span_x
    return width, int(min(max(height, 160), 2 * width))


def _values_frame(values: pd.DataFrame | Mapping[str, float], column: str) -> pd.DataFrame:
    if isinstance(values, pd.DataFrame):
        frame = values
        if "area_id" not in frame.columns:
            if frame.index.name != "area_id":
                raise FieldError("values", "needs an area_id column (or index) to join the areas on")
            frame = frame.reset_index()
        if column not in frame.columns:
            raise FieldError("column", f"{column!r} is not a column of the values")
    elif isinstance(values, Mapping):
        frame = pd.DataFrame({"area_id": [str(k) for k in values], column: list(values.values())})
    else:
        raise FieldError("values", "are a table with area_id, or a mapping of area id to value")
    frame = frame.assign(area_id=frame["area_id"].astype(str))
    if frame["area_id"].duplicated().any():
        repeated = ", ".join(frame.loc[frame["area_id"].duplicated(), "area_id"].head(5))
        raise FieldError("values", f"name an area more than once (e.g. {repeated})")
    return frame


def _title(title: str, subtitle: Sequence[str]) -> alt.TitleParams:
    lines = [s for s in subtitle if s]
    return (
        alt.TitleParams(text=title, subtitle=lines, anchor="start") if lines else alt.TitleParams(title, anchor="start")
    )


def choropleth(
    boundaries: Boundaries,
    values: pd.DataFrame | Mapping[str, float],
    *,
    column: str = "value",
    title: str,
    legend_title: str,
    scheme: str | None = None,
    diverging: bool = False,
    midpoint: float = 0.0,
    label_format: str = ",.1f",
    description: str | None = None,
    details: Sequence[str] = ("requests", "residents"),
    simplify: float | Literal["auto"] | None = "auto",
    width: int = WIDTH,
) -> alt.LayerChart:
    """Areas coloured by a value, joined on ``area_id``; areas without a value drawn grey as "no data".

    Parameters
    ----------
    boundaries
        The areas (their ``ids`` are what ``values`` join on).
    values
        A table with ``area_id`` and ``column`` (and, for the tooltip, any of ``details``), or a mapping
        of area id to value.
    title, legend_title
        The map's title, and the legend's (say the unit: "Requests per 1,000 residents").
    scheme
        ``viridis`` (default) or ``cividis``; with ``diverging``, ``blueorange`` (default).
    diverging, midpoint
        A diverging scale centred on ``midpoint``: 0 for scores, 1 for ratios.
    label_format
        d3 format of the value in the legend and tooltip.
    description
        A short text for screen readers (a default one says what is shown and how many areas lack data).
    details
        Columns of ``values`` shown in the tooltip when present (the residents or requests behind a value).
    simplify
        Polygon simplification in degrees; ``auto`` keeps about a pixel, None draws every vertex.
    """
    scheme = scheme or ("blueorange" if diverging else "viridis")
    allowed = DIVERGING if diverging else SEQUENTIAL
    if scheme not in allowed:
        kind = "diverging" if diverging else "sequential"
        raise FieldError("scheme", f"{scheme!r}: a {kind} map uses one of {', '.join(allowed)} (colour-blind safe)")
    frame = _values_frame(values, column)
    frame = frame[frame[column].notna()]
    known = set(boundaries.ids)
    stray = [a for a in frame["area_id"] if a not in known]
    frame = frame[frame["area_id"].isin(known)]
    extra = [d for d in details if d in frame.columns and d != column]
    rows = {str(r["area_id"]): {"value": r[column], **{d: r[d] for d in extra}} for r in frame.to_dict("records")}
    features = _features(boundaries, rows, _tolerance(boundaries, simplify))
    with_value = [f for f in features if f.get("value") is not None]
    without = [dict(f, status="no data") for f in features if f.get("value") is None]
    if not with_value:
        raise FieldError("values", "give no value for any of the areas")
    named: Any = scheme  # checked above against the colour-blind-safe schemes
    scale = alt.Scale(scheme=named, domainMid=midpoint) if diverging else alt.Scale(scheme=named)
    tooltip: list[Any] = [
        alt.Tooltip("name:N", title="Area"),
        alt.Tooltip("value:Q", title=legend_title, format=label_format),
        *[alt.Tooltip(f"{d}:Q", title=d.capitalize(), format=",.0f") for d in extra],
    ]
    shaded = (
        alt.Chart(alt.InlineData(values=with_value))
        .mark_geoshape(stroke=OUTLINE, strokeWidth=0.5)
        .encode(
            color=alt.Color("value:Q", scale=scale, legend=alt.Legend(title=legend_title, format=label_format)),
            tooltip=tooltip,
        )
    )
    layers: list[Any] = [shaded]
    subtitle = []
    if without:
        layers.append(
            alt.Chart(alt.InlineData(values=without))
            .mark_geoshape(stroke=OUTLINE, strokeWidth=0.5)
            .encode(
                color=alt.Color(
                    "status:N", scale=alt.Scale(domain=["no data"], range=[NO_DATA]), legend=alt.Legend(title=None)
                ),
                tooltip=[alt.Tooltip("name:N", title="Area"), alt.Tooltip("status:N", title=legend_title)],
            )
        )
        subtitle.append(
            f"{len(without)} of {len(features)} areas {'has' if len(without) == 1 else 'have'} no data (grey)"
        )
    if stray:
        subtitle.append(f"{len(stray)} value(s) name no area of the map and are not drawn")
    w, h = _size(boundaries, width)
    text = description or (
        f"Map of {len(features)} areas of {boundaries.name} coloured by {legend_title.lower()}"
        + (f"; {len(without)} {'area has' if len(without) == 1 else 'areas have'} no data" if without else "")
        + "."
    )
    chart = alt.layer(*layers, title=_title(title, subtitle), description=text).resolve_scale(color="independent")
    return cast(alt.LayerChart, chart.project(type="mercator").properties(width=w, height=h))


def point_map(
    boundaries: Boundaries,
    points: pd.DataFrame,
    *,
    lat: str = "latitude",
    lon: str = "longitude",
    color: str | None = None,
    max_points: int = 5000,
    seed: int = 0,
    title: str | None = None,
    description: str | None = None,
    simplify: float | Literal["auto"] | None = "auto",
    width: int = WIDTH,
) -> alt.LayerChart:
    """Area outlines with one dot per point; beyond ``max_points``, a seeded random sample (said in the subtitle).

    Points without coordinates, at (0, 0), or far outside the areas (more than half the map's size beyond
    its edge) are not drawn, and the subtitle says how many. ``color`` names a column to colour the points by
    (the seven most frequent values in the Okabe-Ito palette, the rest as "other").

    Examples
    --------
    >>> from shapely.geometry import box
    >>> b = Boundaries.from_records(["A"], [box(-71.1, 42.3, -71.0, 42.4)])
    >>> pts = pd.DataFrame({"latitude": [42.35] * 10, "longitude": [-71.05] * 10})
    >>> point_map(b, pts, max_points=4).title.subtitle
    ['a random sample of 4 of 10 points (seed 0)']
    """
    for name, col in (("lat", lat), ("lon", lon)):
        if col not in points.columns:
            raise FieldError(name, f"{col!r} is not a column of the points")
    if color is not None and color not in points.columns:
        raise FieldError("color", f"{color!r} is not a column of the points")
    if isinstance(max_points, bool) or not isinstance(max_points, int) or max_points < 1:
        raise FieldError("max_points", f"{max_points!r} is not a positive whole number")
    y = pd.to_numeric(points[lat], errors="coerce")
    x = pd.to_numeric(points[lon], errors="coerce")
    x0, y0, x1, y1 = boundaries.bounds
    pad_x, pad_y = (x1 - x0) / 2, (y1 - y0) / 2
    near = x.between(x0 - pad_x, x1 + pad_x) & y.between(y0 - pad_y, y1 + pad_y) & ~((x == 0) & (y == 0))
    data = pd.DataFrame({"latitude": y, "longitude": x})
    if color is not None:
        data["group"] = points[color].astype("string").fillna("(none)")
    data = data[near.fillna(False)]
    subtitle = []
    drawable = len(data)
    if drawable > max_points:
        data = data.sample(n=max_points, random_state=seed).sort_index()
        subtitle.append(f"a random sample of {max_points:,} of {drawable:,} points (seed {seed})")
    if len(points) > drawable:
        subtitle.append(
            f"{len(points) - drawable:,} of {len(points):,} points have no usable location and are not drawn"
        )
    outlines = (
        alt.Chart(alt.InlineData(values=_features(boundaries, {}, _tolerance(boundaries, simplify))))
        .mark_geoshape(fill="#f5f5f5", stroke="#8c8c8c", strokeWidth=0.6)
        .encode(tooltip=[alt.Tooltip("name:N", title="Area")])
    )
    tooltip: list[Any] = [alt.Tooltip("latitude:Q", format=".5f"), alt.Tooltip("longitude:Q", format=".5f")]
    if color is not None:
        top = data["group"].value_counts().index[: len(OKABE_ITO) - 1].tolist()
        data = data.assign(group=data["group"].where(data["group"].isin(top), "other"))
        domain = [*top, *(["other"] if (data["group"] == "other").any() else [])]
        dots = (
            alt.Chart(data)
            .mark_circle(size=9, opacity=0.65)
            .encode(
                longitude="longitude:Q",
                latitude="latitude:Q",
                color=alt.Color(
                    "group:N", title=color, scale=alt.Scale(domain=domain, range=list(OKABE_ITO[: len(domain)]))
                ),
                tooltip=[alt.Tooltip("group:N", title=color), *tooltip],
            )
        )
    else:
        dots = (
            alt.Chart(data)
            .mark_circle(size=9, opacity=0.65, color=OKABE_ITO[0])
            .encode(longitude="longitude:Q", latitude="latitude:Q", tooltip=tooltip)
        )
    heading = title or f"{len(points):,} points in {boundaries.name}"
    text = description or (
        f"Map of {len(data):,} points over the outlines of {len(boundaries)} areas of {boundaries.name}"
        + (f", coloured by {color}" if color else "")
        + "."
    )
    w, h = _size(boundaries, width)
    chart = alt.layer(outlines, dots, title=_title(heading, subtitle), description=text)
    return cast(alt.LayerChart, chart.project(type="mercator").properties(width=w, height=h))


def hot_spot_map(hot_spots: HotSpots, boundaries: Boundaries | None = None) -> alt.LayerChart:
    """Hot spots, cold spots and the rest, in colour-blind-safe colours, with a legend naming the correction.

    ``boundaries`` defaults to the polygons the analysis used (a result read back from JSON needs them).
    """
    areas = boundaries if boundaries is not None else hot_spots._boundaries
    if areas is None:
        raise FieldError("boundaries", "give the boundaries: a result read back from JSON holds no polygons")
    frame = hot_spots.to_pandas()
    frame["label"] = frame["class"].map(_CLASS_LABELS)
    shown = ["label", "z", "p_corrected", "rate", "requests", "residents"]
    rows = {str(r["area_id"]): {k: r[k] for k in shown} for r in frame.to_dict("records")}
    features = _features(areas, rows, _tolerance(areas, "auto"))
    for f in features:
        f["label"] = f.get("label") or "no data"
    present = {str(f["label"]) for f in features}
    classes = [c for c in _CLASS_LABELS if c in ("hot", "cold", "not significant") or _CLASS_LABELS[c] in present]
    level = {
        "fdr": f"{100 * hot_spots.alpha:g}% false-discovery rate (Benjamini-Hochberg)",
        "bonferroni": f"{100 * hot_spots.alpha:g}% family-wise (Bonferroni)",
        "none": f"p ≤ {hot_spots.alpha:g}, no correction",
    }[hot_spots.correction]
    legend_title = f"Gi* at {level}"
    tooltip: list[Any] = [
        alt.Tooltip("name:N", title="Area"),
        alt.Tooltip("label:N", title="Class"),
        alt.Tooltip("z:Q", title="Gi* z", format=".2f"),
        alt.Tooltip("p_corrected:Q", title="p (corrected)", format=".4f"),
        alt.Tooltip("rate:Q", title=hot_spots.rate_unit.capitalize(), format=",.2f"),
        alt.Tooltip("requests:Q", title="Requests", format=",.0f"),
    ]
    if frame["residents"].notna().any():
        tooltip.append(alt.Tooltip("residents:Q", title="Residents", format=",.0f"))
    shapes = (
        alt.Chart(alt.InlineData(values=features))
        .mark_geoshape(stroke="#ffffff", strokeWidth=0.5)
        .encode(
            color=alt.Color(
                "label:N",
                scale=alt.Scale(domain=[_CLASS_LABELS[c] for c in classes], range=[_CLASS_COLOURS[c] for c in classes]),
                legend=alt.Legend(title=legend_title, labelLimit=260, titleLimit=420),
            ),
            tooltip=tooltip,
        )
    )
    hot, cold = len(hot_spots.hot), len(hot_spots.cold)
    contiguity = "queen (touching at a point)" if hot_spots.weights == "queen" else "rook (sharing an edge)"
    subtitle = [
        f"{hot_spots.rate_unit.capitalize()}; {contiguity} contiguity; "
        + (f"{hot_spots.permutations:,} permutations" if hot_spots.inference == "permutation" else "normal p-values"),
        f"{hot} hot spot{'s' if hot != 1 else ''}, {cold} cold spot{'s' if cold != 1 else ''}",
    ]
    text = (
        f"Hot-spot map of {len(features)} areas of {areas.name}: {hot} hot spots and {cold} cold spots of "
        f"{hot_spots.rate_unit} (Getis-Ord Gi*, {level})."
    )
    w, h = _size(areas, WIDTH)
    layered = alt.layer(shapes, title=_title(f"Hot spots of {hot_spots.rate_unit}, {areas.name}", subtitle),
                        description=text)  # fmt: skip
    return cast(alt.LayerChart, layered.project(type="mercator").properties(width=w, height=h))
